"""The database half of a backup: a consistent dump, its restore, and what revision and rows a database holds.

SQLite is copied with its online backup API (a consistent snapshot while the app writes); PostgreSQL with
`pg_dump --format=custom` (one snapshot transaction), restored with `pg_restore`.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import inspect, select, text
from sqlalchemy.engine import URL, Engine, make_url

from app.db import make_engine

# Tables the migrations fill on a fresh install (starter styles, denylist, the free plan): rows there do not
# make an install "non-empty".
SEEDED_TABLES = frozenset({"style_preset", "denylist_term", "plan", "plan_version", "alembic_version"})
# A dump or restore of a large database may take a while; past this, something is stuck.
PG_TOOL_SECONDS = 3600


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why, for the person at the terminal."""


def kind_of(database_url: str) -> str:
    name = make_url(database_url).get_backend_name()
    if name in ("sqlite", "postgresql"):
        return name
    raise BackupError(f"backups support SQLite and PostgreSQL, not {name}")


def sqlite_path(database_url: str) -> Path:
    database = make_url(database_url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return found


def _pg_args(url: URL) -> tuple[list[str], dict]:
    """libpq connection options and environment: the password goes in PGPASSWORD, never on a command line
    that `ps` shows."""
    args = ["--dbname", url.database or "postgres"]
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    return args, env


def _run(argv: list[str], env: dict, what: str) -> None:
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=PG_TOOL_SECONDS, check=False)
    if proc.returncode != 0:
        raise BackupError(f"{what} failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}")


def dump(database_url: str, dest: Path) -> str:
    """Write a consistent copy of the database to `dest`; returns the database kind."""
    kind = kind_of(database_url)
    if kind == "sqlite":
        source = sqlite_path(database_url)
        if not source.is_file():
            raise BackupError(f"no SQLite database at {source}")
        # The online backup copies page by page under SQLite's own locking: a consistent snapshot even
        # while workers write (WAL included), unlike copying the file.
        src, out = sqlite3.connect(source, timeout=30), sqlite3.connect(dest)
        try:
            src.backup(out)
        finally:
            out.close()
            src.close()
        return kind
    args, env = _pg_args(make_url(database_url))
    _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-acl", "--file", str(dest), *args],
         env, "pg_dump")
    return kind


def _drop_everything(engine: Engine) -> None:
    """Empty a PostgreSQL database of our schema (tables, left-over sequences, enum types), so pg_restore
    recreates it exactly as dumped; other schemas are not touched."""
    with engine.begin() as conn:
        for kind, query in (
                ("TABLE", "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"),
                ("SEQUENCE", "SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()"),
                ("TYPE", "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
                         "WHERE n.nspname = current_schema() AND t.typtype = 'e'")):
            for (name,) in conn.execute(text(query)).all():
                conn.execute(text(f'DROP {kind} IF EXISTS "{name}" CASCADE'))


def restore(database_url: str, kind: str, source: Path) -> None:
    """Replace the database with the dump at `source` (already checked against its checksum)."""
    if kind != kind_of(database_url):
        raise BackupError(f"the archive holds a {kind} database but DATABASE_URL points to "
                          f"{kind_of(database_url)}; restore into the same kind of database")
    if kind == "sqlite":
        target = sqlite_path(database_url)
        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_name(target.name + ".restoring")
        shutil.copyfile(source, part)
        # A write-ahead log left beside the old file would be replayed into the new one.
        for suffix in ("-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        os.replace(part, target)
        return
    engine = make_engine(database_url)
    try:
        _drop_everything(engine)
    finally:
        engine.dispose()
    args, env = _pg_args(make_url(database_url))
    _run([_pg_tool("pg_restore"), "--no-owner", "--no-acl", "--single-transaction", "--exit-on-error",
          *args, str(source)], env, "pg_restore")


def revision(database_url: str) -> str | None:
    """The Alembic revision the database is at, or None for a database never migrated."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


def revision_of_file(path: Path) -> str | None:
    """The Alembic revision inside a SQLite dump."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        try:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.OperationalError:
            return None
    return row[0] if row else None


def tables_with_rows(database_url: str) -> list[str]:
    """Our tables holding rows beyond what a fresh install's migrations put there (SQLite's full-text
    shadow tables and other internals are not ours and not looked at)."""
    from sqlmodel import SQLModel

    import app.models  # noqa: F401  (registers every table)

    if kind_of(database_url) == "sqlite" and not sqlite_path(database_url).exists():
        return []
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            present = set(inspect(conn).get_table_names())
            return [table.name for table in SQLModel.metadata.sorted_tables
                    if table.name in present and table.name not in SEEDED_TABLES
                    and conn.execute(select(table).limit(1)).first() is not None]
    finally:
        engine.dispose()
