"""SQLite's one writer, queued by us instead of by SQLite's busy handler.

A write transaction that finds the database locked waits in SQLite's busy handler, which sleeps and retries
(1, 2, 5 … up to 100 ms between tries) rather than queueing: a writer that arrives just as the lock is freed
takes it while those asleep keep sleeping. With many writers (64 clients, two web processes, RQ workers) the
unlucky ones waited for seconds (bench/web_load.py: write p99 4.9 s, timeouts). So writers queue before
`BEGIN IMMEDIATE`: on a lock in their process, then on an exclusive `flock` of a file beside the database shared
by every process, and reach SQLite only when nobody else writes. SQLite's own lock stays the authority: this
only orders the waiting, so a writer that got past it (another program) costs waiting, never a wrong result.
Waiting ends with "database is locked" after the same time SQLite's busy timeout gave.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
import weakref

from sqlalchemy.exc import OperationalError

_queues: weakref.WeakSet = weakref.WeakSet()
# Between tries for another process's turn: short, since at most one writer per process tries at a time.
POLL_SECONDS = (0.0005, 0.001, 0.002)


def _locked(why: str) -> OperationalError:
    # As SQLAlchemy wraps SQLite's own "database is locked" (the outage handlers answer it with a 503).
    return OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError(f"database is locked ({why})"))


def _raw(connection) -> object:
    """The DBAPI connection under a pool's proxy (the key a writer is known by)."""
    return getattr(connection, "dbapi_connection", None) or connection


class WriterQueue:
    """The writers of one SQLite database file in this process, and its lock file for the others."""

    def __init__(self, database: str | None, timeout: float) -> None:
        self.lock_path = f"{database}-writer.lock" if database and database != ":memory:" else None
        self.timeout = timeout
        self._fresh()
        _queues.add(self)

    def _fresh(self) -> None:
        self._turn = threading.Lock()
        self._holder: int | None = None  # id() of the DBAPI connection whose transaction holds the turn
        self._fd: int | None = None  # opened on first use; a forked child opens its own

    def acquire(self, connection) -> None:
        """Wait for this connection's turn to write; raises OperationalError ("database is locked") after the
        timeout."""
        deadline = time.monotonic() + self.timeout
        if not self._turn.acquire(timeout=self.timeout):
            raise _locked("waited for the writers before this one")
        try:
            self._lock_file(deadline)
        except BaseException:
            self._turn.release()
            raise
        self._holder = id(_raw(connection))

    def release(self, connection) -> None:
        """End this connection's turn, if it has one (commit, rollback, close: each may come first)."""
        if self._holder is None or self._holder != id(_raw(connection)):
            return
        self._holder = None
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._turn.release()

    def _lock_file(self, deadline: float) -> None:
        if self.lock_path is None:
            return
        if self._fd is None:
            self._fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        tries = 0
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise _locked("another process kept writing") from None
                time.sleep(POLL_SECONDS[min(tries, len(POLL_SECONDS) - 1)])
                tries += 1


def install(engine, timeout: float) -> WriterQueue:
    """Queue the engine's write transactions: its `begin` listener calls acquire before `BEGIN IMMEDIATE`; the
    dialect's commit, rollback and close release (a pool's reset and a dropped connection included)."""
    queue = WriterQueue(engine.url.database, timeout)
    dialect = engine.dialect
    for name in ("do_commit", "do_rollback", "do_close", "do_terminate"):
        real = getattr(dialect, name)

        def ending(connection, _real=real):
            try:
                _real(connection)
            finally:
                queue.release(connection)

        setattr(dialect, name, ending)
    return queue


def _after_fork_in_child() -> None:
    # The parent's lock may be held by one of its threads, and its flock belongs to its open file: start afresh.
    for queue in list(_queues):
        queue._fresh()


os.register_at_fork(after_in_child=_after_fork_in_child)
