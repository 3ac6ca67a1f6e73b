"""Liveness and readiness against real parts, including a real worker process."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rq import Worker

from app.redis_client import get_redis

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def live_worker(env):
    proc = subprocess.Popen([sys.executable, "-m", "jobs.worker"], cwd=ROOT, env=dict(os.environ),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while time.time() < deadline and not Worker.all(connection=get_redis()):
        time.sleep(0.2)
    yield proc
    proc.terminate()
    proc.wait(timeout=30)


def test_liveness_needs_nothing(api):
    assert api.get("/health").json() == {"status": "ok"}


def test_ready_is_503_naming_the_missing_worker(api):
    response = api.get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["down"] == ["workers"]
    assert body["checks"]["database"] == "ok" and body["checks"]["redis"] == "ok"


def test_ready_with_a_live_worker(api, live_worker):
    response = api.get("/health/ready")
    assert response.status_code == 200, response.text
    assert response.json()["checks"]["workers"].startswith("ok (1 live)")


def test_ready_names_a_broken_database_and_redis(api, monkeypatch, tmp_path):
    from tests.conftest import clear_caches

    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    clear_caches()
    body = api.get("/health/ready").json()
    assert {"database", "redis", "workers"} <= set(body["down"])
    assert body["checks"]["database"].startswith("down:")


def test_the_reaper_pass_purges_expired_sessions(env):
    from datetime import timedelta

    from sqlmodel import select

    from app.db import session_scope
    from app.models import AuthSession, utcnow
    from app.services.auth.sessions import create_session
    from jobs.worker import reap_once
    from tests.integration.test_accounts import register

    user = register("ada@example.com")
    with session_scope() as session:
        create_session(session=session, user_id=user.id)
        stale = create_session(session=session, user_id=user.id)
    with session_scope() as session:
        from app.services.secrets import token_digest

        row = session.get(AuthSession, token_digest(stale))
        row.expires_at = utcnow() - timedelta(minutes=1)
        session.add(row)
    reap_once()
    with session_scope() as session:
        assert len(session.exec(select(AuthSession)).all()) == 1


def test_ready_lists_the_providers_settings_turn_on_with_their_breaker(api, monkeypatch):
    """Health reads the provider registry: a provider settings turn on (and never seeded into a connection)
    is listed with this process's breaker; once seeded, the connection is what health reports."""
    from app.providers.errors import ProviderError
    from app.providers.http import HttpOptions, RemoteClient, reset_breakers
    from app.services.ai.seed import seed_from_settings
    from tests.conftest import clear_caches

    monkeypatch.setenv("IMAGE_FAL_KEY", "fal-test")
    monkeypatch.setenv("IMAGE_FAL_BASE_URL", "http://127.0.0.1:1")  # the connection's probe is refused at once
    monkeypatch.setenv("VISION_GOOGLE_API_KEY", "g-test")
    clear_caches()
    reset_breakers()
    fal = {"name": "fal", "kind": "images", "label": "fal.ai", "breaker": "closed"}
    google = {"name": "google", "kind": "vision", "label": "Google Cloud Vision", "breaker": "closed"}
    assert api.get("/health/ready").json()["providers"] == [fal, google]

    # One real outage (nothing listens on port 1) opens a breaker that trips after one failure.
    client = RemoteClient("fal", options=HttpOptions(connect_timeout=0.5, retries=0, breaker_fail_max=1))
    try:
        with pytest.raises(ProviderError):
            client.post_json("http://127.0.0.1:1/", {})
        assert api.get("/health/ready").json()["providers"] == [{**fal, "breaker": "open"}, google]
    finally:
        client.close()
        reset_breakers()

    assert set(seed_from_settings()) == {"image:fal", "vision:google"}
    body = api.get("/health/ready").json()
    assert body["providers"] == []
    assert {c["preset"] for c in body["connections"]} == {"fal", "google_vision"}
