"""The settings page: profile, password and personal API tokens."""

from __future__ import annotations

import reflex as rx

from app.db import session_scope
from app.errors import AppError
from app.services.auth import accounts, api_tokens
from app.services.auth.accounts import UserPublic
from app.services.auth.revocation import revoke_credentials
from app.services.click_keys import first_click, new_click_key
from app.services.workspaces import permissions
from app.services.workspaces.service import workspaces_of
from state.session import client_ip, cookie_token, refresh_session, signed_in

# The token form's choices: scopes (none ticked: full access) and lifetimes in days (0: never expires).
TOKEN_SCOPES = permissions.SCOPES
TOKEN_EXPIRY = [(str(days), f"{days} days" if days else "Never") for days in api_tokens.EXPIRY_CHOICES]
PERSONAL = "personal"


class SettingsState(rx.State):
    # Profile name as edited in the form.
    profile_name: str = ""
    # Live tokens: id, name, prefix, created, last used, scopes, workspace, expires.
    tokens: list[dict[str, str]] = []
    # Scopes ticked in the new-token form (none: a full-access token).
    token_scopes: list[str] = []
    # The workspaces a new token may be bound to: id ("personal" for one's own) and name with the role there.
    token_workspaces: list[dict[str, str]] = []
    # The secret of a token just created, shown once and then dropped.
    new_secret: str = ""
    password_error: str = ""
    token_error: str = ""
    # Whether a password change also revokes the API tokens (checked by default: the safe choice).
    revoke_tokens: bool = True
    # A key per click of "Create token", re-armed after each token (app/services/click_keys.py).
    click_key: str = ""

    @rx.event
    @signed_in
    async def load_page(self, user: UserPublic):
        self.profile_name = user.name
        self.new_secret = ""
        self.password_error = ""
        self.token_error = ""
        self.revoke_tokens = True
        self.click_key = new_click_key()
        self._load_tokens(user.id)

    def _load_tokens(self, user_id: int) -> None:
        with session_scope() as session:
            rows = api_tokens.list_tokens(session=session, user_id=user_id)
            mine = workspaces_of(session=session, user_id=user_id)
            names = {w.id: w.name for w, _ in mine}
            personal = accounts.get_user(session=session, user_id=user_id).personal_workspace_id
            self.token_workspaces = [{"id": PERSONAL if w.id == personal else str(w.id),
                                      "name": f"{w.name} ({permissions.ROLE_LABELS.get(role, role)})"}
                                     for w, role in mine]
            self.tokens = [{
                "id": str(r.id), "name": r.name, "prefix": r.prefix,
                "created": r.created_at.strftime("%Y-%m-%d %H:%M"),
                "last_used": r.last_used_at.strftime("%Y-%m-%d %H:%M") if r.last_used_at else "never",
                "scopes": r.scopes or "full access",
                "workspace": names.get(r.workspace_id, "?") if r.workspace_id else "Personal",
                "expires": r.expires_at.strftime("%Y-%m-%d") if r.expires_at else "never",
            } for r in rows]

    @rx.event
    def toggle_scope(self, scope: str, checked: bool):
        if scope not in TOKEN_SCOPES:
            return
        chosen = [s for s in self.token_scopes if s != scope]
        self.token_scopes = [s for s in TOKEN_SCOPES if s in chosen or (checked and s == scope)]

    @rx.event
    @signed_in
    async def save_profile(self, user: UserPublic, form_data: dict):
        try:
            with session_scope() as session:
                updated = accounts.update_profile(session=session, user_id=user.id,
                                                  name=str(form_data.get("name", "")))
        except AppError as exc:
            return rx.toast.error(exc.message)
        await refresh_session(self)
        self.profile_name = updated.name
        return rx.toast.success("Profile saved.")

    @rx.event
    def set_revoke_tokens(self, value: bool):
        self.revoke_tokens = bool(value)

    @rx.event
    @signed_in
    async def change_password(self, user: UserPublic, form_data: dict):
        new = str(form_data.get("new_password", ""))
        if new != str(form_data.get("confirm", "")):
            self.password_error = "The two new passwords are not the same."
            return
        try:
            with session_scope() as session:
                accounts.change_password(session=session, user_id=user.id,
                                         current=str(form_data.get("current_password", "")), new=new)
                revoke_credentials(session=session, user_id=user.id, reason="password changed",
                                   tokens=self.revoke_tokens, keep_session_token=cookie_token(self),
                                   ip=client_ip(self))
        except AppError as exc:
            self.password_error = exc.message
            return
        self.password_error = ""
        revoked = self.revoke_tokens
        self.revoke_tokens = True
        if revoked:
            self._load_tokens(user.id)
        tokens = " and your API tokens revoked" if revoked else "; your API tokens were kept"
        return [rx.toast.success(f"Password changed. Your other sessions were signed out{tokens}."),
                rx.set_value("current_password", ""), rx.set_value("new_password", ""),
                rx.set_value("confirm", "")]

    @rx.event
    @signed_in
    async def create_token(self, user: UserPublic, form_data: dict):
        if not first_click(user_id=user.id, scope="token", key=str(form_data.get("click_key", ""))):
            return None  # the second event of a double click: one token, whose secret is the one shown
        self.click_key = new_click_key()
        where = str(form_data.get("token_workspace", PERSONAL) or PERSONAL)
        days = str(form_data.get("token_expiry", "") or "90")
        try:
            expires_at = api_tokens.expiry_of(expires_in_days=int(days) or None) if days.isdigit() else None
            with session_scope() as session:
                _, secret = api_tokens.create_token(
                    session=session, user_id=user.id, name=str(form_data.get("token_name", "")),
                    scopes=list(self.token_scopes) or None, expires_at=expires_at,
                    workspace_id=None if where == PERSONAL or not where.isdigit() else int(where))
        except AppError as exc:
            self.token_error = exc.message
            return
        self.token_error = ""
        self.new_secret = secret
        self.token_scopes = []
        self._load_tokens(user.id)
        return rx.set_value("token_name", "")

    @rx.event
    def dismiss_secret(self):
        self.new_secret = ""

    @rx.event
    @signed_in
    async def revoke_token(self, user: UserPublic, token_id: str):
        try:
            with session_scope() as session:
                api_tokens.revoke_token(session=session, user_id=user.id, token_id=int(token_id))
        except (AppError, ValueError):
            return rx.toast.error("That token no longer exists.")
        self._load_tokens(user.id)
        return rx.toast.success("Token revoked.")
