"""Linking a provider from Settings, unlinking (never the last way in), GitHub's OAuth 2.0 flavour."""

from __future__ import annotations

from app.services.auth.sessions import COOKIE_NAME
from tests.integration.sso_helpers import (
    HTML,
    ORIGIN,
    audit_actions,
    configure,
    counts,
    login,
    register,
    sso_callback,
    sso_error,
    sso_sign_in,
)

LINK = "/api/v1/auth/sso/testidp/start?link=1"


def test_explicit_link_from_settings_needs_no_verified_email(api, any_db, oidc):
    ada = register(api, "ada@example.com")
    assert login(api, "ada@example.com").status_code == 200
    oidc.user.update(email="a.lovelace@corp.example", email_verified=False)
    answer = api.get(sso_callback(api, oidc, LINK), headers=HTML, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/settings?sso_linked=testidp"
    methods = api.get("/api/v1/me/sso").json()
    assert methods["has_password"] is True
    assert [(i["provider"], i["label"]) for i in methods["identities"]] == [("testidp", "Test IdP")]
    assert "sso.linked" in audit_actions()
    # From now on the provider signs Ada in, although its email is another and unverified.
    api.cookies.clear()
    assert sso_sign_in(api, oidc).headers["location"] == "/dashboard"
    assert api.get("/api/v1/me").json()["id"] == ada["id"]


def test_link_needs_a_session_and_refuses_someone_elses_identity(api, any_db, oidc):
    answer = api.get(LINK, headers=HTML, follow_redirects=False)
    assert answer.status_code == 303 and "sso_error=sso_link_session" in answer.headers["location"]
    assert sso_sign_in(api, oidc).status_code == 303  # Alice's account owns the identity
    api.cookies.clear()
    register(api, "bob@example.com")
    assert login(api, "bob@example.com").status_code == 200
    answer = api.get(sso_callback(api, oidc, LINK), headers=HTML, follow_redirects=False)
    assert answer.headers["location"].startswith("/settings?sso_error=sso_already_linked")
    assert counts()["SsoIdentity"] == 1


def test_unlink_keeps_one_way_in(api, any_db, oidc, monkeypatch):
    configure(oidc, monkeypatch, github=True)
    assert sso_sign_in(api, oidc).status_code == 303  # Alice: made by sign-on, no password
    only = api.get("/api/v1/me/sso").json()
    assert only["has_password"] is False and len(only["identities"]) == 1
    refused = api.delete(f"/api/v1/me/sso/{only['identities'][0]['id']}", headers=ORIGIN)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "sso_last_method"

    # Link GitHub too (the same person's GitHub account), then the first can go.
    oidc.user["sub"] = "4242"
    github_start = "/api/v1/auth/sso/github/start?link=1"
    answer = api.get(sso_callback(api, oidc, github_start), headers=HTML, follow_redirects=False)
    assert answer.headers["location"] == "/settings?sso_linked=github"
    two = api.get("/api/v1/me/sso").json()["identities"]
    assert sorted(i["provider"] for i in two) == ["github", "testidp"]
    testidp = next(i for i in two if i["provider"] == "testidp")
    left = api.delete(f"/api/v1/me/sso/{testidp['id']}", headers=ORIGIN)
    assert left.status_code == 200 and [i["provider"] for i in left.json()["identities"]] == ["github"]
    assert "sso.unlinked" in audit_actions()
    last = api.delete(f"/api/v1/me/sso/{left.json()['identities'][0]['id']}", headers=ORIGIN)
    assert last.json()["error"]["code"] == "sso_last_method"
    # Someone else's identity id is not found.
    assert api.delete("/api/v1/me/sso/99999", headers=ORIGIN).status_code == 404


def test_a_password_account_may_unlink_its_only_identity(api, any_db, oidc):
    register(api, "alice@corp.example")
    assert sso_sign_in(api, oidc).status_code == 303  # linked by verified email
    identity = api.get("/api/v1/me/sso").json()["identities"][0]
    assert api.delete(f"/api/v1/me/sso/{identity['id']}", headers=ORIGIN).status_code == 200
    assert counts()["SsoIdentity"] == 0


def test_github_signs_in_with_its_primary_verified_email(api, any_db, oidc, monkeypatch):
    configure(oidc, monkeypatch, github=True)
    oidc.user.update(sub="777", email="octo@corp.example", name="Octo Cat")
    answer = sso_sign_in(api, oidc, "/api/v1/auth/sso/github/start")
    assert answer.headers["location"] == "/dashboard" and COOKIE_NAME in answer.headers["set-cookie"]
    assert api.get("/api/v1/me").json()["email"] == "octo@corp.example"
    # GitHub is OAuth 2.0: no nonce, no ID token; PKCE still.
    authorize = oidc.sent("GET", "/login/oauth/authorize")[0].query
    assert "nonce" not in authorize and authorize["code_challenge_method"] == ["S256"]


def test_github_without_a_verified_email_is_refused(api, any_db, oidc, monkeypatch):
    configure(oidc, monkeypatch, github=True)
    register(api, "octo@corp.example")
    oidc.user.update(sub="778", email="octo@corp.example")
    oidc.github_emails = [{"email": "octo@corp.example", "primary": True, "verified": False}]
    before = counts()
    assert sso_error(sso_sign_in(api, oidc, "/api/v1/auth/sso/github/start")) == "sso_email_unverified"
    assert counts() == before
