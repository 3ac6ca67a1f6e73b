"""The general API rate limit, client addresses behind proxies, network lists, and their audit rows,
through the production ASGI stack (Guard included) on a real Redis and database."""

from __future__ import annotations

import pytest
from sqlmodel import select
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from app.api import rate_limit
from tests.conftest import clear_caches
from tests.integration.test_api_auth import ORIGIN, assert_error, login, register
from tests.integration.test_api_tokens_admin import bearer, new_token


@pytest.fixture
def stack(env):
    from app.api.guard import Guard
    from app.api.middleware import BodyLimit, SecurityHeaders
    from tests.conftest import shared_api

    return SecurityHeaders(Guard(BodyLimit(shared_api())))


def client(stack, address: str) -> TestClient:
    return TestClient(stack, base_url="http://localhost:3000", client=(address, 50000))


def configure(monkeypatch, **values):
    for name, value in values.items():
        monkeypatch.setenv(name.upper(), value)
    clear_caches()


def security_rows(action: str | None = None):
    from app.db import session_scope
    from app.models import AuditEvent

    with session_scope() as session:
        rows = list(session.exec(select(AuditEvent).where(AuditEvent.action.startswith("security."))))
    return [row for row in rows if action is None or row.action == action]


def test_anonymous_requests_are_limited_per_address_with_retry_after(stack, any_db, monkeypatch):
    configure(monkeypatch, api_rate_limit_anon="3/minute")
    first, second = client(stack, "203.0.113.9"), client(stack, "198.51.100.7")
    assert [first.get("/api/v1/me").status_code for _ in range(3)] == [401] * 3
    refused = first.get("/api/v1/me")
    assert_error(refused, 429, "rate_limited")
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["x-content-type-options"] == "nosniff"  # still inside the security headers
    assert second.get("/api/v1/me").status_code == 401  # another address has its own window
    # The counters are the `limits` library's fixed windows: it reads (and could clear) them.
    from limits import parse
    from limits.storage import RedisStorage
    from limits.strategies import FixedWindowRateLimiter

    from app.settings import get_settings

    limiter = FixedWindowRateLimiter(RedisStorage(get_settings().redis_db_url(0), key_prefix="atelier-api"))
    assert limiter.get_window_stats(parse("3/minute"), "anonymous/203.0.113.9").remaining == 0
    assert limiter.get_window_stats(parse("3/minute"), "anonymous/198.51.100.7").remaining == 2
    assert first.get("/health").status_code == 200  # health checks are not limited
    rows = security_rows("security.rate_limited")
    assert [(row.ip, row.target) for row in rows] == [("203.0.113.9", "/api/v1/me")]
    assert "anonymous" in rows[0].detail


def test_each_credential_has_its_own_window_from_one_address(stack, env, monkeypatch):
    configure(monkeypatch, api_rate_limit="3/minute")
    ada, bob = client(stack, "198.51.100.7"), client(stack, "198.51.100.7")
    register(ada)
    assert login(ada).status_code == 200
    token = new_token(ada)["token"]  # counts in Ada's session window: 1 of 3
    register(bob, email="bob@example.com")
    assert login(bob, email="bob@example.com").status_code == 200
    assert [ada.get("/api/v1/me").status_code for _ in range(2)] == [200, 200]
    assert_error(ada.get("/api/v1/me"), 429, "rate_limited")
    assert bob.get("/api/v1/me").status_code == 200  # same address, other session
    assert ada.get("/api/v1/me", headers=bearer(token)).status_code == 200  # the token has its own window


def test_thumbnails_count_in_their_own_window_not_the_general_one(stack, env, monkeypatch):
    # A grid loads 60 thumbnails: under the general limit a few visits broke the next grid's pictures.
    from tests import images
    from tests.integration.test_api_assets import run_workers, upload

    configure(monkeypatch, api_rate_limit="4/minute", api_rate_limit_pictures="6/minute")
    ada = client(stack, "198.51.100.7")
    register(ada)
    assert login(ada).status_code == 200  # before the cookie: the anonymous window
    stored = upload(ada, ("DSC_0412.jpg", images.jpeg(320, 240, seed=1), "image/jpeg"))  # 1 of 4
    run_workers()
    thumb = f"/api/v1/assets/{stored.json()['assets'][0]['id']}/thumbnail"
    assert [ada.get(thumb).status_code for _ in range(6)] == [200] * 6
    refused = ada.get(thumb)
    assert_error(refused, 429, "rate_limited")
    assert "pictures" in security_rows("security.rate_limited")[0].detail
    # The general window still has its own room left (2 to 4 of 4), then refuses.
    assert [ada.get("/api/v1/me").status_code for _ in range(3)] == [200] * 3
    assert_error(ada.get("/api/v1/me"), 429, "rate_limited")
    # Only a thumbnail GET is a picture: the asset's own record is a general request.
    assert not rate_limit.is_picture("POST", thumb) and not rate_limit.is_picture("GET", thumb + "s")
    assert not rate_limit.is_picture("GET", thumb.removesuffix("/thumbnail"))
    assert rate_limit.is_picture("GET", "/api/v1/templates/7/thumbnail")


def test_made_up_tokens_do_not_escape_the_address_ceiling(stack, env, monkeypatch):
    configure(monkeypatch, api_rate_limit_address="4/minute")
    sprayer = client(stack, "203.0.113.9")
    codes = [sprayer.get("/api/v1/me", headers=bearer(f"atl_made_up_{i}")).status_code for i in range(4)]
    assert codes == [401] * 4
    refused = sprayer.get("/api/v1/me", headers=bearer("atl_made_up_x"))
    assert_error(refused, 429, "rate_limited")
    assert "address" in security_rows("security.rate_limited")[0].detail


