"""SQLite writers of one process queue on a lock (app/sqlite_writers.py): every write lands, reads never wait
for the lock, and the lock is free again after a commit, a rollback and a failed transaction."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from app import sqlite_writers
from app.db import make_engine


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'gate.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE tally (n INTEGER)"))
    yield engine
    engine.dispose()


def test_concurrent_writers_all_land_and_the_lock_ends_free(engine):
    def write(n: int) -> None:
        for _ in range(20):
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO tally VALUES (:n)"), {"n": n})

    threads = [threading.Thread(target=write, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM tally")).scalar_one() == 16 * 20
    assert not sqlite_writers._gate.locked()


def test_a_failed_or_rolled_back_write_frees_the_lock(engine):
    with pytest.raises(RuntimeError), engine.begin() as conn:
        conn.execute(text("INSERT INTO tally VALUES (1)"))
        raise RuntimeError("the handler failed")
    assert not sqlite_writers._gate.locked()
    with engine.connect() as conn:
        conn.execute(text("INSERT INTO tally VALUES (2)"))
        conn.rollback()
        conn.execute(text("INSERT INTO tally VALUES (3)"))  # a second transaction on the same connection
        conn.commit()
        assert sqlite_writers._gate.locked() is True  # still this connection's until it goes back to the pool
    assert not sqlite_writers._gate.locked()
    with engine.connect() as conn:
        assert [r[0] for r in conn.execute(text("SELECT n FROM tally"))] == [3]


def test_a_read_only_transaction_does_not_wait_for_a_writer(engine):
    writer = engine.connect()
    writer.execute(text("INSERT INTO tally VALUES (1)"))  # holds the lock, uncommitted
    try:
        reader = engine.execution_options(read_only=True)
        with reader.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM tally")).scalar_one() == 0
    finally:
        writer.rollback()
        writer.close()
