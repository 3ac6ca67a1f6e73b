"""`GET /metrics`: off by default, token or network, route templates (not paths), request ids, < 500 series."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from prometheus_client.parser import text_string_to_metric_families
from rq import SimpleWorker
from starlette.testclient import TestClient

from app.api import build_api
from app.api.middleware import BodyLimit, SecurityHeaders
from app.observability import metrics
from app.queue import QUEUES, get_queue
from app.redis_client import get_redis
from app.settings import get_settings
from tests import images
from tests.integration.test_api_auth import ORIGIN, login, register

TOKEN = "metrics-token-for-tests-0123456789"


def scrape(api, token: str = TOKEN):
    response = api.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.text


def samples(text: str) -> list:
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def series_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


@pytest.fixture
def metrics_on(env, monkeypatch):
    monkeypatch.setenv("METRICS_TOKEN", TOKEN)
    get_settings.cache_clear()
    for family in (metrics.http_requests, metrics.http_latency, metrics.jobs_finished, metrics.job_duration,
                   metrics.provider_calls, metrics.provider_latency, metrics.provider_breaker):
        family.clear()  # this process's registry outlives tests: count what this test does
    metrics.forget_storage_cache()


def test_off_unless_a_token_or_a_network_is_set(api, env):
    response = api.get("/metrics")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_token_is_required_and_checked(api, metrics_on):
    assert api.get("/metrics").status_code == 401
    wrong = api.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "metrics_token_required"
    assert "atelier_queue_depth" in scrape(api)


def test_a_network_may_scrape_without_a_token(env, monkeypatch):
    monkeypatch.setenv("METRICS_ALLOW", "10.1.0.0/16, 127.0.0.1")
    get_settings.cache_clear()
    app = SecurityHeaders(BodyLimit(build_api()))
    with TestClient(app, client=("10.1.2.3", 40000)) as inside, TestClient(app, client=("10.2.0.1", 40000)) as out:
        assert inside.get("/metrics").status_code == 200
        refused = out.get("/metrics")
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "metrics_network_refused"


def test_behind_a_trusted_proxy_the_client_counts_not_the_proxy(env, monkeypatch):
    monkeypatch.setenv("METRICS_ALLOW", "10.1.0.0/16")
    monkeypatch.setenv("TRUSTED_PROXIES", "10.1.9.9")
    get_settings.cache_clear()
    app = SecurityHeaders(BodyLimit(build_api()))
    with TestClient(app, client=("10.1.9.9", 40000)) as proxy:
        assert proxy.get("/metrics", headers={"X-Forwarded-For": "203.0.113.5"}).status_code == 403
        assert proxy.get("/metrics", headers={"X-Forwarded-For": "10.1.2.3"}).status_code == 200


def test_a_bad_network_setting_is_refused(env, monkeypatch):
    from app.settings import Settings

    monkeypatch.setenv("METRICS_ALLOW", "10.0.0.0/33")
    with pytest.raises(ValueError, match="METRICS_ALLOW"):
        Settings()


def test_request_ids_are_taken_when_plain_and_made_otherwise(api, env):
    assert api.get("/health", headers={"X-Request-ID": "lb-7f3a.2_x"}).headers["x-request-id"] == "lb-7f3a.2_x"
    for bad in ("a" * 65, "two words", "id\u00e9".encode(), "x;y", "\u200bzw".encode()):
        made = api.get("/health", headers={"X-Request-ID": bad}).headers["x-request-id"]
        assert made != bad and re.fullmatch(r"[0-9a-f]{32}", made)
    first, second = (api.get("/api/v1/me").headers["x-request-id"] for _ in range(2))
    assert first != second  # each request its own, errors included (401 here)


def test_requests_are_counted_by_route_template(api, metrics_on):
    for asset_id in (101, 202, 303):
        assert api.get(f"/api/v1/assets/{asset_id}").status_code == 401
    api.get("/api/v1/no/such/route/12345")
    text = scrape(api)
    assert "/101" not in text and "12345" not in text
    found = {(s.labels["method"], s.labels["route"], s.labels["status"]): s.value for s in samples(text)
             if s.name == "atelier_http_requests_total"}
    assert found[("GET", "/api/v1/assets/{asset_id}", "4xx")] == 3
    assert found[("GET", "unmatched", "4xx")] == 1
    latency = {s.labels["area"]: s.value for s in samples(text)
               if s.name == "atelier_http_request_duration_seconds_count"}
    assert latency["api"] == 3 and latency["unmatched"] == 1


def run_jobs() -> None:
    SimpleWorker([get_queue(name) for name in QUEUES], connection=get_redis()).work(burst=True)


def test_fewer_than_500_series_after_every_route_answers(api, metrics_on):
    """Each route once without credentials and once as a signed-in owner (empty bodies, ids that may not
    exist): the 2xx, 4xx and 5xx a route can answer, plus jobs of a real worker."""
    register(api)
    assert login(api).status_code == 200
    upload = api.post("/api/v1/assets", files=[("files", ("a.jpg", images.jpeg(64, 48), "image/jpeg"))],
                      headers=ORIGIN)
    assert upload.status_code in (200, 201, 202), upload.text
    run_jobs()
    routes = []
    for context in iter_route_contexts(build_api().routes):
        if isinstance(context.original_route, APIRoute):
            routes += [(method, context.path) for method in sorted(context.methods or ()) if method != "HEAD"]
    assert len(routes) > 100
    cookies = dict(api.cookies)
    for method, path in routes:
        url = re.sub(r"\{\w+\}", "1", path)
        api.cookies.clear()
        api.request(method, url, headers=ORIGIN)
        api.cookies.update(cookies)
        api.request(method, url, headers=ORIGIN, json={} if method in ("POST", "PUT", "PATCH") else None)
    run_jobs()
    text = scrape(api)
    lines = series_lines(text)
    assert len(lines) < 500, f"{len(lines)} series"
    names = {s.name for s in samples(text)}
    assert {"atelier_http_requests_total", "atelier_jobs_total", "atelier_job_duration_seconds_bucket",
            "atelier_queue_depth", "atelier_workers_live", "atelier_storage_bytes"} <= names
    stored = next(s.value for s in samples(text) if s.name == "atelier_storage_bytes")
    assert stored > 0  # the uploaded picture


def test_credits_spent_count_each_capture_once(env):
    from app.db import session_scope
    from app.services import credits
    from tests.integration.test_accounts import register as register_user

    user = register_user("cora@example.com")
    before = metrics.REGISTRY.get_sample_value("atelier_credits_spent_total")
    for job_id in ("job-m1", "job-m2"):
        with session_scope() as session:
            credits.reserve(session=session, workspace_id=user.workspace_id, amount=3, job_id=job_id)
    for job_id, success in (("job-m1", True), ("job-m1", True), ("job-m2", False)):  # a retried settle counts once
        with session_scope() as session:
            credits.settle(session=session, job_id=job_id, success=success)
    assert metrics.REGISTRY.get_sample_value("atelier_credits_spent_total") - before == 3
