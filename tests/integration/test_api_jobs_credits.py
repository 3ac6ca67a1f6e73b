"""/api/v1/jobs, /api/v1/credits and the admin job/credit/audit routes."""

import pytest
from rq import SimpleWorker

from app import queue
from app.redis_client import get_redis
from app.services import jobs
from tests.integration.test_api_auth import ORIGIN, assert_error, login, register
from tests.integration.test_jobs import TEST_KINDS


@pytest.fixture
def admin(api, any_db, monkeypatch):
    for kind, spec in TEST_KINDS.items():
        monkeypatch.setitem(queue.KINDS, kind, spec)
    monkeypatch.setenv("MONTHLY_FREE_CREDITS", "10")
    from tests.conftest import clear_caches

    clear_caches()
    user = register(api).json()
    login(api)
    return user


def work():
    SimpleWorker([queue.get_queue("default")], connection=get_redis()).work(burst=True)


def test_my_jobs_paginated_and_private(api, admin):
    created = [jobs.submit(kind="test.three", workspace_id=admin["workspace_id"], params={"i": i}).id for i in range(3)]
    page = api.get("/api/v1/jobs", params={"limit": 2}).json()
    assert page["total"] == 3 and len(page["jobs"]) == 2
    assert {j["id"] for j in page["jobs"]} <= set(created)
    assert api.get("/api/v1/jobs", params={"status": "queued"}).json()["total"] == 3
    assert_error(api.get("/api/v1/jobs", params={"status": "nope"}), 422, "invalid_status")
    assert_error(api.get("/api/v1/jobs/not-a-job"), 404, "not_found")
    work()
    assert api.get(f"/api/v1/jobs/{created[0]}").json()["status"] == "succeeded"


def test_cancel_answers_what_happened(api, admin):
    job = jobs.submit(kind="test.three", workspace_id=admin["workspace_id"], params={})
    answer = api.post(f"/api/v1/jobs/{job.id}/cancel", headers=ORIGIN).json()
    assert answer["outcome"] == "removed" and answer["job"]["status"] == "canceled"
    assert_error(api.post(f"/api/v1/jobs/{job.id}/cancel", headers=ORIGIN), 409, "job_finished")


def test_credits_balance_and_history(api, admin):
    jobs.submit(kind="test.three", workspace_id=admin["workspace_id"], params={}, cost=3)
    body = api.get("/api/v1/credits").json()
    assert (body["balance"], body["held"]) == (7, 3)
    assert [e["kind"] for e in body["history"]] == ["reserve", "allowance"]
    work()
    assert api.get("/api/v1/credits").json()["held"] == 0


def test_insufficient_credits_is_402(api, admin):
    from app.errors import InsufficientCredits

    with pytest.raises(InsufficientCredits):
        jobs.submit(kind="test.three", workspace_id=admin["workspace_id"], params={}, cost=50)
    assert api.get("/api/v1/jobs").json()["total"] == 0  # nothing half-made
    assert InsufficientCredits.status == 402


def test_admin_grants_credits_once_per_reference(api, admin):
    member = register(api, email="grace@example.com").json()
    body = {"user_id": member["id"], "amount": 25, "reason": "Launch bonus", "reference": "launch-1"}
    assert api.post("/api/v1/admin/credits", json=body, headers=ORIGIN).json()["balance"] == 35
    assert api.post("/api/v1/admin/credits", json=body, headers=ORIGIN).json()["balance"] == 35
    assert_error(api.post("/api/v1/admin/credits", headers=ORIGIN,
                          json={**body, "amount": -100, "reference": "fix"}), 422, "invalid_amount")
    assert_error(api.post("/api/v1/admin/credits", headers=ORIGIN,
                          json={**body, "user_id": 999, "reference": "x"}), 404, "not_found")
    events = api.get("/api/v1/admin/audit").json()["events"]
    assert any(e["action"] == "admin.credits" and e["detail"].startswith("+25") for e in events)


def test_admin_job_views_retry_and_cancel(api, admin):
    broken = jobs.submit(kind="test.broken", workspace_id=admin["workspace_id"], params={})
    work()
    listing = api.get("/api/v1/admin/jobs", params={"status": "failed"}).json()
    assert [j["id"] for j in listing["jobs"]] == [broken.id]
    assert "the input makes no sense" in listing["jobs"][0]["error"]
    assert set(listing["queues"]) == set(queue.QUEUES)
    retried = api.post(f"/api/v1/admin/jobs/{broken.id}/retry", headers=ORIGIN).json()
    assert retried["status"] == "queued" and retried["id"] != broken.id
    assert api.post(f"/api/v1/admin/jobs/{retried['id']}/cancel", headers=ORIGIN).json()["outcome"] == "removed"
    actions = [e["action"] for e in api.get("/api/v1/admin/audit").json()["events"]]
    assert "admin.job_retry" in actions and "admin.job_cancel" in actions


def test_members_cannot_use_admin_job_routes(api, admin):
    register(api, email="grace@example.com")
    api.post("/api/v1/auth/logout", headers=ORIGIN)
    login(api, email="grace@example.com")
    job = jobs.submit(kind="test.three", workspace_id=admin["workspace_id"], params={})
    for method, path in (("get", "/api/v1/admin/jobs"), ("post", f"/api/v1/admin/jobs/{job.id}/cancel"),
                         ("post", f"/api/v1/admin/jobs/{job.id}/retry"), ("get", "/api/v1/admin/audit")):
        assert_error(getattr(api, method)(path, headers=ORIGIN), 403, "forbidden")
    # Nor see or cancel someone else's job through the user routes.
    assert_error(api.get(f"/api/v1/jobs/{job.id}"), 404, "not_found")
    assert_error(api.post(f"/api/v1/jobs/{job.id}/cancel", headers=ORIGIN), 404, "not_found")
