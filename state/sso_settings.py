"""The Settings page's "Sign-in methods" section: linked providers, link another, unlink."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.db import session_scope
from app.errors import AppError
from app.services.auth.accounts import UserPublic
from app.services.auth.sso import accounts as sso_accounts
from app.services.auth.sso.errors import message_for
from app.settings import get_settings
from state.session import client_ip, signed_in


class SsoSettingsState(rx.State):
    # Linked provider accounts: id, provider, label, email, linked (date), last_used.
    identities: list[dict[str, str]] = []
    # Configured providers with the link URL: name, label, kind, href.
    providers: list[dict[str, str]] = []
    # Whether the account has a password (else its linked providers are its only ways in).
    has_password: bool = True
    # What the last link attempt did (carried in by the URL after the provider's round trip).
    notice: str = ""
    error: str = ""

    def _load(self, user_id: int) -> None:
        configured = get_settings().sso
        with session_scope() as session:
            rows = sso_accounts.identities_of(session=session, user_id=user_id)
            self.has_password = sso_accounts.has_password(session=session, user_id=user_id)
        self.identities = [{
            "id": str(r.id), "provider": r.provider,
            "label": configured[r.provider].label if r.provider in configured else f"{r.provider} (not configured)",
            "email": r.email or "—", "linked": r.created_at.strftime("%Y-%m-%d"),
            "last_used": r.last_used_at.strftime("%Y-%m-%d %H:%M") if r.last_used_at else "never",
        } for r in rows]
        self.providers = [{"name": p.name, "label": p.label, "kind": p.kind,
                           "href": routes.sso_start_url(p.name, routes.SETTINGS, link=True)}
                          for p in configured.values()]

    @rx.event
    @signed_in
    async def load_page(self, user: UserPublic):
        params = self.router.url.query_parameters
        linked = str(params.get("sso_linked", ""))[:40]
        label = get_settings().sso[linked].label if linked in get_settings().sso else ""
        self.notice = f"{label} is linked: you can sign in with it." if label else ""
        code = str(params.get("sso_error", ""))[:64]
        self.error = (message_for(code) or "Linking failed. Please try again.") if code else ""
        self._load(user.id)

    @rx.event
    @signed_in
    async def unlink(self, user: UserPublic, identity_id: str):
        try:
            with session_scope() as session:
                gone = sso_accounts.unlink(session=session, user_id=user.id, identity_id=int(identity_id),
                                           ip=client_ip(self))
        except AppError as exc:
            return rx.toast.error(exc.message)
        except ValueError:
            return rx.toast.error("That sign-in method is not linked to your account.")
        self._load(user.id)
        return rx.toast.success(f"Unlinked {gone.provider}.")
