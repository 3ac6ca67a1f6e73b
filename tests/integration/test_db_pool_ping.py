"""PostgreSQL's pool pings a connection only after it sat idle (app.db._ping_when_idle): a connection the server
closed is replaced at checkout when idle, and a connection back from a request just now goes out without one."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app import db

pytestmark = pytest.mark.postgres


def _backend_pid() -> int:
    with db.get_engine().connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


def _terminate(pid: int) -> None:
    # From another connection outside the pool, as a server restart or an idle timeout would.
    engine = db.make_engine(str(db.get_engine().url.render_as_string(hide_password=False)))
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
    finally:
        engine.dispose()


def _count_pings(engine, monkeypatch) -> list[int]:
    pings = [0]
    real = engine.dialect.do_ping

    def counted(dbapi_conn):
        pings[0] += 1
        return real(dbapi_conn)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return pings


def test_an_idle_connection_the_server_closed_is_replaced_at_checkout(any_db, monkeypatch):
    if any_db != "postgres":
        pytest.skip("SQLite has no server to lose")
    pid = _backend_pid()
    _terminate(pid)
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)  # every pooled connection counts as idle
    pings = _count_pings(db.get_engine(), monkeypatch)
    assert _backend_pid() != pid  # the ping failed, the pool handed out a new connection, no error
    assert pings[0] == 1  # the new connection, just made, is not pinged


def test_a_connection_just_returned_goes_out_without_a_ping(any_db, monkeypatch):
    if any_db != "postgres":
        pytest.skip("SQLite has no server to lose")
    pid = _backend_pid()
    pings = _count_pings(db.get_engine(), monkeypatch)
    assert _backend_pid() == pid
    assert pings[0] == 0  # a ping would be one more round trip
    # A connection closed inside the window fails its next statement once; the pool then starts afresh.
    _terminate(pid)
    with pytest.raises(OperationalError):
        _backend_pid()
    assert _backend_pid() != pid
