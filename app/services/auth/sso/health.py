"""What /admin/health says about each sign-in provider: its discovery document reachable, and the
role-mapping workspace present. Providers do not decide readiness: password sign-in still works."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from app.db import read_scope
from app.models import Workspace
from app.services.auth.sso import protocol
from app.settings import get_settings
from app.settings_sso import SsoProvider

PROBE_SECONDS = 3.0
KIND_LABELS = {"oidc": "OpenID Connect", "google": "Google (OIDC)", "github": "GitHub (OAuth 2.0)",
               "microsoft": "Microsoft Entra ID (OIDC)"}


def _probe(provider: SsoProvider) -> tuple[str, str]:
    if not provider.is_oidc:
        return "ok", f"OAuth 2.0 endpoints {provider.authorize_url} (no discovery document)"
    try:
        doc = protocol._get_json(provider.discovery_url, timeout=PROBE_SECONDS)
    except (httpx.HTTPError, ValueError) as exc:
        return "down", f"discovery at {provider.discovery_url} not reachable: {type(exc).__name__}: {exc}"[:300]
    if not isinstance(doc, dict) or not all(doc.get(k) for k in ("issuer", "authorization_endpoint",
                                                                  "token_endpoint", "jwks_uri")):
        return "down", f"{provider.discovery_url} is not an OpenID Connect discovery document"
    return "ok", f"issuer {doc['issuer']}"


def _mapping(provider: SsoProvider) -> str:
    if not provider.role_claim:
        return ""
    with read_scope() as session:  # it rolls back on leaving: read what is needed inside
        workspace = session.get(Workspace, provider.workspace_id)
        name = workspace.name if workspace is not None and workspace.kind == "team" else None
    if name is None:
        return f"role claim '{provider.role_claim}' → workspace {provider.workspace_id}: no such team workspace"
    return f"role claim '{provider.role_claim}' → {name} (workspace {provider.workspace_id})"


def provider_health() -> list[dict[str, str]]:
    """One row per configured provider: name, label, kind, state (ok | down), detail, mapping."""
    providers = list(get_settings().sso.values())
    if not providers:
        return []
    with ThreadPoolExecutor(max_workers=min(8, len(providers))) as pool:
        probes = list(pool.map(_probe, providers))
    rows = []
    for provider, (state, detail) in zip(providers, probes, strict=True):
        mapping = _mapping(provider)
        if "no such" in mapping:
            state = "down"
        rows.append({"name": provider.name, "label": provider.label, "kind": KIND_LABELS[provider.kind],
                     "state": state, "detail": detail, "mapping": mapping})
    return rows