def test_behind_a_trusted_proxy_each_real_client_is_counted(stack, any_db, monkeypatch):
    configure(monkeypatch, api_rate_limit_anon="2/minute", trusted_proxies="10.0.0.0/8")
    proxy = client(stack, "10.0.0.5")
    for _ in range(2):
        assert proxy.get("/api/v1/me", headers={"X-Forwarded-For": "198.51.100.7"}).status_code == 401
    assert_error(proxy.get("/api/v1/me", headers={"X-Forwarded-For": "198.51.100.7"}), 429, "rate_limited")
    assert proxy.get("/api/v1/me", headers={"X-Forwarded-For": "198.51.100.8"}).status_code == 401
    # Without a trusted proxy in front, rotating the header changes nothing: the peer is counted.
    direct = client(stack, "203.0.113.9")
    codes = [direct.get("/api/v1/me", headers={"X-Forwarded-For": f"192.0.2.{i}"}).status_code for i in range(3)]
    assert codes == [401, 401, 429]
    assert {row.ip for row in security_rows("security.rate_limited")} == {"198.51.100.7", "203.0.113.9"}


def test_sign_in_audit_and_throttles_see_the_client_behind_the_proxy(stack, any_db, monkeypatch):
    from app.db import session_scope
    from app.services import audit

    configure(monkeypatch, trusted_proxies="10.0.0.0/8", signin_limit_per_ip="2/minute")
    proxy = client(stack, "10.0.0.5")
    register(proxy)
    assert proxy.post("/api/v1/auth/login", json={"email": "ada@example.com", "password": "correct horse battery"},
                      headers={**ORIGIN, "X-Forwarded-For": "6.6.6.6, 198.51.100.7"}).status_code in (200, 401)
    with session_scope() as session:
        ips = {event.ip for event in audit.recent(session=session) if event.action.startswith("auth.signin")}
    assert ips == {"198.51.100.7"}
    # The sign-in throttle counts the real client; another client behind the same proxy is not locked out.
    for i in range(2):
        proxy.post("/api/v1/auth/login", json={"email": f"x{i}@example.com", "password": "wrong password"},
                   headers={**ORIGIN, "X-Forwarded-For": "203.0.113.9"})
    throttled = proxy.post("/api/v1/auth/login", json={"email": "y@example.com", "password": "wrong password"},
                           headers={**ORIGIN, "X-Forwarded-For": "203.0.113.9"})
    assert_error(throttled, 429, "too_many_requests")
    assert login(proxy).status_code in (200, 401)  # no X-Forwarded-For: the proxy's own address, not throttled
    assert login(proxy).status_code != 429
    assert [(row.ip, row.target) for row in security_rows("security.throttled")] == [
        ("203.0.113.9", "/api/v1/auth/login")]


def test_network_lists_refuse_with_network_forbidden(stack, any_db, monkeypatch):
    configure(monkeypatch, deny_networks="203.0.113.0/24", api_allow_networks="198.51.100.0/24, 2001:db8::/32",
              admin_allow_networks="198.51.100.7")
    denied, office, other_desk, outside = (client(stack, a) for a in
                                           ("203.0.113.9", "198.51.100.7", "198.51.100.8", "192.0.2.1"))
    assert_error(denied.get("/health"), 403, "network_forbidden")  # denied everywhere
    assert_error(outside.get("/api/v1/me"), 403, "network_forbidden")  # not on the API list
    assert outside.get("/health").status_code == 200  # the API list covers /api/ only
    assert_error(other_desk.get("/api/v1/admin/users"), 403, "network_forbidden")  # API yes, admin no
    assert_error(other_desk.get("/admin/users"), 403, "network_forbidden")
    assert other_desk.get("/api/v1/me").status_code == 401
    assert office.get("/api/v1/admin/users").status_code == 401  # reaches the route, which asks who it is
    assert client(stack, "2001:db8::5").get("/api/v1/me").status_code == 401
    rows = security_rows("security.network_refused")
    assert {(row.ip, row.detail) for row in rows} == {("203.0.113.9", "denied"), ("192.0.2.1", "api"),
                                                        ("198.51.100.8", "admin")}


def test_a_flood_of_refusals_writes_a_bounded_number_of_audit_rows(stack, env, monkeypatch):
    configure(monkeypatch, deny_networks="203.0.113.0/24", security_audit_limit="5/minute")
    flood = client(stack, "203.0.113.9")
    assert {flood.get("/api/v1/me").status_code for _ in range(40)} == {403}
    assert len(security_rows("security.network_refused")) == 5
    client(stack, "203.0.113.10").get("/api/v1/me")  # another address still gets its row
    assert len(security_rows("security.network_refused")) == 6


def test_a_denied_network_cannot_open_the_page_websocket(stack, env, monkeypatch):
    configure(monkeypatch, deny_networks="203.0.113.0/24")
    with pytest.raises(WebSocketDisconnect) as closed, client(stack, "203.0.113.9").websocket_connect("/_event/"):
        pass
    assert closed.value.code == 1008


def test_redis_down_lets_requests_through(stack, env, monkeypatch):
    configure(monkeypatch, api_rate_limit_anon="1/minute")
    from app.api import rate_limit

    monkeypatch.setattr(rate_limit, "_script", lambda: __import__("redis.asyncio").asyncio.Redis(
        host="127.0.0.1", port=1, socket_connect_timeout=0.2).register_script(rate_limit._COUNT))
    anyone = client(stack, "198.51.100.7")
    assert [anyone.get("/api/v1/me").status_code for _ in range(3)] == [401] * 3
