"""SQLite writers queue in app/sqlite_writer.py before BEGIN IMMEDIATE: one at a time per process, then one at a
time across processes by the lock file; every way a transaction ends hands the turn on; reads never queue."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from app import db
from app.db import get_engine, read_scope, session_scope
from app.models import StylePreset


def _queue():
    from app import sqlite_writer

    engine = get_engine()
    [queue] = [q for q in list(sqlite_writer._queues) if q.lock_path == f"{engine.url.database}-writer.lock"]
    return queue


def _free(queue) -> bool:
    return queue._holder is None and not queue._turn.locked()


def test_every_way_a_transaction_ends_hands_the_turn_on(env):
    with session_scope() as session:
        session.exec(select(StylePreset)).first()
        queue = _queue()
        assert not _free(queue)  # the write transaction holds the turn
    assert _free(queue)  # committed
    with pytest.raises(RuntimeError), session_scope() as session:
        session.exec(select(StylePreset)).first()
        raise RuntimeError("a failing write")
    assert _free(queue)  # rolled back
    with get_engine().connect() as conn:  # closed with its transaction open: the pool's reset rolls back
        conn.execute(text("UPDATE style_preset SET name = name"))
        assert not _free(queue)
    assert _free(queue)
    with read_scope() as session:  # a read never takes a turn
        session.exec(select(StylePreset)).all()
        assert _free(queue)


def test_a_writer_waits_its_turn_in_the_process_and_then_writes(env):
    entered, order = threading.Event(), []

    def second():
        with session_scope() as session:
            session.exec(text("UPDATE style_preset SET name = 'Second' WHERE key = 'photo'"))  # begins here
            order.append("second wrote")

    with session_scope() as session:
        session.exec(text("UPDATE style_preset SET name = 'First' WHERE key = 'photo'"))
        other = threading.Thread(target=lambda: (entered.set(), second()))
        other.start()
        assert entered.wait(10)
        time.sleep(0.5)
        order.append("first commits")
    other.join(30)
    assert order == ["first commits", "second wrote"]
    with read_scope() as session:
        assert session.exec(select(StylePreset.name).where(StylePreset.key == "photo")).one() == "Second"


def _write_from_another_process(url: str, started, result) -> None:
    from app.db import make_engine

    engine = make_engine(url)
    started.set()
    began = time.monotonic()
    with engine.begin() as conn:
        conn.execute(text("UPDATE style_preset SET name = 'Child' WHERE key = 'photo'"))
    result.put(time.monotonic() - began)
    engine.dispose()


def test_another_process_waits_on_the_lock_file_then_writes(env):
    context = multiprocessing.get_context("spawn")
    started, result = context.Event(), context.Queue()
    with session_scope() as session:
        session.exec(text("UPDATE style_preset SET name = 'Parent' WHERE key = 'photo'"))
        child = context.Process(target=_write_from_another_process,
                                args=(str(get_engine().url), started, result))
        child.start()
        assert started.wait(60)
        time.sleep(1.0)
        assert result.empty()  # still waiting for this transaction
    waited = result.get(timeout=60)
    child.join(30)
    assert child.exitcode == 0 and waited >= 0.9
    with read_scope() as session:
        assert session.exec(select(StylePreset.name).where(StylePreset.key == "photo")).one() == "Child"


def test_waiting_past_the_busy_timeout_is_database_is_locked(env, monkeypatch):
    monkeypatch.setattr(db, "SQLITE_BUSY_SECONDS", 0.3)
    engine = db.make_engine(str(get_engine().url))
    try:
        with session_scope() as session:
            session.exec(text("UPDATE style_preset SET name = 'Held' WHERE key = 'photo'"))
            failed: list[BaseException] = []

            def late():
                try:
                    with engine.begin() as conn:
                        conn.execute(text("UPDATE style_preset SET name = 'Late' WHERE key = 'photo'"))
                except OperationalError as exc:
                    failed.append(exc)

            other = threading.Thread(target=late)
            other.start()
            other.join(30)
        assert len(failed) == 1 and "database is locked" in str(failed[0])
        assert isinstance(failed[0].orig, sqlite3.OperationalError)
    finally:
        engine.dispose()


def _child_can_write(url: str, answer) -> None:
    from app.db import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("SELECT 1"))
    answer.put("ok")


def test_a_forked_child_starts_with_the_turn_free(env):
    """An RQ work horse is a fork: a turn its parent's thread held at that moment is not the child's."""
    with session_scope() as session:
        session.exec(select(StylePreset)).first()
        queue = _queue()
        context = multiprocessing.get_context("fork")
        answer = context.Queue()
        child = context.Process(target=lambda: answer.put(_free(queue)))
        child.start()
        child.join(30)
        assert answer.get(timeout=5) is True
        assert not _free(queue)  # the parent's turn is still held here
