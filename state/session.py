"""Who is signed in, checked against the server-side session on every event."""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable

import reflex as rx

from app import routes
from app.api import network_lists
from app.api.client_address import client_address
from app.db import read_scope
from app.errors import Throttled
from app.observability import logs
from app.services.auth import signin
from app.services.auth.accounts import UserPublic
from app.services.auth.sessions import current_user, safe_next, token_from_cookie_header
from app.services.security_events import record_security_event
from app.services.workspaces import permissions
from app.services.workspaces.service import workspaces_of
from app.settings import get_settings


def cookie_token(state: rx.State) -> str:
    # Headers are captured when the websocket connects, so this is the cookie of this tab's
    # connection; a revoked session fails the lookup below on the very next event.
    return token_from_cookie_header(state.router.headers.cookie)


def session_user(state: rx.State) -> UserPublic | None:
    """The signed-in user for this event, from the database, or None."""
    # Read-only on SQLite (no write lock): page events and job followers ask this on every step.
    user = current_user(cookie_token(state))
    if user is not None:  # on this event's log lines (state/event_context.py)
        logs.identify(user_id=user.id, workspace_id=user.workspace_id)
    return user


def client_ip(state: rx.State) -> str:
    # The websocket's peer (Reflex's trusted_proxy_hops stays unset) walked through TRUSTED_PROXIES like a REST call.
    return client_address(peer=state.router.session.client_ip or "",
                          forwarded=[state.router.headers.raw_headers.get("x-forwarded-for", "")])


def admin_network_refused(state: rx.State) -> bool:
    """ADMIN_ALLOW_NETWORKS / DENY_NETWORKS for the admin pages' events (the socket may have opened on any page)."""
    address = client_ip(state)
    why = network_lists.refusal(address=address, path=routes.ADMIN_USERS)
    if why:
        record_security_event(kind="network_refused", ip=address, target=state.router.url.path[:200], detail=why)
    return bool(why)


def note_throttle(state: rx.State, exc: Exception) -> None:
    """A page's throttle (sign-in, sign-up, reset) is a security event, like the API's 429s (app/api/guard.py)."""
    if isinstance(exc, Throttled):
        record_security_event(kind="throttled", ip=client_ip(state), target=state.router.url.path[:200],
                              detail=exc.message)


def full_page_load(url: str) -> rx.event.EventSpec:
    """Navigate with a real page load, so the websocket reconnects with fresh cookies."""
    return rx.call_script(f"window.location.assign({json.dumps(url)})")


def to_sign_in(state: rx.State) -> rx.event.EventSpec:
    return rx.redirect(routes.sign_in_url(state.router.url.path), replace=True)


def initials_of(name: str) -> str:
    """The avatar's letters: the first letter of the first two words that have one. An emoji or a symbol is
    skipped (the browser may have no glyph for it: "Zoë 😀 Lind" showed "Z" and an empty box)."""
    firsts = [next((c for c in word if c.isalnum()), "") for word in name.replace("@", " ").split()]
    return "".join([c for c in firsts if c][:2]).upper() or "?"


class SessionState(rx.State):
    # Display copy of the signed-in user; authority is always the session row.
    user_id: int = 0
    email: str = ""
    name: str = ""
    role: str = ""
    # The workspace this session acts in: id, name, kind (personal | team) and the user's role there.
    workspace_id: int = 0
    workspace_name: str = ""
    workspace_kind: str = ""
    workspace_role: str = ""
    # Every workspace the user belongs to, for the switcher: id, name, kind, role, role_label.
    workspaces: list[dict[str, str]] = []
    # False until on_load has checked the session (keeps private pages blank until then).
    checked: bool = False
    # Stripe is configured (STRIPE_SECRET_KEY): the Billing link shows to owners and admins.
    billing_on: bool = False

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
        return initials_of(self.name or self.email)

    @rx.var
    def workspace_role_label(self) -> str:
        return permissions.ROLE_LABELS.get(self.workspace_role, "")

    @rx.var
    def allowed(self) -> dict[str, bool]:
        """Each matrix action: whether this role may do it here (to disable buttons; the server decides)."""
        return {action: permissions.allowed(self.workspace_role, action) if self.workspace_role else False
                for action in permissions.ACTIONS}

    def _apply(self, user: UserPublic | None) -> None:
        # Every page event applies the user again, and nearly always nothing changed: only changed values are
        # assigned, since an assigned var goes to the browser and re-renders all that shows the session.
        self._set(user_id=user.id if user else 0, email=user.email if user else "", name=user.name if user else "",
                  role=user.role if user else "")
        self._apply_workspace(user)
        self._set(billing_on=user is not None and get_settings().billing_enabled, checked=True)

    def _apply_workspace(self, user: UserPublic | None) -> None:
        rows = []
        if user is not None:
            with read_scope() as session:
                rows = [{"id": str(w.id), "name": w.name, "kind": w.kind, "role": r,
                         "role_label": permissions.ROLE_LABELS.get(r, r)}
                        for w, r in workspaces_of(session=session, user_id=user.id)]
        current = next((row for row in rows if user is not None and row["id"] == str(user.workspace_id)), None)
        self._set(workspaces=rows, workspace_id=int(current["id"]) if current else 0,
                  workspace_name=current["name"] if current else "", workspace_kind=current["kind"] if current else "",
                  workspace_role=user.workspace_role if user and current else "")

    def _set(self, **values) -> None:
        for name, value in values.items():
            if getattr(self, name) != value:
                setattr(self, name, value)

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
        if not user.is_admin or admin_network_refused(self):
            # The page's own load handler refuses too; it says so with the toast.
            return rx.redirect(routes.DASHBOARD, replace=True)

    @rx.event
    def load_public(self):
        """Sign-in and sign-up pages: a signed-in visitor goes straight on (to `next`, or the dashboard)."""
        user = session_user(self)
        self._apply(user)
        if user is not None:
            target = self.router.url.query_parameters.get("next", "")
            return rx.redirect(safe_next(target) if target else routes.DASHBOARD, replace=True)

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
    """The user, with the shared display state refreshed, or None: what @signed_in and @admin_only ask
    (handlers get the user from them; background events ask session_user inside `async with self`)."""
    user = session_user(state)
    shared = await state.get_state(SessionState)
    shared._apply(user)
    return user


