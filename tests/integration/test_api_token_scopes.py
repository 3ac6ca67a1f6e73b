"""Scoped API tokens: bound to a workspace, carrying scopes, expiring; and the X-Workspace header."""

from datetime import UTC, datetime, timedelta

from app.db import session_scope
from app.models import ApiToken, AuditEvent, Membership
from app.services.workspaces.service import create_team
from tests.integration.test_api_auth import ORIGIN, assert_error, login, register


def bearer(token: str, **extra) -> dict:
    return {"Authorization": f"Bearer {token}", **extra}


def team_of(owner_id: int, *members: tuple[int, str]) -> int:
    with session_scope() as session:
        workspace_id = create_team(session=session, user_id=owner_id, name="Studio").id
        for user_id, role in members:
            session.add(Membership(workspace_id=workspace_id, user_id=user_id, role=role))
    return workspace_id


def test_scopes_workspace_and_expiry_are_kept_shown_and_audited(api, env):
    ada = register(api).json()
    login(api)
    studio = team_of(ada["id"])
    made = api.post("/api/v1/tokens", headers=ORIGIN, json={
        "name": "ci", "scopes": ["read", "rename:write", "read"], "workspace_id": studio, "expires_in_days": 30})
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["scopes"] == ["read", "rename:write"] and body["workspace_id"] == studio
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(days=29) < expires - datetime.now(UTC) <= timedelta(days=30)
    listed = api.get("/api/v1/tokens").json()["tokens"][0]
    assert (listed["scopes"], listed["workspace_id"], listed["expires_at"]) == (
        ["read", "rename:write"], studio, body["expires_at"])
    # Tokens from before scopes: full access, personal workspace, no expiry.
    plain = api.post("/api/v1/tokens", headers=ORIGIN, json={"name": "old style"}).json()
    assert (plain["scopes"], plain["workspace_id"], plain["expires_at"]) == ([], None, None)

    api.cookies.clear()
    me = api.get("/api/v1/me", headers=bearer(body["token"])).json()
    assert (me["workspace_id"], me["workspace_role"]) == (studio, "owner")
    assert api.get("/api/v1/me", headers=bearer(plain["token"])).json()["workspace_id"] != studio
    # A read + rename token cannot mint itself a broader token, nor touch the library.
    assert_error(api.post("/api/v1/tokens", json={"name": "wider"}, headers=bearer(body["token"])), 403,
                 "insufficient_scope")
    assert_error(api.post("/api/v1/collections", json={"name": "x"}, headers=bearer(body["token"])), 403,
                 "insufficient_scope")
    # Ada is the site admin; a scoped token of hers reaches the admin routes only with the admin scope.
    assert api.get("/api/v1/admin/users", headers=bearer(plain["token"])).status_code == 200
    assert_error(api.get("/api/v1/admin/users", headers=bearer(body["token"])), 403, "insufficient_scope")
    assert api.delete(f"/api/v1/tokens/{body['id']}", headers=bearer(plain["token"])).status_code == 204
    with session_scope() as session:
        details = {e.action: e.detail for e in session.query(AuditEvent).filter(AuditEvent.target == "ci")}
    assert details["token.created"].startswith(f"workspace:{studio}; scopes: read rename:write; expires: ")
    assert details["token.revoked"] == details["token.created"]


def test_bad_token_requests_name_the_problem(api, env):
    ada = register(api).json()
    grace = register(api, email="grace@example.com").json()
    login(api)
    theirs = team_of(grace["id"])
    cases = [
        ({"scopes": ["read", "everything"]}, 422, "invalid_scope"),
        ({"scopes": []}, 422, "invalid_scope"),
        ({"workspace_id": theirs}, 404, "workspace_not_found"),
        ({"workspace_id": 999}, 404, "workspace_not_found"),
        ({"expires_at": "2020-01-01T00:00:00Z"}, 422, "invalid_expiry"),
        ({"expires_at": (datetime.now(UTC) + timedelta(days=400)).isoformat()}, 422, "invalid_expiry"),
        ({"expires_at": "2030-01-01T00:00:00"}, 422, "invalid_expiry"),
        ({"expires_at": (datetime.now(UTC) + timedelta(days=3)).isoformat(), "expires_in_days": 3}, 422,
         "invalid_expiry"),
        ({"expires_in_days": 0}, 422, "validation_failed"),
    ]
    for extra, status, code in cases:
        assert_error(api.post("/api/v1/tokens", json={"name": "x", **extra}, headers=ORIGIN), status, code)
    assert api.get("/api/v1/tokens").json()["tokens"] == []  # nothing half-made
    assert ada["id"] != grace["id"]


