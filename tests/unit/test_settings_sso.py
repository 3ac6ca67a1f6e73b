"""SSO_PROVIDERS and the SSO_<NAME>_* variables: defaults per kind, and errors that name the variable."""

import pytest
from pydantic import ValidationError

from app.settings import Settings


@pytest.fixture(autouse=True)
def _no_sso_env(monkeypatch):
    import os

    for name in list(os.environ):
        if name.startswith(("SSO_", "OIDC_")):
            monkeypatch.delenv(name)


def make(monkeypatch, providers: str, **env: str) -> Settings:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings(_env_file=None, sso_providers=providers)


def test_no_providers_by_default(monkeypatch):
    assert make(monkeypatch, "").sso == {}


def test_kinds_and_their_defaults(monkeypatch):
    settings = make(monkeypatch, "google, github,entra,corp",
                    SSO_GOOGLE_CLIENT_ID="g", SSO_GOOGLE_CLIENT_SECRET="gs",
                    SSO_GITHUB_CLIENT_ID="h", SSO_GITHUB_CLIENT_SECRET="hs",
                    SSO_ENTRA_KIND="microsoft", SSO_ENTRA_CLIENT_ID="m", SSO_ENTRA_CLIENT_SECRET="ms",
                    SSO_ENTRA_TENANT="contoso.onmicrosoft.com",
                    SSO_CORP_CLIENT_ID="c", SSO_CORP_DISCOVERY_URL="https://id.corp.example/.well-known/openid-configuration",
                    SSO_CORP_LABEL="Corp login", SSO_CORP_SCOPES="openid,email,profile,groups")
    assert list(settings.sso) == ["google", "github", "entra", "corp"]
    google, github, entra, corp = settings.sso.values()
    assert (google.kind, google.label, google.scopes) == ("google", "Google", "openid email profile")
    assert google.discovery_url.startswith("https://accounts.google.com/")
    assert (github.kind, github.is_oidc, github.scopes) == ("github", False, "read:user user:email")
    assert entra.discovery_url == ("https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0"
                                   "/.well-known/openid-configuration")
    assert (corp.kind, corp.label, corp.client_secret) == ("oidc", "Corp login", "")  # a public PKCE client
    assert corp.scopes == "openid email profile groups"


@pytest.mark.parametrize(("env", "message"), [
    ({}, "SSO_CORP_CLIENT_ID is required"),
    ({"SSO_CORP_CLIENT_ID": "c"}, "SSO_CORP_DISCOVERY_URL is required"),
    ({"SSO_CORP_CLIENT_ID": "c", "SSO_CORP_DISCOVERY_URL": "ftp://x"}, "must be an http"),
    ({"SSO_CORP_CLIENT_ID": "c", "SSO_CORP_KIND": "saml"}, "SSO_CORP_KIND must be one of"),
    ({"SSO_CORP_CLIENT_ID": "c", "SSO_CORP_DISCOVERY_URL": "https://x", "SSO_CORP_SCOPES": "email"},
     "must include 'openid'"),
    ({"SSO_CORP_CLIENT_ID": "c", "SSO_CORP_DISCOVERY_URL": "https://x", "SSO_CORP_ROLE_CLAIM": "groups"},
     "also set SSO_CORP_ROLE_MAP"),
    ({"SSO_CORP_CLIENT_ID": "c", "SSO_CORP_DISCOVERY_URL": "https://x", "SSO_CORP_ROLE_CLAIM": "groups",
      "SSO_CORP_ROLE_MAP": "{not json", "SSO_CORP_WORKSPACE_ID": "2"}, "SSO_CORP_ROLE_MAP is not valid JSON"),
    ({"SSO_CORP_CLIENT_ID": "c", "SSO_CORP_DISCOVERY_URL": "https://x", "SSO_CORP_ROLE_CLAIM": "groups",
      "SSO_CORP_ROLE_MAP": '{"everyone": "owner"}', "SSO_CORP_WORKSPACE_ID": "2"}, "roles a claim may grant"),
    ({"SSO_CORP_CLIENT_ID": "c", "SSO_CORP_DISCOVERY_URL": "https://x", "SSO_CORP_ROLE_CLAIM": "groups",
      "SSO_CORP_ROLE_MAP": '{"a": "editor"}', "SSO_CORP_WORKSPACE_ID": "two"}, "SSO_CORP_WORKSPACE_ID must be"),
    ({"SSO_CORP_CLIENT_ID": "c", "SSO_CORP_DISCOVERY_URL": "https://x", "SSO_CORP_ROLE_MAP": '{"a": "editor"}'},
     "without SSO_CORP_ROLE_CLAIM"),
    ({"SSO_CORP_CLIENT_ID": "c", "SSO_CORP_DISCOVERY_URL": "https://x", "SSO_CORP_TOKEN_URL": "https://x/t"},
     "are for GitHub"),
])
def test_errors_name_the_variable(monkeypatch, env, message):
    with pytest.raises(ValidationError, match=message):
        make(monkeypatch, "corp", **env)


def test_secret_required_for_hosted_kinds_and_bad_names(monkeypatch):
    with pytest.raises(ValidationError, match="SSO_GITHUB_CLIENT_SECRET is required"):
        make(monkeypatch, "github", SSO_GITHUB_CLIENT_ID="h")
    with pytest.raises(ValidationError, match="not a valid provider name"):
        make(monkeypatch, "corp-login")
    with pytest.raises(ValidationError, match="twice"):
        make(monkeypatch, "google,Google", SSO_GOOGLE_CLIENT_ID="g", SSO_GOOGLE_CLIENT_SECRET="s")


def test_shared_role_mapping_defaults(monkeypatch):
    settings = make(monkeypatch, "corp", SSO_CORP_CLIENT_ID="c", SSO_CORP_DISCOVERY_URL="https://x",
                    OIDC_ROLE_CLAIM="roles", OIDC_ROLE_MAP='{"Atelier.Editors": "editor"}', SSO_WORKSPACE_ID="3")
    corp = settings.sso["corp"]
    assert (corp.role_claim, corp.role_map, corp.workspace_id) == ("roles", {"Atelier.Editors": "editor"}, 3)
