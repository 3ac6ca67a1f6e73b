"""Pure rules of the sign-on flow: issuers per kind, which emails count as verified, the role a claim maps to."""

from app.services.auth.sso.protocol import _email_verified, _issuer_matches
from app.services.auth.sso.roles import mapped_role
from app.settings_sso import SsoProvider


def provider(kind: str = "oidc", **values) -> SsoProvider:
    base = {"name": kind, "kind": kind, "label": kind, "client_id": "c", "scopes": "openid",
            "discovery_url": "https://id.example/.well-known/openid-configuration"}
    return SsoProvider(**{**base, **values})


def test_microsoft_multi_tenant_issuer_is_the_tokens_own_tenant():
    template = "https://login.microsoftonline.com/{tenantid}/v2.0"
    ms = provider("microsoft")
    assert _issuer_matches(ms, template, {"iss": "https://login.microsoftonline.com/t-1/v2.0", "tid": "t-1"})
    assert not _issuer_matches(ms, template, {"iss": "https://login.microsoftonline.com/t-2/v2.0", "tid": "t-1"})
    assert not _issuer_matches(ms, template, {"iss": template})  # no tid: no tenant to check against


def test_google_issuer_in_either_documented_form():
    google = provider("google")
    assert _issuer_matches(google, "https://accounts.google.com", {"iss": "accounts.google.com"})
    assert not _issuer_matches(provider(), "https://accounts.google.com", {"iss": "accounts.google.com"})


def test_which_emails_are_verified():
    assert _email_verified(provider(), {"email_verified": True})
    assert _email_verified(provider(), {"email_verified": "true"})  # some IdPs send a string
    assert not _email_verified(provider(), {})
    # Entra's email claim is typed by tenant admins: only a domain-owner-verified one counts.
    assert not _email_verified(provider("microsoft"), {"email_verified": True})
    assert _email_verified(provider("microsoft"), {"xms_edov": True})
    assert _email_verified(provider("microsoft", trust_email=True), {})


def test_the_strongest_mapped_role_wins():
    p = provider(role_claim="groups", role_map={"a": "viewer", "b": "editor", "c": "admin"}, workspace_id=2)
    assert mapped_role(p, {"groups": ["a", "b"]}) == "editor"
    assert mapped_role(p, {"groups": ["c", "a"]}) == "admin"
    assert mapped_role(p, {"groups": "a"}) == "viewer"
    assert mapped_role(p, {"groups": ["x", 3, None]}) is None
    assert mapped_role(p, {}) is None
