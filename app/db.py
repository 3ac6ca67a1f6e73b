"""Database engine and sessions, built once from settings."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, create_engine

from app import auth_epoch
from app.settings import get_settings

# Every session of every process moves the credentials epoch when it commits a revocation (token caches).
auth_epoch.install()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            # pysqlite's own transaction handling breaks SAVEPOINTs (a rolled-back outer
            # transaction kept inner writes); SQLAlchemy's documented fix is to take over BEGIN.
            dbapi_conn.isolation_level = None
            # WAL lets the web process read while a worker writes.
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn):
            # Take the write lock up front: two deferred transactions that both upgrade to
            # writing would otherwise fail with "database is locked" instead of waiting.
            # Read-only scopes (read_scope) begin deferred: under WAL they never wait for writers.
            deferred = conn.get_execution_options().get("read_only", False)
            conn.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")

        return engine
    engine = create_engine(url)
    _ping_when_idle(engine)
    return engine


# A pooled PostgreSQL connection back from a request less than this long ago is handed out without a ping.
# SQLAlchemy's pool_pre_ping costs a round trip on every checkout — one more on each of a webhook's few
# statements. A server restart inside this window fails the next request once, and that failure invalidates
# the whole pool (SQLAlchemy's disconnect handling), so every later checkout gets a fresh connection.
PING_AFTER_IDLE_SECONDS = 1.0


def _ping_when_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_conn, record):
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_conn, record, _proxy):
        returned = record.info.get("returned_at")  # None: connected just now
        if returned is None or time.monotonic() - returned < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:
            # The documented signal: the pool drops this connection and checks out another (a fresh one).
            raise DisconnectionError("the pooled connection did not answer its ping") from exc


@lru_cache
def get_engine() -> Engine:
    return make_engine(get_settings().database_url)


def _drop_inherited_pool() -> None:
    # An RQ work horse is a fork of its worker: it must not use the parent's pooled connections
    # (SQLite forbids carrying a connection across fork; a shared PostgreSQL socket would mix two
    # conversations). close=False leaves the parent's connections alone.
    if get_engine.cache_info().currsize:
        get_engine().dispose(close=False)


os.register_at_fork(after_in_child=_drop_inherited_pool)


_AFTER_COMMIT = "atelier_after_commit"
_AFTER_COMMIT_ERROR = "atelier_after_commit_error"


def after_commit(session: Session, action: Callable[[], None]) -> None:
    """Run `action` once this session's transaction has committed (never if it rolls back): an enqueue that
    must not reach a worker before the rows it reads exist. An action that raises does not undo the commit;
    `session_scope` raises its error once the commit is done (raising inside the commit would leave the
    session unusable), after the other actions ran."""
    session.info.setdefault(_AFTER_COMMIT, []).append(action)


def _run_after_commit(session: OrmSession) -> None:
    for action in session.info.pop(_AFTER_COMMIT, []):
        try:
            action()
        except Exception as exc:  # the first error is raised by session_scope; the rest still run
            session.info.setdefault(_AFTER_COMMIT_ERROR, exc)


def _drop_after_rollback(session: OrmSession) -> None:
    session.info.pop(_AFTER_COMMIT, None)


for _name, _listener in (("after_commit", _run_after_commit), ("after_rollback", _drop_after_rollback)):
    if not event.contains(OrmSession, _name, _listener):
        event.listen(OrmSession, _name, _listener)


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session that commits on success and rolls back on error; then raises what an after-commit action
    (see `after_commit`) raised."""
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except Exception:
            session.rollback()
            raise
        error = session.info.pop(_AFTER_COMMIT_ERROR, None)
        if error is not None:
            raise error


class _OneWriter:
    """SQLite takes one writer at a time, and a writer that finds the database locked waits in SQLite's busy
    handler, which sleeps and tries again (sleeps growing to 100 ms): eight webhook deliveries in flight
    made a p99 of ~340 ms out of ~3 ms of work. Threads of one process queue on this lock instead and go
    as soon as the one before them is done. Other processes (workers) still meet SQLite's own lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        # A fork taken while another thread held it would leave the child's copy locked for good.
        os.register_at_fork(after_in_child=self._after_fork)

    def _after_fork(self) -> None:
        self.lock = threading.Lock()


_one_writer = _OneWriter()


@contextmanager
def write_turn() -> Iterator[None]:
    """Wrap a whole write transaction that many threads of this process run at once (webhook deliveries):
    on SQLite they take turns on a process lock, held about as long as SQLite's own write lock would be (the
    transaction takes that at its first statement); elsewhere (PostgreSQL locks rows) it does nothing. Not
    reentrant: never nest it."""
    if get_engine().dialect.name != "sqlite":
        yield
        return
    lock = _one_writer.lock
    with lock:
        yield


@contextmanager
def read_scope() -> Iterator[Session]:
    """A session for reading only (pages following jobs, status polls): on SQLite it does not take
    the write lock, so many readers never queue behind the workers' writes. Nothing is committed."""
    # A light proxy of the one engine (same pool), so caches cleared in tests stay consistent.
    # Closing ends the transaction: the pool rolls the connection back as it takes it in (reset on return). An
    # explicit rollback first did that twice and expired every loaded row, ~15 % of a library page's request.
    with Session(get_engine().execution_options(read_only=True), expire_on_commit=False) as session:
        yield session
