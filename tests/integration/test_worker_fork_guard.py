"""A work horse is never forked while another thread of its worker is inside a database transaction.

SQLite keeps a process's locks in memory as well as on the file; a child forked mid-transaction inherits the
memory but not the file lock, and its own first BEGIN IMMEDIATE then fails ("database is locked") however long
it waits. The reaper thread writes every pass, and when it re-queues a lost job the horse is forked at once:
jobs.worker.FORK_GUARD makes the two take turns. These tests show the failure, the cure, and that the worker's
fork and reaper both take the guard.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time

import pytest
from rq import Worker
from sqlalchemy import text

from app.db import get_engine, session_scope
from jobs import worker as worker_module

BUSY_MS = 500  # the child's busy timeout: long past the parent's transaction, short for the test


def _fork_and_begin_write() -> bool:
    """Fork; the child opens its own connection and tries BEGIN IMMEDIATE. Whether it got the lock."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: leave only by os._exit
        ok = b"0"  # "database is locked" (or anything else) leaves it so
        try:
            os.close(read)
            time.sleep(0.6)  # the parent's transaction (0.3 s) is long over
            with get_engine().connect() as conn:
                raw = conn.connection.driver_connection  # no SQLAlchemy autobegin: its wait would be 30 s
                raw.execute(f"PRAGMA busy_timeout={BUSY_MS}")
                raw.execute("BEGIN IMMEDIATE")
                raw.execute("ROLLBACK")
                ok = b"1"
        except Exception:  # the answer is the byte written below
            pass
        finally:
            os.write(write, ok)
            os._exit(0)
    os.close(write)
    answer = os.read(read, 1)
    os.waitpid(pid, 0)
    os.close(read)
    return answer == b"1"


def _write_in_a_thread(guard: threading.Lock | None) -> threading.Thread:
    """A thread inside a 0.3 s write transaction (under `guard` when given), once this returns."""
    inside = threading.Event()

    def write():
        with guard or contextlib.nullcontext(), session_scope() as session:
            session.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: this process holds the writer lock
            inside.set()
            time.sleep(0.3)

    thread = threading.Thread(target=write)
    thread.start()
    assert inside.wait(5)
    return thread


def test_a_child_forked_mid_transaction_can_never_write(env):
    get_engine().dispose()
    thread = _write_in_a_thread(None)
    assert not _fork_and_begin_write()  # SQLite's behaviour, which the guard exists for
    thread.join()


def test_with_the_guard_the_fork_waits_for_the_transaction_and_the_child_writes(env):
    get_engine().dispose()
    thread = _write_in_a_thread(worker_module.FORK_GUARD)
    with worker_module.FORK_GUARD:
        assert _fork_and_begin_write()
    thread.join()


def test_the_worker_forks_and_reaps_under_the_guard(env, monkeypatch):
    held = []
    monkeypatch.setattr(Worker, "fork_work_horse", lambda self, job, queue: held.append(
        ("fork", worker_module.FORK_GUARD.locked())))
    worker_module.AtelierWorker.fork_work_horse(object.__new__(worker_module.AtelierWorker), None, None)

    stop = threading.Event()

    def reap_once(pulse):
        held.append(("reap", worker_module.FORK_GUARD.locked()))
        stop.set()

    monkeypatch.setattr(worker_module, "reap_once", reap_once)
    monkeypatch.setenv("REAPER_INTERVAL_SECONDS", "1")
    from tests.conftest import clear_caches

    clear_caches()
    worker_module._reaper_loop(stop, pulse=None)
    assert held == [("fork", True), ("reap", True)]
    assert not worker_module.FORK_GUARD.locked()


@pytest.fixture(autouse=True)
def _guard_released():
    yield
    assert not worker_module.FORK_GUARD.locked()
