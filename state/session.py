"""Who is signed in, checked against the server-side session on every event."""

from __future__ import annotations

import json

import reflex as rx

from app import routes
from app.db import session_scope
from app.services import signin
from app.services.accounts import UserPublic
from app.services.sessions import token_from_cookie_header, user_for_session
from app.services.workspaces import permissions


def cookie_token(state: rx.State) -> str:
    # Headers are captured when the websocket connects, so this is the cookie of this tab's
    # connection; a revoked session fails the lookup below on the very next event.
    return token_from_cookie_header(state.router.headers.cookie)


def session_user(state: rx.State) -> UserPublic | None:
    """The signed-in user for this event, from the database, or None."""
    with session_scope() as session:
        return user_for_session(session=session, token=cookie_token(state))


def client_ip(state: rx.State) -> str:
    return state.router.session.client_ip or ""


def full_page_load(url: str) -> rx.event.EventSpec:
    """Navigate with a real page load, so the websocket reconnects with fresh cookies."""
    return rx.call_script(f"window.location.assign({json.dumps(url)})")


def to_sign_in(state: rx.State) -> rx.event.EventSpec:
    return rx.redirect(routes.sign_in_url(state.router.url.path), replace=True)


class SessionState(rx.State):
    # Display copy of the signed-in user; authority is always the session row.
    user_id: int = 0
    email: str = ""
    name: str = ""
    role: str = ""
    # False until on_load has checked the session (keeps private pages blank until then).
    checked: bool = False

    @rx.var
    def signed_in(self) -> bool:
        return self.user_id > 0

    @rx.var
    def is_admin(self) -> bool:
        return self.role == "admin"

    @rx.var
    def display_name(self) -> str:
        return self.name or self.email.split("@")[0]

    @rx.var
    def initials(self) -> str:
        words = (self.name or self.email).replace("@", " ").split()
        return "".join(w[0] for w in words[:2]).upper() or "?"

    def _apply(self, user: UserPublic | None) -> None:
        self.user_id = user.id if user else 0
        self.email = user.email if user else ""
        self.name = user.name if user else ""
        self.role = user.role if user else ""
        self.checked = True

    @rx.event
    def load_private(self):
        user = session_user(self)
        self._apply(user)
        if user is None:
            return to_sign_in(self)

    @rx.event
    def load_admin(self):
        user = session_user(self)
        self._apply(user)
        if user is None:
            return to_sign_in(self)
        if not user.is_admin:
            # The page's own load handler refuses too; it says so with the toast.
            return rx.redirect(routes.DASHBOARD, replace=True)

    @rx.event
    def load_public(self):
        """Sign-in and sign-up pages: a signed-in visitor goes straight to the dashboard."""
        user = session_user(self)
        self._apply(user)
        if user is not None:
            return rx.redirect(routes.DASHBOARD, replace=True)

    @rx.event
    def load_home(self):
        user = session_user(self)
        self._apply(user)
        return rx.redirect(routes.DASHBOARD if user else routes.SIGN_IN, replace=True)

    @rx.event
    def sign_out(self):
        user = session_user(self)
        signin.end_session(token=cookie_token(self), user_id=user.id if user else None,
                           ip=client_ip(self))
        self._apply(None)
        return full_page_load(routes.SIGNED_OUT)


async def require_user(state: rx.State) -> UserPublic | None:
    """For page handlers: the user, with the shared display state refreshed, or None."""
    user = session_user(state)
    shared = await state.get_state(SessionState)
    shared._apply(user)
    return user


def refused(user: UserPublic, action: str) -> rx.event.EventSpec | None:
    """A toast when the user's role in this workspace does not allow `action` (the matrix the API uses), else None.

    Every handler that changes work asks this after the sign-in check: any event can be sent over the socket,
    whatever the page shows.
    """
    if user.can(action):
        return None
    label = permissions.ROLE_LABELS.get(user.workspace_role, user.workspace_role or "no role")
    return rx.toast.error(f"Your role in this workspace ({label}) does not allow that.")