def test_an_expired_token_says_so(api, env):
    register(api)
    login(api)
    made = api.post("/api/v1/tokens", headers=ORIGIN, json={"name": "short", "expires_in_days": 1}).json()
    api.cookies.clear()
    assert api.get("/api/v1/me", headers=bearer(made["token"])).status_code == 200
    with session_scope() as session:
        row = session.get(ApiToken, made["id"])
        row.expires_at = datetime.now(UTC) - timedelta(minutes=1)
        session.add(row)
    response = api.get("/api/v1/me", headers=bearer(made["token"]))
    assert_error(response, 401, "token_expired")
    assert "expired on" in response.json()["error"]["message"]
    assert_error(api.get("/api/v1/me", headers=bearer("atl_" + "x" * 40)), 401, "invalid_token")


def test_the_workspace_header(api, env):
    ada = register(api).json()
    grace = register(api, email="grace@example.com").json()
    studio = team_of(ada["id"], (grace["id"], "viewer"))
    elsewhere = team_of(ada["id"])
    login(api, email="grace@example.com")
    own = api.get("/api/v1/me").json()
    assert own["workspace_role"] == "owner" and own["workspace_id"] not in (studio, elsewhere)
    there = api.get("/api/v1/me", headers={"X-Workspace": str(studio)}).json()
    assert (there["workspace_id"], there["workspace_role"]) == (studio, "viewer")
    assert api.get("/api/v1/assets", headers={"X-Workspace": str(studio)}).status_code == 200
    assert_error(api.post("/api/v1/collections", json={"name": "x"}, headers={**ORIGIN, "X-Workspace": str(studio)}),
                 403, "role_forbidden")
    # In her own workspace she is the owner: the header is per request, the session stays where it was.
    assert api.post("/api/v1/collections", json={"name": "x"}, headers=ORIGIN).status_code == 201
    assert_error(api.get("/api/v1/assets", headers={"X-Workspace": str(elsewhere)}), 404, "workspace_not_found")
    assert_error(api.get("/api/v1/assets", headers={"X-Workspace": "999999"}), 404, "workspace_not_found")
    assert_error(api.get("/api/v1/assets", headers={"X-Workspace": "studio"}), 422, "invalid_workspace_header")

    # A token acts only where it is bound.
    made = api.post("/api/v1/tokens", headers=ORIGIN, json={"name": "t", "workspace_id": studio}).json()
    api.cookies.clear()
    assert api.get("/api/v1/assets", headers=bearer(made["token"], **{"X-Workspace": str(studio)})).status_code == 200
    refused = api.get("/api/v1/assets", headers=bearer(made["token"], **{"X-Workspace": str(own["workspace_id"])}))
    assert_error(refused, 403, "token_workspace_mismatch")
    assert f"bound to workspace {studio}" in refused.json()["error"]["message"]
    # Removed from the workspace: the token bound to it stops at once.
    with session_scope() as session:
        session.delete(session.get(Membership, (studio, grace["id"])))
    assert_error(api.get("/api/v1/assets", headers=bearer(made["token"])), 401, "invalid_token")


async def test_the_settings_form_makes_scoped_expiring_workspace_tokens(env):
    from app.services.auth.sessions import COOKIE_NAME, create_session
    from state.settings import SettingsState
    from tests.integration.test_accounts import register as register_user
    from tests.integration.test_state_guards import FakeState

    ada = register_user("ada@example.com")
    studio = team_of(ada.id)
    with session_scope() as session:
        fake = FakeState(f"{COOKIE_NAME}={create_session(session=session, user_id=ada.id)}")
    fake.token_scopes, fake.tokens, fake.token_workspaces, fake.token_error, fake.new_secret = [], [], [], "", ""
    fake._load_tokens = lambda user_id: SettingsState._load_tokens(fake, user_id)
    toggle = SettingsState.event_handlers["toggle_scope"].fn
    for scope, checked in (("rename:write", True), ("read", True), ("admin", True), ("admin", False), ("x", True)):
        toggle(fake, scope, checked)
    assert fake.token_scopes == ["read", "rename:write"]  # in the matrix's order, unknown ones ignored
    create = SettingsState.event_handlers["create_token"].fn
    await create(fake, {"token_name": "ci", "token_workspace": str(studio), "token_expiry": "30"})
    assert fake.token_error == "" and fake.new_secret.startswith("atl_") and fake.token_scopes == []
    row = fake.tokens[0]
    assert (row["scopes"], row["workspace"]) == ("read rename:write", "Studio")
    assert [w["name"] for w in fake.token_workspaces] == ["Personal (Owner)", "Studio (Owner)"]
    await create(fake, {"token_name": "forever", "token_workspace": "personal", "token_expiry": "0"})
    assert (fake.tokens[0]["scopes"], fake.tokens[0]["workspace"], fake.tokens[0]["expires"]) == (
        "full access", "Personal", "never")
    await create(fake, {"token_name": "sneaky", "token_workspace": "999", "token_expiry": "30"})
    assert fake.token_error == "No such workspace."
