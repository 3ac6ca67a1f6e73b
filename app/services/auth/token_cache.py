"""A short-lived in-process cache of API tokens resolved to the user they act as, keyed by the token's digest.

Resolving a bearer token is a digest, three primary-key reads and a thread hop per request; with the cache a
hit is a dict lookup in the event loop. An entry is used only while the credentials epoch (app/auth_epoch.py)
is the one read before the lookup that made it — every revocation moves the epoch, so revoked tokens, disabled
accounts and changed roles take effect at the next request in every process — and for at most TTL seconds,
which also bounds how long a missed epoch move (Redis down during a revocation) could last. An expired token is
never answered from here. Only tokens that resolved to a user are kept; unknown tokens always go to the database.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime

from app.models import utcnow
from app.services.auth.accounts import UserPublic

TTL_SECONDS = 10.0
MAX_ENTRIES = 10_000  # distinct live tokens per process before the oldest half is dropped


@dataclass(frozen=True)
class _Entry:
    epoch: int
    user: UserPublic
    expires_at: datetime | None
    stored: float


_entries: dict[str, _Entry] = {}
_lock = threading.Lock()  # writers only: readers see a whole entry or none (one dict operation)


def get(digest: str, epoch: int) -> UserPublic | None:
    entry = _entries.get(digest)
    if entry is None or entry.epoch != epoch or time.monotonic() - entry.stored > TTL_SECONDS:
        return None
    if entry.expires_at is not None and entry.expires_at <= utcnow():
        return None  # the database path answers `token_expired`
    return entry.user


def put(digest: str, epoch: int, user: UserPublic, expires_at: datetime | None) -> None:
    with _lock:
        if len(_entries) >= MAX_ENTRIES:
            for key in list(_entries)[: MAX_ENTRIES // 2]:  # insertion order: the oldest first
                del _entries[key]
        _entries[digest] = _Entry(epoch, user, expires_at, time.monotonic())


def clear() -> None:
    with _lock:
        _entries.clear()
