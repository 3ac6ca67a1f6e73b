"""Waiting on real processes without sleeping blind: poll a condition with a deadline."""

from __future__ import annotations

import time

from app.db import session_scope
from app.models import Job


def wait_for(predicate, timeout: float, what: str):
    """The predicate's first truthy value, polled every 50 ms; AssertionError naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def job_row(job_id: str) -> Job:
    with session_scope() as session:
        return session.get(Job, job_id)
