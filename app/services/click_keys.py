"""Per-click keys for buttons that start a job.

A page arms a fresh key when its form is (re)loaded and its button sends that key with the event,
so both events of a double click carry the same key: the first claims it (Redis SET NX, through
the same service as the REST Idempotency-Key) and the second starts nothing.
"""

from __future__ import annotations

import uuid

from app.errors import AppError
from app.services import idempotency


def new_click_key() -> str:
    return uuid.uuid4().hex


def first_click(*, user_id: int, scope: str, key: str) -> bool:
    """True for the first event of a click; False for its repeats (and for a key no page made)."""
    try:
        return idempotency.claim_click(user_id=user_id, scope=scope, key=key)
    except AppError:
        return False
