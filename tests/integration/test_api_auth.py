"""The REST API's account routes, through the production middleware stack."""

import pytest

from app.services.auth.sessions import COOKIE_NAME

PASSWORD = "correct horse battery"
ORIGIN = {"Origin": "http://localhost:3000"}


def register(api, email="ada@example.com", password=PASSWORD, name="Ada"):
    return api.post("/api/v1/auth/register", json={"email": email, "password": password, "name": name},
                    headers=ORIGIN)


def login(api, email="ada@example.com", password=PASSWORD):
    return api.post("/api/v1/auth/login", json={"email": email, "password": password}, headers=ORIGIN)


def assert_error(response, status, code):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]


def test_register_login_me_logout(api, any_db):
    created = register(api)
    assert created.status_code == 201
    assert created.json()["role"] == "admin"
    assert "password" not in created.text and "hash" not in created.text
    assert_error(api.get("/api/v1/me"), 401, "auth_required")
    assert login(api).status_code == 200
    me = api.get("/api/v1/me")
    assert me.status_code == 200 and me.json()["email"] == "ada@example.com"
    assert api.post("/api/v1/auth/logout", headers=ORIGIN).status_code == 200
    assert_error(api.get("/api/v1/me"), 401, "auth_required")


def test_session_cookie_flags(api, env):
    register(api)
    response = login(api)
    header = response.headers["set-cookie"]
    assert header.startswith(f"{COOKIE_NAME}=")
    lowered = header.lower()
    assert "httponly" in lowered and "samesite=lax" in lowered and "path=/" in lowered
    assert "secure" not in lowered  # plain http in tests; see the https test below


def test_secure_cookie_under_https(env, monkeypatch):
    from starlette.testclient import TestClient

    from app.api import build_api
    from app.api.middleware import BodyLimit, SecurityHeaders
    from tests.conftest import clear_caches

    monkeypatch.setenv("PUBLIC_URL", "https://studio.example.com")
    clear_caches()
    api = TestClient(SecurityHeaders(BodyLimit(build_api())), base_url="https://studio.example.com")
    api.post("/api/v1/auth/register", json={"email": "ada@example.com", "password": PASSWORD},
             headers={"Origin": "https://studio.example.com"})
    response = api.post("/api/v1/auth/login", json={"email": "ada@example.com", "password": PASSWORD},
                        headers={"Origin": "https://studio.example.com"})
    header = response.headers["set-cookie"].lower()
    assert header.startswith("__host-atelier_session=") and "secure" in header
    assert "strict-transport-security" in response.headers


def test_login_rotates_a_planted_session(api, env):
    register(api)
    planted = "planted-by-attacker"
    first = api.post("/api/v1/auth/login", json={"email": "ada@example.com", "password": PASSWORD},
                     headers={**ORIGIN, "Cookie": f"{COOKIE_NAME}={planted}"}).cookies[COOKIE_NAME]
    assert first != planted
    second = api.post("/api/v1/auth/login", json={"email": "ada@example.com", "password": PASSWORD},
                      headers={**ORIGIN, "Cookie": f"{COOKIE_NAME}={first}"}).cookies[COOKIE_NAME]
    assert second != first
    api.cookies.clear()
    # The session held before the second sign-in died with it; the new one works.
    assert api.get("/api/v1/me", headers={"Cookie": f"{COOKIE_NAME}={first}"}).status_code == 401
    assert api.get("/api/v1/me", headers={"Cookie": f"{COOKIE_NAME}={planted}"}).status_code == 401
    assert api.get("/api/v1/me", headers={"Cookie": f"{COOKIE_NAME}={second}"}).status_code == 200


def test_wrong_password_and_unknown_email_answer_the_same(api, env):
    register(api)
    wrong = login(api, password="not the password")
    unknown = login(api, email="nobody@example.com")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_duplicate_registration_is_409(api, env):
    register(api)
    assert_error(register(api, email="ADA@example.com"), 409, "email_taken")


def test_validation_errors_are_422_json(api, env):
    assert_error(api.post("/api/v1/auth/register", json={"email": "ada@example.com"}, headers=ORIGIN),
                 422, "validation_failed")
    assert_error(api.post("/api/v1/auth/register", content=b"{not json", headers={
        **ORIGIN, "content-type": "application/json"}), 422, "validation_failed")
    assert_error(register(api, password="short"), 422, "weak_password")
    assert_error(api.post("/api/v1/auth/login", json={"email": "a@b.co", "password": "x", "admin": True},
                          headers=ORIGIN), 422, "validation_failed")


