"""Single sign-on providers as settings: one `SsoProvider` per name in SSO_PROVIDERS.

Read by app.settings (the only place that reads the environment) from variables named
SSO_<NAME>_<FIELD>, e.g. SSO_PROVIDERS=google,github,corp with SSO_CORP_DISCOVERY_URL=... . A name
that is a provider kind (google, github, microsoft) is that kind; any other name is a generic OpenID
Connect provider unless SSO_<NAME>_KIND says otherwise (e.g. `entra` with KIND=microsoft).
Errors name the variable to fix, so a bad configuration stops the start with a clear message.
"""

from __future__ import annotations

import json
import re
from typing import Literal

from pydantic import BaseModel

Kind = Literal["oidc", "google", "github", "microsoft"]
KINDS = ("oidc", "google", "github", "microsoft")
# Roles a claim may grant: ownership only moves by transfer, never from a group claim.
MAPPABLE_ROLES = ("admin", "editor", "approver", "viewer")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
FIELDS = ("KIND", "CLIENT_ID", "CLIENT_SECRET", "DISCOVERY_URL", "SCOPES", "LABEL", "TENANT", "ROLE_CLAIM",
          "ROLE_MAP", "WORKSPACE_ID", "TRUST_EMAIL", "AUTHORIZE_URL", "TOKEN_URL", "API_URL")

GOOGLE_DISCOVERY = "https://accounts.google.com/.well-known/openid-configuration"
MICROSOFT_DISCOVERY = "https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration"
GITHUB_AUTHORIZE = "https://github.com/login/oauth/authorize"
GITHUB_TOKEN = "https://github.com/login/oauth/access_token"
GITHUB_API = "https://api.github.com"

_DEFAULTS: dict[str, dict[str, str]] = {
    "oidc": {"scopes": "openid email profile"},
    "google": {"scopes": "openid email profile", "label": "Google", "discovery_url": GOOGLE_DISCOVERY},
    "microsoft": {"scopes": "openid email profile", "label": "Microsoft"},
    "github": {"scopes": "read:user user:email", "label": "GitHub"},
}


class SsoProvider(BaseModel):
    """One configured sign-in provider. Secrets stay here; the UI sees name, label and kind."""

    name: str
    kind: Kind
    label: str
    client_id: str
    client_secret: str = ""
    # OpenID Connect discovery document (all kinds but github).
    discovery_url: str = ""
    scopes: str
    # Microsoft Entra ID: a tenant id or domain, or common | organizations | consumers.
    tenant: str = ""
    # Group/role claim mapped to a workspace role at each sign-in: claim value → role.
    role_claim: str = ""
    role_map: dict[str, str] = {}
    workspace_id: int | None = None
    # Take the provider's email as verified although it does not say so (an organisation's own IdP).
    trust_email: bool = False
    # GitHub only (GitHub Enterprise Server, or a test server): the OAuth endpoints and the REST API root.
    authorize_url: str = ""
    token_url: str = ""
    api_url: str = ""

    @property
    def is_oidc(self) -> bool:
        return self.kind != "github"


def _env_name(name: str, field: str) -> str:
    return f"SSO_{name.upper()}_{field}"


