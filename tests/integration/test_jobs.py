"""Durable jobs with a real RQ worker in-process: progress, cancel, failures, retries, timeouts."""

import json
import threading

import pytest
from rq import SimpleWorker
from sqlmodel import select

from app import queue
from app.db import session_scope
from app.errors import Conflict, NotFound
from app.models import CreditEntry, Job
from app.redis_client import get_redis
from app.services import credits, jobs
from tests.integration.test_accounts import register

TEST_KINDS = {
    "test.three": queue.JobKind("tests.integration.job_bodies.three_items", "default", 30, 0, ()),
    "test.cancel": queue.JobKind("tests.integration.job_bodies.cancels_itself", "default", 30, 0, ()),
    "test.broken": queue.JobKind("tests.integration.job_bodies.broken", "default", 30, 2, (0, 0)),
    "test.flaky": queue.JobKind("tests.integration.job_bodies.flaky", "default", 30, 2, (0, 0)),
    "test.redis_blip": queue.JobKind("tests.integration.job_bodies.redis_blip", "default", 30, 2, (0, 0)),
    "test.slow": queue.JobKind("tests.integration.job_bodies.slow", "default", 1, 0, ()),
}


@pytest.fixture
def user(any_db, monkeypatch):
    from tests.conftest import clear_caches

    for kind, spec in TEST_KINDS.items():
        monkeypatch.setitem(queue.KINDS, kind, spec)
    monkeypatch.setenv("MONTHLY_FREE_CREDITS", "10")
    clear_caches()
    return register("ada@example.com")


def work(*queues: str) -> None:
    SimpleWorker([queue.get_queue(q) for q in (queues or ("default",))], connection=get_redis()).work(burst=True)


def row(job_id: str) -> Job:
    with session_scope() as session:
        return session.get(Job, job_id)


def balance(workspace_id: int) -> tuple[int, int]:
    with session_scope() as session:
        return credits.balance(session=session, workspace_id=workspace_id)


def test_a_job_runs_and_publishes_each_change(user):
    pubsub = get_redis().pubsub()
    pubsub.psubscribe("atelier:workspace:*")
    job = jobs.submit(kind="test.three", workspace_id=user.workspace_id, params={"n": 3}, cost=2)
    assert row(job.id).status == "queued" and balance(user.workspace_id) == (8, 2)
    work()
    done = row(job.id)
    assert (done.status, done.progress, done.result_ref, done.attempts) == ("succeeded", 100, "three", 1)
    assert balance(user.workspace_id) == (8, 0)
    seen = []
    while (message := pubsub.get_message(timeout=0.2)) is not None:
        if message["type"] == "pmessage":
            seen.append(json.loads(message["data"]))
    assert next(m["status"] for m in seen) == "queued" and seen[-1]["status"] == "succeeded"
    assert [m["progress"] for m in seen if m["status"] == "running"] == sorted(
        m["progress"] for m in seen if m["status"] == "running")
    # Progress is written at most twice a second, and always for the first and the last item.
    assert {m["message"] for m in seen} >= {"item 1", "item 3"}


def test_cancel_a_queued_job_removes_it_and_returns_credits(user):
    job = jobs.submit(kind="test.three", workspace_id=user.workspace_id, params={}, cost=3)
    assert jobs.cancel(job_id=job.id, workspace_id=user.workspace_id) == "removed"
    assert queue.get_queue("default").count == 0
    assert row(job.id).status == "canceled" and balance(user.workspace_id) == (10, 0)
    with pytest.raises(Conflict):
        jobs.cancel(job_id=job.id, workspace_id=user.workspace_id)


def test_cancel_a_running_job_stops_between_items(user):
    job = jobs.submit(kind="test.cancel", workspace_id=user.workspace_id, params={}, cost=3)
    work()
    done = row(job.id)
    # Item 1's progress was written; item 2 finished but saw the cancel before writing; 3 never ran.
    assert done.status == "canceled" and done.progress == 20
    assert balance(user.workspace_id) == (10, 0)