async def visitor(state: rx.State) -> UserPublic | None:
    """For public pages (an invitation): who is signed in, if anyone, with the shared display state refreshed."""
    return await require_user(state)


async def refresh_session(state: rx.State) -> None:
    """After a change the header shows (the user's name, the workspace's name): re-read the shared display state."""
    await require_user(state)


def _with_user(handler: Callable, check: Callable) -> Callable:
    """`handler(self, user, ...)` as an event handler `(self, ...)`: `check(state)` returns (user, None) or
    (None, the events that turn the visitor away). Reflex reads the parameters (and their types) from the
    signature without `user`, so the page sends and converts the other arguments as before."""
    signature = inspect.signature(handler)
    params = list(signature.parameters.values())
    if len(params) < 2 or params[1].name not in ("user", "admin"):
        raise TypeError(f"{handler.__qualname__}: the parameter after self must be `user` (or `admin`)")
    if not (inspect.iscoroutinefunction(handler) or inspect.isasyncgenfunction(handler)):
        raise TypeError(f"{handler.__qualname__}: a guarded handler must be async (it reads the session)")

    if inspect.isasyncgenfunction(handler):
        @functools.wraps(handler)
        async def wrapper(self, *args, **kwargs):
            user, away = await check(self)
            if user is None:
                yield away
                return
            async for event in handler(self, user, *args, **kwargs):
                yield event
    else:
        @functools.wraps(handler)
        async def wrapper(self, *args, **kwargs):
            user, away = await check(self)
            if user is None:
                return away
            return await handler(self, user, *args, **kwargs)

    wrapper.__signature__ = signature.replace(parameters=[params[0], *params[2:]])
    # A new dict: functools.wraps shares the handler's, and the handler keeps its own annotations.
    wrapper.__annotations__ = {k: v for k, v in handler.__annotations__.items() if k != params[1].name}
    return wrapper


async def _signed_in_check(state: rx.State) -> tuple[UserPublic | None, rx.event.EventSpec | None]:
    user = await require_user(state)
    return user, None if user is not None else to_sign_in(state)


async def admin_or_away(state: rx.State) -> tuple[UserPublic | None, object]:
    """(the admin, None), or (None, the events that turn the visitor away): for admin background events,
    inside `async with self`, where the decorator cannot run."""
    user = await require_user(state)
    if user is not None and user.is_admin and not admin_network_refused(state):
        return user, None
    if user is None:
        return None, to_sign_in(state)
    if network_lists.refusal(address=client_ip(state), path=routes.ADMIN_USERS):
        return None, [rx.redirect(routes.DASHBOARD, replace=True), rx.toast.error(network_lists.MESSAGES["admin"])]
    return None, [rx.redirect(routes.DASHBOARD, replace=True), rx.toast.error("That page is for admins only.")]


def signed_in(handler: Callable) -> Callable:
    """Decorate a page handler `async def handle_x(self, user: UserPublic, ...)` below `@rx.event`: it runs
    with the signed-in user (the shared display state refreshed), and a visitor with no session goes to
    the sign-in page instead. Not for background events (the session check needs the state lock)."""
    return _with_user(handler, _signed_in_check)


def admin_only(handler: Callable) -> Callable:
    """Like `signed_in`, for the admin pages: a site admin on an allowed network, or turned away
    (no session: to sign in; a member or a refused network: to the dashboard, with a word why)."""
    return _with_user(handler, admin_or_away)


def refused(user: UserPublic, action: str) -> rx.event.EventSpec | None:
    """A toast when the user's role in this workspace does not allow `action` (the matrix the API uses), else None.

    Every handler that changes work asks this after the sign-in check: any event can be sent over the socket,
    whatever the page shows.
    """
    if user.can(action):
        return None
    label = permissions.ROLE_LABELS.get(user.workspace_role, user.workspace_role or "no role")
    return rx.toast.error(f"Your role in this workspace ({label}) does not allow that.")