def parse_providers(names: list[str], env: dict[str, str], *, defaults: dict[str, str]) -> dict[str, SsoProvider]:
    """Build and check every provider in `names` from `env` (SSO_* variables, keys upper-case).

    `defaults` holds the role-mapping defaults shared by all providers (OIDC_ROLE_CLAIM, OIDC_ROLE_MAP,
    SSO_WORKSPACE_ID). Raises ValueError naming the variable at fault.
    """
    providers: dict[str, SsoProvider] = {}
    for raw in names:
        name = raw.strip().lower()
        if not _NAME.match(name):
            raise ValueError(f"SSO_PROVIDERS: {raw!r} is not a valid provider name (a letter, then letters, "
                             "digits or _; at most 40)")
        if name in providers:
            raise ValueError(f"SSO_PROVIDERS names {name!r} twice")

        def get(field: str, fallback: str = "", _name: str = name) -> str:
            return env.get(_env_name(_name, field), fallback).strip()

        kind = get("KIND", name if name in KINDS else "oidc").lower()
        if kind not in KINDS:
            raise ValueError(f"{_env_name(name, 'KIND')} must be one of {', '.join(KINDS)}, not {kind!r}")
        base = _DEFAULTS[kind]
        client_id = get("CLIENT_ID")
        if not client_id:
            raise ValueError(f"{_env_name(name, 'CLIENT_ID')} is required for the SSO provider {name!r}")
        secret = get("CLIENT_SECRET")
        if not secret and kind != "oidc":
            raise ValueError(f"{_env_name(name, 'CLIENT_SECRET')} is required for the {kind} provider {name!r}")
        tenant = get("TENANT", "common" if kind == "microsoft" else "")
        discovery = get("DISCOVERY_URL", base.get("discovery_url", ""))
        if kind == "microsoft" and not discovery:
            if not re.match(r"^[A-Za-z0-9.-]{1,100}$", tenant):
                raise ValueError(f"{_env_name(name, 'TENANT')} must be a tenant id or domain, or common, "
                                 "organizations or consumers")
            discovery = MICROSOFT_DISCOVERY.format(tenant=tenant)
        if kind != "github":
            if not discovery:
                raise ValueError(f"{_env_name(name, 'DISCOVERY_URL')} is required for the OpenID Connect provider "
                                 f"{name!r} (its /.well-known/openid-configuration address)")
            if not discovery.startswith(("https://", "http://")):
                raise ValueError(f"{_env_name(name, 'DISCOVERY_URL')} must be an http(s) URL")
        scopes = " ".join(get("SCOPES", base["scopes"]).replace(",", " ").split())
        if kind != "github" and "openid" not in scopes.split():
            raise ValueError(f"{_env_name(name, 'SCOPES')} must include 'openid' for {name!r}")
        role_claim = get("ROLE_CLAIM", defaults.get("role_claim", ""))
        role_map_text = get("ROLE_MAP", defaults.get("role_map", ""))
        role_map = _parse_role_map(role_map_text, _env_name(name, "ROLE_MAP")) if role_map_text else {}
        workspace_text = get("WORKSPACE_ID", defaults.get("workspace_id", ""))
        workspace_id = None
        if workspace_text:
            if not workspace_text.isdigit() or int(workspace_text) < 1:
                raise ValueError(f"{_env_name(name, 'WORKSPACE_ID')} must be a workspace id (a positive number)")
            workspace_id = int(workspace_text)
        if role_claim and (not role_map or workspace_id is None):
            raise ValueError(f"{_env_name(name, 'ROLE_CLAIM')} is set for {name!r}: also set "
                             f"{_env_name(name, 'ROLE_MAP')} (JSON {{\"claim value\": \"role\"}}) and "
                             f"{_env_name(name, 'WORKSPACE_ID')} (the team workspace it applies to)")
        if role_map and not role_claim:
            raise ValueError(f"{_env_name(name, 'ROLE_MAP')} is set for {name!r} without "
                             f"{_env_name(name, 'ROLE_CLAIM')} (the claim to read, e.g. groups or roles)")
        trust = get("TRUST_EMAIL", "false").lower()
        if trust not in ("true", "false", "1", "0", "yes", "no"):
            raise ValueError(f"{_env_name(name, 'TRUST_EMAIL')} must be true or false")
        urls = {field.lower(): get(field) for field in ("AUTHORIZE_URL", "TOKEN_URL", "API_URL")}
        if kind != "github" and any(urls.values()):
            raise ValueError(f"SSO_{name.upper()}_AUTHORIZE_URL/TOKEN_URL/API_URL are for GitHub; "
                             f"{name!r} uses its discovery document")
        providers[name] = SsoProvider(
            name=name, kind=kind, label=get("LABEL", base.get("label", name.replace("_", " ").title()))[:40],
            client_id=client_id, client_secret=secret, discovery_url=discovery, scopes=scopes, tenant=tenant,
            role_claim=role_claim, role_map=role_map, workspace_id=workspace_id,
            trust_email=trust in ("true", "1", "yes"),
            authorize_url=urls["authorize_url"] or (GITHUB_AUTHORIZE if kind == "github" else ""),
            token_url=urls["token_url"] or (GITHUB_TOKEN if kind == "github" else ""),
            api_url=(urls["api_url"] or (GITHUB_API if kind == "github" else "")).rstrip("/"),
        )
    return providers


def _parse_role_map(text: str, variable: str) -> dict[str, str]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{variable} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or not data:
        raise ValueError(f'{variable} must be a JSON object such as {{"designers": "editor"}}')
    for value, role in data.items():
        if not isinstance(role, str) or role not in MAPPABLE_ROLES:
            raise ValueError(f"{variable} maps {value!r} to {role!r}; roles a claim may grant are "
                             f"{', '.join(MAPPABLE_ROLES)}")
    return {str(k): v for k, v in data.items()}