def test_only_the_owner_sees_or_cancels_a_job(user):
    other = register("grace@example.com")
    job = jobs.submit(kind="test.three", workspace_id=user.workspace_id, params={})
    with pytest.raises(NotFound):
        jobs.cancel(job_id=job.id, workspace_id=other.workspace_id)
    with pytest.raises(NotFound), session_scope() as session:
        jobs.get_job(session=session, job_id=job.id, workspace_id=other.workspace_id)


def test_a_permanent_error_fails_once_and_releases_credits(user):
    job = jobs.submit(kind="test.broken", workspace_id=user.workspace_id, params={}, cost=5)
    work()
    failed = row(job.id)
    assert failed.status == "failed" and "the input makes no sense" in failed.error
    assert failed.attempts == 1  # not retried: retrying cannot fix it
    assert balance(user.workspace_id) == (10, 0)


def test_a_transient_error_is_retried(user):
    job = jobs.submit(kind="test.flaky", workspace_id=user.workspace_id, params={}, cost=1)
    work()
    done = row(job.id)
    assert (done.status, done.attempts, done.result_ref) == ("succeeded", 2, "second time lucky")
    assert balance(user.workspace_id) == (9, 0)
    with session_scope() as session:
        entries = session.exec(select(CreditEntry.kind).where(CreditEntry.job_id == job.id)).all()
    assert sorted(entries) == ["capture", "reserve"]


def test_a_redis_connection_error_is_transient(user):
    # redis.exceptions.ConnectionError is not the builtin ConnectionError: it must be retried all the same.
    job = jobs.submit(kind="test.redis_blip", workspace_id=user.workspace_id, params={})
    work()
    done = row(job.id)
    assert (done.status, done.attempts, done.result_ref) == ("succeeded", 2, "after the blip")


def test_a_job_past_its_time_limit_fails(user):
    job = jobs.submit(kind="test.slow", workspace_id=user.workspace_id, params={}, cost=1)
    work()
    failed = row(job.id)
    assert failed.status == "failed" and "time limit" in failed.error
    assert balance(user.workspace_id) == (10, 0)


def test_the_same_idempotency_key_gives_the_same_job(user):
    first = jobs.submit(kind="test.three", workspace_id=user.workspace_id, params={}, cost=1, idempotency_key="k-1")
    second = jobs.submit(kind="test.three", workspace_id=user.workspace_id, params={}, cost=1, idempotency_key="k-1")
    assert first.id == second.id and balance(user.workspace_id) == (9, 1)
    assert queue.get_queue("default").count == 1


def test_a_superseded_attempt_changes_nothing(user):
    job = jobs.submit(kind="test.three", workspace_id=user.workspace_id, params={})
    with pytest.raises(jobs.StaleAttempt):
        jobs.start(job.id, rq_id="someone-else", worker_name="w")
    with pytest.raises(jobs.StaleAttempt):
        jobs.progress(job.id, rq_id="someone-else", percent=50)
    assert row(job.id).status == "queued"


def test_admin_retry_makes_a_new_job(user):
    job = jobs.submit(kind="test.broken", workspace_id=user.workspace_id, params={"x": 1}, cost=2)
    work()
    again = jobs.retry(job_id=job.id)
    assert again.id != job.id and again.params == {"x": 1} and again.cost == 2
    with pytest.raises(Conflict):
        jobs.retry(job_id=again.id)


def test_sse_streams_until_the_job_ends(user, api):
    from tests.integration.test_api_auth import login

    api.post("/api/v1/auth/logout")
    # The API test client signs in as the same user the fixture registered.
    assert login(api).status_code == 200
    job = jobs.submit(kind="test.three", workspace_id=user.workspace_id, params={})
    events = []

    def read_stream():
        with api.stream("GET", f"/api/v1/jobs/{job.id}/events") as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            for line in response.iter_lines():
                if line.startswith("data:"):
                    events.append(json.loads(line[5:]))

    reader = threading.Thread(target=read_stream)
    reader.start()
    import time

    deadline = time.time() + 10
    while not events and time.time() < deadline:
        time.sleep(0.05)
    work()
    reader.join(timeout=30)
    assert not reader.is_alive()
    statuses = [e["status"] for e in events]
    assert statuses[0] == "queued" and statuses[-1] == "succeeded" and "running" in statuses
    other = api.get(f"/api/v1/jobs/{job.id}").json()
    assert other["status"] == "succeeded"
