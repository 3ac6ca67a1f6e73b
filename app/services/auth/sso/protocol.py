"""The OAuth 2.0 / OpenID Connect conversation with a provider, through authlib.

authlib's OAuth2Client (httpx) builds the authorization URL (PKCE S256) and exchanges the code; joserfc
(authlib's JOSE layer) checks the ID token's signature against the provider's JWKS, and authlib's
CodeIDToken checks issuer, audience, expiry, nonce, azp and at_hash. GitHub speaks OAuth 2.0 without
OpenID Connect: its REST API gives the user and its verified emails.
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from app.services.auth.sso.errors import SsoError
from app.settings import get_settings
from app.settings_sso import SsoProvider

with warnings.catch_warnings():
    # authlib 1.9 prefers the httpx2 fork and warns when it falls back to httpx, which the project pins
    # (requirements.txt) and which authlib still supports.
    warnings.filterwarnings("ignore", message="The httpx module is deprecated")
    from authlib.integrations.httpx_client import OAuth2Client

log = logging.getLogger(__name__)

HTTP_TIMEOUT = 10.0
METADATA_SECONDS = 3600  # discovery documents and key sets are reused this long (keys refetched on an unknown kid)
CLOCK_LEEWAY = 60
# Asymmetric algorithms only: "none" and HS* (keyed with the client secret) are never accepted.
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
MAX_DOCUMENT_BYTES = 512 * 1024

_cache: dict[str, tuple[float, dict[str, Any]]] = {}
_cache_lock = threading.Lock()


@dataclass(frozen=True)
class ProviderUser:
    """Who the provider says signed in."""

    subject: str
    email: str
    email_verified: bool
    name: str
    claims: dict[str, Any] = field(default_factory=dict)


def redirect_uri(provider: SsoProvider) -> str:
    return f"{get_settings().public_url}/api/v1/auth/sso/{provider.name}/callback"


def forget_cache() -> None:
    with _cache_lock:
        _cache.clear()


def _get_json(url: str, *, headers: dict[str, str] | None = None, timeout: float = HTTP_TIMEOUT) -> Any:
    answer = httpx.get(url, headers={"Accept": "application/json", **(headers or {})}, timeout=timeout,
                       follow_redirects=False)
    answer.raise_for_status()
    if len(answer.content) > MAX_DOCUMENT_BYTES:
        raise ValueError(f"{url} answered {len(answer.content)} bytes")
    return answer.json()


def _cached(key: str, load, *, force: bool = False) -> dict[str, Any]:
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(key)
    if hit and not force and hit[0] > now:
        return hit[1]
    value = load()
    with _cache_lock:
        _cache[key] = (now + METADATA_SECONDS, value)
    return value


def metadata(provider: SsoProvider, *, timeout: float = HTTP_TIMEOUT) -> dict[str, Any]:
    """The provider's discovery document (cached), checked for what the flow needs."""

    def load() -> dict[str, Any]:
        doc = _get_json(provider.discovery_url, timeout=timeout)
        if not isinstance(doc, dict):
            raise ValueError("the discovery document is not a JSON object")
        for key in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(doc.get(key), str) or not doc[key]:
                raise ValueError(f"the discovery document has no {key}")
        return doc

    try:
        return _cached(f"meta:{provider.name}:{provider.discovery_url}", load)
    except (httpx.HTTPError, ValueError) as exc:
        raise SsoError("sso_provider_unreachable", status=502, detail=f"discovery: {exc}") from exc


def _key_set(provider: SsoProvider, meta: dict[str, Any], *, force: bool = False) -> KeySet:
    def load() -> dict[str, Any]:
        keys = _get_json(meta["jwks_uri"])
        if not isinstance(keys, dict) or not isinstance(keys.get("keys"), list):
            raise ValueError("the JWKS is not a key set")
        return keys

    try:
        return KeySet.import_key_set(_cached(f"jwks:{provider.name}:{meta['jwks_uri']}", load, force=force))
    except (httpx.HTTPError, ValueError, JoseError) as exc:
        raise SsoError("sso_provider_unreachable", status=502, detail=f"jwks: {exc}") from exc


