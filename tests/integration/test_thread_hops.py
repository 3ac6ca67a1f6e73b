"""Thread-pool hops per API request. Each hop is a thread switch both ways; on a loaded server the requests queue
for the pool's threads (bench/web_load.py), so a pure check must not cost one. Counted on the real stack: every
hop goes through anyio.to_thread.run_sync (starlette's run_in_threadpool and FastAPI's sync routes and
dependencies alike)."""

from __future__ import annotations

import anyio.to_thread
import pytest

from tests.integration.billing_helpers import catalogue, checkout, configured_stripe, post_event
from tests.integration.test_accounts import register as register_user
from tests.integration.test_api_auth import ORIGIN, login, register


@pytest.fixture
def hops(monkeypatch) -> list[str]:
    seen: list[str] = []
    real = anyio.to_thread.run_sync

    async def counting(func, *args, **kwargs):
        seen.append(getattr(getattr(func, "func", func), "__name__", repr(func)))  # a partial: its function
        return await real(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counting)
    return seen


@pytest.fixture
def bearer(api) -> dict:
    assert register(api).status_code == 201
    assert login(api).status_code == 200
    token = api.post("/api/v1/tokens", headers=ORIGIN, json={"name": "hops"}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/v1/me", headers=headers).status_code == 200  # the token cache holds it from here
    return headers


def test_a_write_with_a_bearer_token_makes_one_hop_its_handler(api, bearer, hops):
    made = api.post("/api/v1/collections", headers=bearer, json={"name": "Hops"})
    assert made.status_code == 201, made.text
    assert hops == ["create_collection"]  # not the origin check, not the Redis check before a write
    hops.clear()
    assert api.delete(f"/api/v1/collections/{made.json()['id']}", headers=bearer).status_code == 204
    assert hops == ["delete_collection"]


def test_a_read_that_needs_no_database_makes_none_and_a_library_read_one(api, bearer, hops):
    assert api.get("/api/v1/me", headers=bearer).status_code == 200
    assert hops == []
    for path, route in (("/api/v1/assets?limit=24", "list_assets"), ("/api/v1/jobs?limit=20", "list_jobs"),
                        ("/api/v1/collections", "list_collections")):
        hops.clear()
        assert api.get(path, headers=bearer).status_code == 200
        assert hops == [route], path  # not a second one to validate the response


def test_the_redis_check_before_a_write_still_refuses_when_redis_is_down(api, bearer, monkeypatch):
    from tests.conftest import clear_caches
    from tests.integration.test_outages import dead_port

    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{dead_port()}/0")
    clear_caches()
    answer = api.post("/api/v1/collections", headers=bearer, json={"name": "Not saved"})
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"]["service"] == "redis"


@pytest.fixture
def fake(env, monkeypatch):
    yield from configured_stripe(monkeypatch)


def test_a_stripe_webhook_makes_one_hop_verify_and_apply(api, fake, hops):
    workspace_id = register_user("owner@example.com").workspace_id
    events = fake.pay(checkout(fake, workspace_id, catalogue()))
    hops.clear()
    answer = post_event(api, fake, events[-1])
    assert answer.status_code == 200 and answer.json()["outcome"] == "applied", answer.text
    assert hops == ["receive"]
