"""Waiting on real processes without sleeping blind: poll a condition with a deadline."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time

from app.db import read_scope
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
    """The job row as it is now, read without SQLite's write lock: a poll every 50 ms must not queue the
    workers' own writes behind it."""
    with read_scope() as session:
        job = session.get(Job, job_id)
        if job is not None:
            session.expunge(job)
        return job


def stop_worker_group(proc) -> None:
    """Stop a test's worker and everything in its process group, the dead ones' too: a SIGKILLed worker's RQ
    scheduler child lives on in the group, bound to this run's Redis, and used to disturb the next test."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.poll()
