"""One SQLite writer per process at a time, queued on a Python lock instead of SQLite's busy handler.

SQLite lets one transaction write; the others wait in its busy handler, which sleeps between tries (up to
100 ms each) rather than waking when the lock frees. With dozens of request threads writing at once, a write
waited seconds behind writes that took milliseconds (bench/web_load.py: p99 of a small write 5.7 s, 5 s
timeouts). Here a process's writers wait on a lock that wakes the next one at once, so at most one thread per
process meets the busy handler (contending with other processes: workers, other web workers).
"""

from __future__ import annotations

import os
import sqlite3
import threading

from sqlalchemy import event
from sqlalchemy.engine import Engine

WAIT_SECONDS = 30  # as long as the busy timeout it stands in front of
_HOLDS = "atelier_write_gate"
_gate = threading.Lock()


def _reset_after_fork() -> None:
    # A fork (an RQ work horse) copies the lock as it was: held, maybe, by a thread that the child lacks.
    global _gate
    _gate = threading.Lock()


os.register_at_fork(after_in_child=_reset_after_fork)


def begin_write(conn) -> None:
    """BEGIN IMMEDIATE once this process's other writers are done (raises like SQLite after WAIT_SECONDS).

    Held until the connection goes back to the pool (right after the COMMIT or ROLLBACK: a session hands its
    connection back when its transaction ends), not at SQLAlchemy's commit event, which comes before the
    COMMIT itself; a connection that begins again before that keeps it."""
    if not conn.info.get(_HOLDS):
        if not _gate.acquire(timeout=WAIT_SECONDS):
            raise sqlite3.OperationalError("database is locked (another writer of this process held it too long)")
        conn.info[_HOLDS] = True
    try:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        _release(None, conn.info)
        raise


def _release(_dbapi_conn, record, *_args) -> None:
    info = record if isinstance(record, dict) else record.info
    if info.pop(_HOLDS, False):
        _gate.release()


def install(engine: Engine) -> None:
    event.listen(engine.pool, "checkin", _release)
    event.listen(engine.pool, "invalidate", _release)
