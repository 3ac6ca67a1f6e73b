"""Plain SQL for the webhook's hot path (SQLAlchemy Core on the session's own connection and transaction).

The ORM costs several times the SQL itself on a webhook's few small rows, and a unit-of-work flush inside a
SAVEPOINT per exactly-once guard costs three statements where one conditional insert does: `INSERT … ON
CONFLICT DO NOTHING` writes nothing when a unique key already holds a row, on SQLite and PostgreSQL alike, and
says so by returning no key. The transaction is not disturbed, so nothing else in it is lost.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert
from sqlmodel import Session


def connection(session: Session) -> Connection:
    """The session's connection in its transaction, with the ORM's pending rows written first (so plain
    statements see them)."""
    session.flush()
    return session.connection()


@cache
def _insert_new(dialect: str, table: Table) -> Insert:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    key = next(iter(table.primary_key.columns))
    # Any unique key (no conflict target). The row written is told by RETURNING, not by the row count:
    # psycopg reports -1 for these inserts.
    return insert(table).on_conflict_do_nothing().returning(key)


def insert_new(conn: Connection, table: Table, values: dict[str, Any]) -> Any:
    """Insert one row unless a unique key already has one: the written row's primary key, None when nothing was
    written."""
    return conn.execute(_insert_new(conn.dialect.name, table), values).scalar()
