"""Single sign-on against a real OpenID provider on loopback: sign-in, linking, and everything refused."""

from __future__ import annotations

import pytest
from sqlmodel import select

from app.services.auth.sessions import COOKIE_NAME
from tests.fake_oidc import decode_unverified, tamper
from tests.integration.sso_helpers import (
    HTML,
    audit_actions,
    counts,
    login,
    register,
    sso_callback,
    sso_error,
    sso_sign_in,
)


def _user(email: str):
    from app.db import session_scope
    from app.models import User

    with session_scope() as session:
        return session.exec(select(User).where(User.email == email)).one()


def test_first_sign_in_creates_user_workspace_and_session(api, any_db, oidc):
    answer = sso_sign_in(api, oidc)
    assert answer.status_code == 303 and answer.headers["location"] == "/dashboard"
    assert answer.headers["set-cookie"].startswith(f"{COOKIE_NAME}=")
    me = api.get("/api/v1/me").json()
    assert me["email"] == "alice@corp.example" and me["name"] == "Alice Example"
    assert me["role"] == "admin"  # the first account, as with the sign-up form
    user = _user("alice@corp.example")
    assert user.personal_workspace_id == me["workspace_id"] and me["workspace_role"] == "owner"
    assert user.last_login_at is not None  # Admin → Users: "Last sign-in"
    assert counts() == {"User": 1, "SsoIdentity": 1, "AuthSession": 1, "Workspace": 1, "Membership": 1}
    assert {"sso.user_created", "sso.signed_in", "auth.signin"} <= set(audit_actions())
    # The provider saw PKCE S256 and a nonce, and the token it signed carried that nonce.
    authorize = oidc.sent("GET", "/authorize")[0].query
    assert authorize["code_challenge_method"] == ["S256"] and authorize["nonce"][0]
    # No usable password: password sign-in answers exactly as for a wrong password.
    refused = login(api, "alice@corp.example", "!sso-only")
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_credentials"


def test_second_sign_in_reuses_the_identity(api, any_db, oidc):
    assert sso_sign_in(api, oidc).status_code == 303
    first = api.get("/api/v1/me").json()["id"]
    api.cookies.clear()
    oidc.user["email"] = "alice.new@corp.example"  # the address changed at the provider: still the same person
    assert sso_sign_in(api, oidc).headers["location"] == "/dashboard"
    assert api.get("/api/v1/me").json()["id"] == first
    assert counts()["User"] == 1 and counts()["SsoIdentity"] == 1


def test_verified_email_links_to_the_existing_account(api, any_db, oidc):
    ada = register(api, "alice@corp.example")
    assert sso_sign_in(api, oidc).status_code == 303
    assert api.get("/api/v1/me").json()["id"] == ada["id"]
    assert counts()["User"] == 1 and counts()["SsoIdentity"] == 1
    assert "sso.linked" in audit_actions()
    # The password still works beside the provider.
    assert login(api, "alice@corp.example").status_code == 200


@pytest.mark.parametrize("existing", [True, False])
def test_unverified_email_never_links_and_creates_nothing(api, any_db, oidc, existing):
    if existing:
        register(api, "alice@corp.example")
    oidc.user["email_verified"] = False
    before = counts()
    answer = sso_sign_in(api, oidc)
    assert sso_error(answer) == "sso_email_unverified"
    assert "set-cookie" not in answer.headers or COOKIE_NAME not in answer.headers["set-cookie"]
    assert counts() == before
    assert api.get("/api/v1/me").status_code == 401


@pytest.mark.parametrize("fault", ["bad_signature", "wrong_audience", "expired", "wrong_nonce", "no_nonce",
                                   "wrong_issuer"])
def test_id_token_faults_are_refused_with_nothing_created(api, any_db, oidc, fault):
    oidc.fault = fault
    answer = sso_sign_in(api, oidc)
    assert sso_error(answer) == "sso_token_invalid"
    assert counts() == {"User": 0, "SsoIdentity": 0, "AuthSession": 0, "Workspace": 0, "Membership": 0}
    assert "sso.failed" in audit_actions()


def test_the_fake_signs_what_it_says(oidc):
    """The faults are real: a bad-signature token carries the right claims, only the key differs."""
    grant = {"user": dict(oidc.user), "nonce": "n"}
    good = decode_unverified(oidc.id_token(grant, "at"))
    oidc.fault = "bad_signature"
    bad = decode_unverified(oidc.id_token(grant, "at"))
    assert {k: v for k, v in bad.items() if k not in ("iat", "exp")} == \
        {k: v for k, v in good.items() if k not in ("iat", "exp")}


def test_replayed_callback_is_refused(api, any_db, oidc):
    callback = sso_callback(api, oidc)
    assert api.get(callback, headers=HTML, follow_redirects=False).headers["location"] == "/dashboard"
    before = counts()
    api.cookies.clear()
    again = api.get(callback, headers=HTML, follow_redirects=False)
    assert sso_error(again) == "sso_state_invalid"
    assert counts() == before
    # The provider was not even asked again: the state was gone before the code could be sent.
    assert len(oidc.sent("POST", "/token")) == 1


