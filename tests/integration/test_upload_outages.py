"""Uploads when the queue is down: the answer says what was stored, nothing stays `processing`."""

import pytest
from rq import SimpleWorker
from sqlmodel import select

from app.db import session_scope
from app.models import Asset
from app.queue import get_queue
from app.redis_client import get_redis
from app.services.assets import service as assets
from tests import images
from tests.conftest import clear_caches
from tests.integration.test_api_auth import ORIGIN, login, register


@pytest.fixture
def signed_in(api, any_db):
    register(api)
    login(api)
    return api


@pytest.fixture
def redis_down(monkeypatch, redis_url):
    """A real connection refused: REDIS_URL points at a port nobody listens on."""
    def down():
        monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:9/0")
        clear_caches()

    def up():
        monkeypatch.setenv("REDIS_URL", redis_url)
        clear_caches()

    return down, up


async def _no_check(multipart: bool, scope: dict) -> None:
    """In place of outages._check_services: the services were up when checked (Redis dies after the check)."""


def statuses() -> dict[str, tuple[str, str]]:
    with session_scope() as session:
        return {a.filename: (a.status, a.error) for a in session.exec(select(Asset)).all()}


def test_queue_down_before_the_request_stores_nothing(signed_in, redis_down):
    down, _ = redis_down
    down()
    files = [("files", (f"p{i}.jpg", images.jpeg(200, 150, seed=i), "image/jpeg")) for i in range(2)]
    response = signed_in.post("/api/v1/assets", files=files, headers=ORIGIN)
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "service_unavailable"
    assert statuses() == {}


def test_queue_lost_during_the_request_answers_503_json_naming_what_was_stored(signed_in, redis_down,
                                                                               monkeypatch):
    from app.api import outages

    down, up = redis_down
    monkeypatch.setattr(outages, "_check_services", _no_check)  # Redis dies after the check
    down()
    files = [("files", (f"p{i}.jpg", images.jpeg(200, 150, seed=i), "image/jpeg")) for i in range(2)]
    response = signed_in.post("/api/v1/assets", files=files, headers=ORIGIN)
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == "service_unavailable" and error["message"]
    stored = statuses()
    assert sorted(error["details"]["stored"]) == sorted(a["id"] for a in error["details"]["assets"])
    assert len(error["details"]["stored"]) == 2
    assert {a["status"] for a in error["details"]["assets"]} == {"failed"}  # as stored, not as first written
    # Stored, not stuck: parked as failed with the reason, for the reaper to queue again.
    assert {s for s, _ in stored.values()} == {"failed"}
    assert all(e.startswith(assets.QUEUE_UNAVAILABLE) for _, e in stored.values())

    up()
    assert len(assets.requeue_unqueued()) == 1  # one job for the batch
    assert {s for s, _ in statuses().values()} == {"processing"}
    SimpleWorker([get_queue("assets")], connection=get_redis()).work(burst=True)
    assert {s for s, _ in statuses().values()} == {"ready"}


def test_a_processing_asset_left_without_a_job_is_queued_again(signed_in):
    """A process that died between the commit and the enqueue leaves `processing` with no job."""
    from datetime import timedelta

    _asset, created = assets.store_one(workspace_id=1, filename="x.jpg", data=images.jpeg(80, 60))
    assert created and statuses() == {"x.jpg": ("processing", "")}
    assert assets.requeue_unqueued(stale_after=timedelta(hours=1)) == []  # young: its job may be queued
    assert len(assets.requeue_unqueued(stale_after=timedelta(0))) == 1
    SimpleWorker([get_queue("assets")], connection=get_redis()).work(burst=True)
    assert statuses() == {"x.jpg": ("ready", "")}


def test_the_periodic_work_queues_parked_uploads_again(signed_in, redis_down, monkeypatch):
    from app.api import outages
    from jobs import periodic

    down, up = redis_down
    monkeypatch.setattr(outages, "_check_services", _no_check)
    down()
    files = [("files", ("late.jpg", images.jpeg(200, 150, seed=9), "image/jpeg"))]
    assert signed_in.post("/api/v1/assets", files=files, headers=ORIGIN).status_code == 503
    assert {s for s, _ in statuses().values()} == {"failed"}
    up()
    done = periodic.run_due()
    assert len(done["parked-uploads"]) == 1
    SimpleWorker([get_queue("assets")], connection=get_redis()).work(burst=True)
    assert statuses() == {"late.jpg": ("ready", "")}
