"""Personal API tokens and the admin routes."""

from app.services.auth.sessions import COOKIE_NAME, issue_ticket
from tests.integration.test_api_auth import ORIGIN, PASSWORD, assert_error, login, register


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def new_token(api, name="ci") -> dict:
    response = api.post("/api/v1/tokens", json={"name": name}, headers=ORIGIN)
    assert response.status_code == 201, response.text
    return response.json()


def test_token_is_shown_once_and_works_until_revoked(api, any_db):
    register(api)
    login(api)
    created = new_token(api)
    secret = created["token"]
    assert secret.startswith("atl_") and created["prefix"] == secret[:10]
    listed = api.get("/api/v1/tokens").json()["tokens"]
    assert [t["id"] for t in listed] == [created["id"]]
    assert "token" not in listed[0] and secret not in api.get("/api/v1/tokens").text
    api.cookies.clear()
    me = api.get("/api/v1/me", headers=bearer(secret))
    assert me.status_code == 200 and me.json()["email"] == "ada@example.com"
    # A bearer token needs no Origin check: it is not sent by the browser on its own.
    assert api.post("/api/v1/tokens", json={"name": "x"},
                    headers={**bearer(secret), "Origin": "http://evil.example"}).status_code == 201
    assert api.delete(f"/api/v1/tokens/{created['id']}", headers=bearer(secret)).status_code == 204
    assert_error(api.get("/api/v1/me", headers=bearer(secret)), 401, "invalid_token")


def test_tokens_of_others_are_invisible(api, any_db):
    register(api)
    register(api, email="grace@example.com")
    login(api)
    ada_token = new_token(api)
    api.post("/api/v1/auth/logout", headers=ORIGIN)
    login(api, email="grace@example.com")
    assert api.get("/api/v1/tokens").json()["tokens"] == []
    assert_error(api.delete(f"/api/v1/tokens/{ada_token['id']}", headers=ORIGIN), 404, "not_found")
    api.cookies.clear()
    assert api.get("/api/v1/me", headers=bearer(ada_token["token"])).status_code == 200


def test_garbage_tokens_are_refused(api, env):
    for value in ("atl_nope", "nope", "atl_" + "a" * 500):
        assert api.get("/api/v1/me", headers=bearer(value)).status_code == 401
    assert api.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401


def test_token_names_are_validated(api, env):
    register(api)
    login(api)
    assert_error(api.post("/api/v1/tokens", json={"name": ""}, headers=ORIGIN), 422, "validation_failed")
    assert_error(api.post("/api/v1/tokens", json={"name": "x" * 81}, headers=ORIGIN), 422, "validation_failed")


def test_admin_routes_need_the_admin_role(api, any_db):
    register(api)
    register(api, email="grace@example.com")
    login(api, email="grace@example.com")
    assert_error(api.get("/api/v1/admin/users"), 403, "forbidden")
    assert_error(api.patch("/api/v1/admin/users/1", json={"role": "member"}, headers=ORIGIN), 403, "forbidden")
    api.post("/api/v1/auth/logout", headers=ORIGIN)
    assert_error(api.get("/api/v1/admin/users"), 401, "auth_required")
    login(api)
    page = api.get("/api/v1/admin/users", params={"q": "grace"}).json()
    assert page["total"] == 1 and page["users"][0]["email"] == "grace@example.com"
    grace_id = page["users"][0]["id"]
    patched = api.patch(f"/api/v1/admin/users/{grace_id}", json={"role": "admin", "is_active": False},
                        headers=ORIGIN)
    assert patched.status_code == 200 and patched.json()["role"] == "admin"
    assert patched.json()["is_active"] is False
    assert_error(api.patch("/api/v1/admin/users/999", json={"role": "admin"}, headers=ORIGIN), 404, "not_found")
    assert_error(api.patch(f"/api/v1/admin/users/{grace_id}", json={"role": "owner"}, headers=ORIGIN),
                 422, "invalid_role")


def test_disabling_a_user_ends_their_sessions_and_tokens(api, env):
    from starlette.testclient import TestClient

    register(api)
    register(api, email="grace@example.com")
    grace = TestClient(api.app, base_url="http://localhost:3000")
    login(grace, email="grace@example.com")
    token = new_token(grace)["token"]
    login(api)
    grace_id = api.get("/api/v1/admin/users", params={"q": "grace"}).json()["users"][0]["id"]
    api.patch(f"/api/v1/admin/users/{grace_id}", json={"is_active": False}, headers=ORIGIN)
    assert grace.get("/api/v1/me").status_code == 401
    grace.cookies.clear()
    assert grace.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_sign_in_ticket_sets_the_cookie_once(api, env):
    user = register(api).json()
    ticket = issue_ticket(user_id=user["id"], next_path="/settings")
    response = api.get(f"/api/v1/auth/complete?ticket={ticket}", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/settings"
    assert "httponly" in response.headers["set-cookie"].lower()
    assert api.get("/api/v1/me").status_code == 200
    replay = api.get(f"/api/v1/auth/complete?ticket={ticket}", follow_redirects=False)
    assert replay.headers["location"].startswith("/signin")


def test_ticket_next_path_cannot_leave_the_site(api, env):
    user = register(api).json()
    ticket = issue_ticket(user_id=user["id"], next_path="//evil.example/")
    response = api.get(f"/api/v1/auth/complete?ticket={ticket}", follow_redirects=False)
    assert response.headers["location"] == "/dashboard"


def test_signed_out_route_clears_the_cookie(api, env):
    response = api.get("/api/v1/auth/signed-out", follow_redirects=False)
    assert response.status_code == 303
    assert f'{COOKIE_NAME}=""' in response.headers["set-cookie"] or "max-age=0" in response.headers[
        "set-cookie"].lower()


def test_password_is_never_echoed(api, env):
    body = register(api).text + login(api).text
    assert PASSWORD not in body
