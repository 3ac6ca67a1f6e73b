"""Idempotency keys: one answer per (user, key), however often or however concurrently it is sent.

Redis rather than a table, because the part that must be right under two concurrent requests is
the in-flight claim, and `SET NX` is one atomic step that every backend worker sees at once: the
first request claims the key, a second one with the same key waits for the first's stored answer
and replays it (same status and body, no second job, no second charge). A table would need the
claim committed before the work starts plus polling of its own; Redis also expires keys by itself.
What a Redis restart without persistence loses is only the replay window of requests already done.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from dataclasses import dataclass

from app.errors import Conflict, ValidationFailed
from app.redis_client import get_redis

KEEP_SECONDS = 24 * 3600
# A claim whose request died (process killed) frees itself after this; requests here take seconds.
PENDING_SECONDS = 600
# How long a duplicate waits for the first request's answer before it is told to retry.
WAIT_SECONDS = 30.0
_KEY = re.compile(r"^[\x21-\x7e]{1,128}$")  # printable ASCII, as Stripe and the IETF draft allow


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    content_type: str
    body: bytes


def check_key(key: str) -> str:
    if not _KEY.match(key or ""):
        raise ValidationFailed("Idempotency-Key must be 1 to 128 printable ASCII characters.",
                               code="invalid_idempotency_key")
    return key


def _redis_key(user_id: int, scope: str, key: str) -> str:
    return f"atelier:idem:{user_id}:{scope}:{hashlib.sha256(key.encode()).hexdigest()}"


def claim(*, user_id: int, key: str, fingerprint: str, scope: str = "api") -> StoredAnswer | None:
    """None: this caller owns the key and must `store` or `release` it. Otherwise the first answer.

    Raises ValidationFailed when the key was used for a different request, and Conflict when the
    first request is still running after WAIT_SECONDS.
    """
    redis, name = get_redis(), _redis_key(user_id, scope, key)
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        if redis.set(name, json.dumps({"fp": fingerprint}), nx=True, ex=PENDING_SECONDS):
            return None
        raw = redis.get(name)
        if raw is None:
            continue  # released (the first request failed) or expired between the two calls: claim again
        data = json.loads(raw)
        if data["fp"] != fingerprint:
            raise ValidationFailed("This Idempotency-Key was already used for a different request; "
                                   "use a new key for a new request.", code="idempotency_key_reused")
        if "status" in data:
            return StoredAnswer(data["status"], data["content_type"], base64.b64decode(data["body"]))
        if time.monotonic() > deadline:
            raise Conflict("A request with this Idempotency-Key is still being processed; try again shortly.",
                           code="idempotency_in_progress")
        time.sleep(0.05)


def store(*, user_id: int, key: str, fingerprint: str, answer: StoredAnswer, scope: str = "api") -> None:
    get_redis().set(_redis_key(user_id, scope, key), json.dumps({
        "fp": fingerprint, "status": answer.status, "content_type": answer.content_type,
        "body": base64.b64encode(answer.body).decode()}), ex=KEEP_SECONDS)


def release(*, user_id: int, key: str, scope: str = "api") -> None:
    """Forget a claim whose request did not answer for good (5xx, throttled), so a retry runs."""
    get_redis().delete(_redis_key(user_id, scope, key))


def claim_click(*, user_id: int, scope: str, key: str) -> bool:
    """For page handlers: True the first time a (user, page, per-click key) is seen, False after.

    A double click sends the same key twice; the second event finds it claimed and starts nothing.
    An empty key (an old page) is never deduplicated.
    """
    if not key:
        return True
    check_key(key)
    return bool(get_redis().set(_redis_key(user_id, f"ui:{scope}", key), "1", nx=True, ex=KEEP_SECONDS))