def _client(provider: SsoProvider) -> OAuth2Client:
    return OAuth2Client(client_id=provider.client_id, client_secret=provider.client_secret or None,
                        scope=provider.scopes, redirect_uri=redirect_uri(provider), code_challenge_method="S256",
                        token_endpoint_auth_method="client_secret_post" if provider.client_secret else "none",
                        timeout=HTTP_TIMEOUT)


def authorization_url(provider: SsoProvider, *, state: str, nonce: str, code_verifier: str) -> str:
    """Where the browser goes to sign in: authorization code flow with PKCE (S256), state and nonce."""
    extra: dict[str, str] = {}
    if provider.is_oidc:
        endpoint = metadata(provider)["authorization_endpoint"]
        extra["nonce"] = nonce
        if provider.kind == "microsoft" or provider.kind == "google":
            extra["prompt"] = "select_account"
    else:
        endpoint = provider.authorize_url
        extra["allow_signup"] = "false"
    with _client(provider) as client:
        url, _ = client.create_authorization_url(endpoint, state=state, code_verifier=code_verifier, **extra)
    return url


def exchange_code(provider: SsoProvider, *, code: str, code_verifier: str) -> dict[str, Any]:
    endpoint = metadata(provider)["token_endpoint"] if provider.is_oidc else provider.token_url
    try:
        with _client(provider) as client:
            token = client.fetch_token(endpoint, grant_type="authorization_code", code=code,
                                       code_verifier=code_verifier)
    except httpx.HTTPError as exc:
        raise SsoError("sso_provider_unreachable", status=502, detail=f"token: {exc}") from exc
    except (AuthlibBaseError, ValueError) as exc:
        # The provider refused the code (used, expired, PKCE verifier wrong) or answered nonsense.
        raise SsoError("sso_provider_error", detail=f"token: {exc}") from exc
    if not token.get("access_token"):
        raise SsoError("sso_provider_error", detail="token: no access_token")
    return dict(token)


def _issuer_matches(provider: SsoProvider, expected: str, claims: dict[str, Any]) -> bool:
    issuer = claims.get("iss")
    if provider.kind == "microsoft" and "{tenantid}" in expected:
        # Multi-tenant Entra endpoints (common, organizations) publish a template: the token's own tenant.
        tid = claims.get("tid")
        return isinstance(tid, str) and bool(tid) and issuer == expected.replace("{tenantid}", tid)
    if provider.kind == "google" and issuer == "accounts.google.com":
        return expected == "https://accounts.google.com"  # Google documents both forms
    return issuer == expected


def verify_id_token(provider: SsoProvider, *, id_token: str, nonce: str, access_token: str) -> dict[str, Any]:
    """The ID token's claims after checking signature (JWKS), issuer, audience, expiry, nonce, azp, at_hash."""
    meta = metadata(provider)
    offered = meta.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = [a for a in offered if a in SIGNING_ALGORITHMS]
    if not algorithms:
        raise SsoError("sso_token_invalid", detail=f"no acceptable signing algorithm in {offered}")
    try:
        try:
            token = jwt.decode(id_token, _key_set(provider, meta), algorithms=algorithms)
        except InvalidKeyIdError:
            # The provider rotated its keys since we cached them.
            token = jwt.decode(id_token, _key_set(provider, meta, force=True), algorithms=algorithms)
        claims = CodeIDToken(token.claims, token.header,
                             {"iss": {"essential": True}, "sub": {"essential": True},
                              "aud": {"essential": True, "value": provider.client_id},
                              "exp": {"essential": True}, "iat": {"essential": True}},
                             {"nonce": nonce, "client_id": provider.client_id, "access_token": access_token})
        claims.validate(leeway=CLOCK_LEEWAY)
    except (JoseError, ValueError) as exc:
        raise SsoError("sso_token_invalid", detail=f"id_token: {type(exc).__name__}: {exc}") from exc
    if not nonce or claims.get("nonce") != nonce:
        raise SsoError("sso_token_invalid", detail="id_token: nonce missing or wrong")
    if not _issuer_matches(provider, meta["issuer"], dict(claims)):
        raise SsoError("sso_token_invalid", detail=f"id_token: issuer {claims.get('iss')!r}")
    return dict(claims)


