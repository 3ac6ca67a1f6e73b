"""A sign-in with a provider from the button to the session: begin() and finish().

`state`, `nonce` and the PKCE verifier live server-side in Redis under the state's digest for
SSO_STATE_TTL_SECONDS and are taken with GETDEL, so a state works once: a replayed callback and a
made-up or altered state find nothing, and are refused before anything is asked of the provider or
written. The record is also bound to the browser that began (a random value in an HttpOnly cookie), so a
callback link crafted elsewhere cannot sign this browser into someone else's account (login CSRF).
"""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass

from app.db import session_scope
from app.redis_client import get_redis
from app.services import audit
from app.services.auth.sessions import safe_next
from app.services.auth.sso import accounts, protocol, roles
from app.services.auth.sso.errors import SsoError
from app.services.secrets import token_digest
from app.settings import get_settings
from app.settings_sso import SsoProvider

BROWSER_COOKIE = "atelier_sso"
_KEY = "atelier:sso-state:"


@dataclass(frozen=True)
class Finished:
    """What the callback does next: a session for `user_id` (sign-in) or back to Settings (link)."""

    user_id: int
    mode: str  # signin | link
    next_path: str
    # The team workspace the role claim gave them a role in: the session starts there.
    workspace_id: int | None = None
    linked: bool = False


def provider_named(name: str) -> SsoProvider:
    provider = get_settings().sso.get((name or "").lower())
    if provider is None:
        raise SsoError("sso_unknown_provider", status=404)
    return provider


def new_browser_id() -> str:
    return secrets.token_urlsafe(24)


def begin(*, name: str, browser_id: str, next_path: str = "", link_user_id: int | None = None) -> str:
    """Remember a new state and return the provider's authorization URL to send the browser to."""
    provider = provider_named(name)
    state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(48)
    url = protocol.authorization_url(provider, state=state, nonce=nonce, code_verifier=verifier)
    record = {"provider": provider.name, "nonce": nonce, "verifier": verifier, "next": safe_next(next_path),
              "link_user_id": link_user_id, "browser": token_digest(browser_id)}
    get_redis().set(_KEY + token_digest(state), json.dumps(record), ex=get_settings().sso_state_ttl_seconds)
    return url


def _take_state(*, provider: SsoProvider, state: str, browser_id: str) -> dict:
    if not state or len(state) > 200:
        raise SsoError("sso_state_invalid", detail="no state")
    raw = get_redis().getdel(_KEY + token_digest(state))
    if not raw:
        raise SsoError("sso_state_invalid", detail="unknown, expired or used state")
    record = json.loads(raw)
    if record.get("provider") != provider.name:
        raise SsoError("sso_state_invalid", detail="state of another provider")
    if not browser_id or not hmac.compare_digest(record.get("browser", ""), token_digest(browser_id)):
        raise SsoError("sso_state_invalid", detail="state begun in another browser")
    return record


def finish(*, name: str, params: dict[str, str], browser_id: str, session_user_id: int | None,
           ip: str = "") -> Finished:
    """Check the callback, ask the provider who signed in, and find, link or create the user.

    Raises SsoError with nothing written but the failure's audit event.
    """
    provider = provider_named(name)
    try:
        record = _take_state(provider=provider, state=params.get("state", ""), browser_id=browser_id)
        if params.get("error"):
            raise SsoError("sso_provider_error", detail=f"{params.get('error')}: {params.get('error_description', '')}")
        code = params.get("code", "")
        if not code or len(code) > 2048:
            raise SsoError("sso_provider_error", detail="no code")
        who = protocol.fetch_user(provider, code=code, code_verifier=record["verifier"], nonce=record["nonce"])
        link_user_id = record.get("link_user_id")
        with session_scope() as session:
            if link_user_id:
                if session_user_id != link_user_id:
                    raise SsoError("sso_link_session", status=401)
                linked = accounts.link_identity(session=session, provider=provider, who=who, user_id=link_user_id,
                                                ip=ip)
                return Finished(user_id=link_user_id, mode="link", next_path=record["next"], linked=linked)
            user = accounts.resolve_user(session=session, provider=provider, who=who, ip=ip)
            workspace_id = None
            if not user.pending:  # last_login_at is stamped when the callback starts the session
                workspace_id = roles.apply_role_mapping(session=session, provider=provider, user=user,
                                                        claims=who.claims, ip=ip)
                audit.record(session=session, action="sso.signed_in", actor_id=user.id, target=user.email, ip=ip,
                             detail=f"provider={provider.name}")
            user_id, pending = user.id, user.pending
        if pending:
            raise SsoError("sso_account_pending", status=403)
        return Finished(user_id=user_id, mode="signin", next_path=record["next"], workspace_id=workspace_id)
    except SsoError as exc:
        with session_scope() as session:
            audit.record(session=session, action="sso.failed", target=provider.name, ip=ip,
                         detail=f"{exc.code}: {exc.detail}")
        raise