def test_tampered_state_is_refused_in_json_too(api, any_db, oidc):
    callback = sso_callback(api, oidc)
    forged = tamper(callback, state="x" + callback.split("state=")[1][:20])
    answer = api.get(forged, follow_redirects=False)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "sso_state_invalid"
    assert "not valid or was already used" in answer.json()["error"]["message"]
    assert counts()["User"] == 0 and not oidc.sent("POST", "/token")


def test_callback_in_another_browser_is_refused(api, any_db, oidc):
    callback = sso_callback(api, oidc)
    api.cookies.clear()  # the browser-binding cookie from /start is gone: someone else's link
    assert sso_error(api.get(callback, headers=HTML, follow_redirects=False)) == "sso_state_invalid"
    assert counts()["User"] == 0


def test_provider_refusal_and_unknown_provider(api, any_db, oidc):
    oidc.deny = True
    assert sso_error(sso_sign_in(api, oidc)) == "sso_provider_error"
    unknown = api.get("/api/v1/auth/sso/nope/start", headers=HTML, follow_redirects=False)
    assert sso_error(unknown) == "sso_unknown_provider"
    assert api.get("/api/v1/auth/sso/nope/start").json()["error"]["code"] == "sso_unknown_provider"
    assert counts()["User"] == 0


def test_disabled_user_cannot_get_back_in(api, any_db, oidc):
    from app.db import session_scope
    from app.services.auth import accounts

    register(api, "admin@corp.example")  # an admin who stays
    assert sso_sign_in(api, oidc).status_code == 303
    user = _user("alice@corp.example")
    with session_scope() as session:
        accounts.set_active(session=session, actor_id=1, user_id=user.id, active=False)
    api.cookies.clear()
    before = counts()
    assert sso_error(sso_sign_in(api, oidc)) == "sso_account_disabled"
    assert counts() == before and api.get("/api/v1/me").status_code == 401


def test_disabled_user_is_not_linked_by_email(api, any_db, oidc):
    from app.db import session_scope
    from app.services.auth import accounts

    register(api, "admin@corp.example")
    register(api, "alice@corp.example")
    with session_scope() as session:
        accounts.set_active(session=session, actor_id=1, user_id=_user("alice@corp.example").id, active=False)
    assert sso_error(sso_sign_in(api, oidc)) == "sso_account_disabled"
    assert counts()["SsoIdentity"] == 0


def test_providers_list_names_each_button(api, env, oidc, monkeypatch):
    from tests.integration.sso_helpers import configure

    configure(oidc, monkeypatch, github=True)
    listed = api.get("/api/v1/auth/sso/providers").json()
    assert [(p["name"], p["label"], p["kind"]) for p in listed] == [("testidp", "Test IdP", "oidc"),
                                                                   ("github", "GitHub", "github")]
    assert listed[0]["start_url"] == "/api/v1/auth/sso/testidp/start"
    assert "secret" not in str(listed)


def test_health_lists_each_provider_without_deciding_readiness(api, env, oidc, monkeypatch):
    from app.db import session_scope
    from app.services.auth.sso.health import provider_health
    from app.services.workspaces import service as workspaces
    from tests.integration.sso_helpers import configure

    owner = register(api, "owner@corp.example")  # owns the team workspace the claim maps into
    with session_scope() as session:
        team = workspaces.create_team(session=session, user_id=owner["id"], name="Studio Team").id
    configure(oidc, monkeypatch, github=True, ROLE_CLAIM="groups", ROLE_MAP='{"designers": "editor"}',
              WORKSPACE_ID=str(team))
    monkeypatch.setenv("SSO_PROVIDERS", "testidp,github,gone")
    monkeypatch.setenv("SSO_GITHUB_ROLE_CLAIM", "teams")
    monkeypatch.setenv("SSO_GITHUB_ROLE_MAP", '{"octo": "viewer"}')
    monkeypatch.setenv("SSO_GITHUB_WORKSPACE_ID", "999")
    monkeypatch.setenv("SSO_GONE_CLIENT_ID", "x")
    monkeypatch.setenv("SSO_GONE_DISCOVERY_URL", "http://127.0.0.1:9/.well-known/openid-configuration")
    from tests.conftest import clear_caches

    clear_caches()
    rows = {row["name"]: row for row in provider_health()}
    assert rows["testidp"]["state"] == "ok" and oidc.issuer in rows["testidp"]["detail"]
    assert rows["testidp"]["mapping"] == f"role claim 'groups' → Studio Team (workspace {team})"
    assert rows["github"]["kind"] == "GitHub (OAuth 2.0)"
    assert rows["github"]["state"] == "down" and "no such team workspace" in rows["github"]["mapping"]
    assert rows["gone"]["state"] == "down" and "not reachable" in rows["gone"]["detail"]