def _email_verified(provider: SsoProvider, claims: dict[str, Any]) -> bool:
    if provider.trust_email:
        return True
    if provider.kind == "microsoft":
        # Entra's email claim is whatever a tenant admin typed; only a domain-owner-verified claim counts.
        return claims.get("xms_edov") in (True, "true", "1", 1)
    return claims.get("email_verified") in (True, "true")


def oidc_user(provider: SsoProvider, token: dict[str, Any], *, nonce: str) -> ProviderUser:
    """Who signed in, from a verified ID token (and the userinfo endpoint for what it leaves out)."""
    id_token = token.get("id_token")
    if not isinstance(id_token, str) or not id_token:
        raise SsoError("sso_token_invalid", detail="no id_token in the token response")
    claims = verify_id_token(provider, id_token=id_token, nonce=nonce, access_token=token["access_token"])
    wanted = ("email", provider.role_claim) if provider.role_claim else ("email",)
    endpoint = metadata(provider).get("userinfo_endpoint")
    if endpoint and any(name not in claims for name in wanted):
        try:
            info = _get_json(endpoint, headers={"Authorization": f"Bearer {token['access_token']}"})
        except (httpx.HTTPError, ValueError) as exc:
            raise SsoError("sso_provider_unreachable", status=502, detail=f"userinfo: {exc}") from exc
        # Userinfo about someone else must not fill in this user's claims (OIDC Core 5.3.2).
        if isinstance(info, dict) and info.get("sub") == claims["sub"]:
            claims = {**info, **claims}
    email = claims.get("email") if isinstance(claims.get("email"), str) else ""
    if provider.kind == "microsoft" and not email and isinstance(claims.get("preferred_username"), str) \
            and "@" in claims["preferred_username"]:
        email = claims["preferred_username"]
    name = claims.get("name") if isinstance(claims.get("name"), str) else ""
    return ProviderUser(subject=str(claims["sub"]), email=email.strip().lower(),
                        email_verified=bool(email) and _email_verified(provider, claims), name=name, claims=claims)


def github_user(provider: SsoProvider, token: dict[str, Any]) -> ProviderUser:
    """The GitHub account and its primary verified email (GET /user, GET /user/emails)."""
    headers = {"Authorization": f"Bearer {token['access_token']}", "Accept": "application/vnd.github+json",
               "X-GitHub-Api-Version": "2022-11-28"}
    try:
        user = _get_json(f"{provider.api_url}/user", headers=headers)
        emails = _get_json(f"{provider.api_url}/user/emails", headers=headers)
    except (httpx.HTTPError, ValueError) as exc:
        raise SsoError("sso_provider_unreachable", status=502, detail=f"github api: {exc}") from exc
    if not isinstance(user, dict) or not isinstance(user.get("id"), int):
        raise SsoError("sso_provider_error", detail="github /user without an id")
    listed = [e for e in emails if isinstance(e, dict) and isinstance(e.get("email"), str)] \
        if isinstance(emails, list) else []
    verified = [e for e in listed if e.get("verified") is True]
    chosen = next((e for e in verified if e.get("primary")), verified[0] if verified else None)
    # No verified address: the primary one, marked unverified (it will neither link nor make an account).
    chosen = chosen or next((e for e in listed if e.get("primary")), None)
    email = chosen["email"].strip().lower() if chosen else ""
    return ProviderUser(subject=str(user["id"]), email=email, email_verified=bool(chosen and chosen in verified),
                        name=str(user.get("name") or user.get("login") or ""), claims={"login": user.get("login")})


def fetch_user(provider: SsoProvider, *, code: str, code_verifier: str, nonce: str) -> ProviderUser:
    token = exchange_code(provider, code=code, code_verifier=code_verifier)
    if provider.is_oidc:
        return oidc_user(provider, token, nonce=nonce)
    return github_user(provider, token)