def test_oversized_body_is_413_before_reading(api, env):
    big = b"{" + b" " * (70 * 1024) + b"}"
    assert_error(api.post("/api/v1/auth/login", content=big,
                          headers={**ORIGIN, "content-type": "application/json"}), 413, "payload_too_large")


def test_oversized_chunked_body_is_413(api, env):
    def chunks():
        for _ in range(100):
            yield b" " * 1024

    response = api.post("/api/v1/auth/login", content=chunks(),
                        headers={**ORIGIN, "content-type": "application/json"})
    assert_error(response, 413, "payload_too_large")


def test_sign_in_is_throttled_per_account(api, env):
    register(api)
    statuses = [login(api, password=f"wrong password {i}").status_code for i in range(5)]
    assert statuses == [401] * 5
    throttled = login(api)  # even the right password waits now
    assert_error(throttled, 429, "too_many_requests")
    assert int(throttled.headers["retry-after"]) > 0


def test_sign_in_is_throttled_per_ip(api, env, monkeypatch):
    from tests.conftest import clear_caches

    monkeypatch.setenv("SIGNIN_LIMIT_PER_IP", "3/minute")
    clear_caches()
    for i in range(3):
        assert login(api, email=f"user{i}@example.com").status_code == 401
    assert_error(login(api, email="someone-else@example.com"), 429, "too_many_requests")


def test_password_reset_answers_the_same_for_any_email(api, env):
    register(api)
    known = api.post("/api/v1/auth/password-reset", json={"email": "ada@example.com"}, headers=ORIGIN)
    unknown = api.post("/api/v1/auth/password-reset", json={"email": "nobody@example.com"}, headers=ORIGIN)
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()


def test_password_reset_is_throttled(api, env):
    for _ in range(3):
        api.post("/api/v1/auth/password-reset", json={"email": "ada@example.com"}, headers=ORIGIN)
    assert_error(api.post("/api/v1/auth/password-reset", json={"email": "ada@example.com"}, headers=ORIGIN),
                 429, "too_many_requests")


def test_foreign_origin_cookie_write_is_refused(api, env):
    register(api)
    login(api)
    refused = api.post("/api/v1/tokens", json={"name": "ci"}, headers={"Origin": "http://evil.example"})
    assert_error(refused, 403, "foreign_origin")
    assert api.post("/api/v1/tokens", json={"name": "ci"}, headers=ORIGIN).status_code == 201
    # Reads are not writes; a cookie write with no Origin must show Sec-Fetch-Site (test_signin_throttle).
    assert api.get("/api/v1/tokens", headers={"Origin": "http://evil.example"}).status_code == 200
    assert_error(api.post("/api/v1/tokens", json={"name": "script"}), 403, "origin_unverified")


def test_change_password_keeps_this_session_and_ends_others(api, env):
    from starlette.testclient import TestClient

    register(api)
    login(api)
    other = TestClient(api.app, base_url="http://localhost:3000")
    other.post("/api/v1/auth/login", json={"email": "ada@example.com", "password": PASSWORD}, headers=ORIGIN)
    assert other.get("/api/v1/me").status_code == 200
    changed = api.post("/api/v1/me/password", headers=ORIGIN,
                       json={"current_password": PASSWORD, "new_password": "a brand new passphrase"})
    assert changed.status_code == 200, changed.text
    assert api.get("/api/v1/me").status_code == 200
    assert other.get("/api/v1/me").status_code == 401


@pytest.mark.parametrize("path", ["/api/v1/me", "/health", "/docs", "/api/v1/nope"])
def test_security_headers_on_every_response(api, env, path):
    headers = api.get(path).headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert headers["x-frame-options"] == "DENY"
    assert "strict-transport-security" not in headers


def test_unknown_route_is_json_404(api, env):
    assert_error(api.get("/api/v1/does-not-exist"), 404, "not_found")


def test_openapi_documents_the_routes(api, env):
    spec = api.get("/openapi.json").json()
    for path in ("/api/v1/auth/register", "/api/v1/auth/login", "/api/v1/auth/logout", "/api/v1/me",
                 "/api/v1/tokens", "/api/v1/tokens/{token_id}"):
        assert path in spec["paths"], path
    docs = api.get("/docs")
    assert docs.status_code == 200 and "swagger-ui" in docs.text
    assert "cdn.jsdelivr" not in docs.text
