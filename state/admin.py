"""The admin pages: users, outbox and system health. Every handler re-checks the role."""

from __future__ import annotations

import reflex as rx

from app.db import session_scope
from app.errors import AppError
from app.services import accounts, health, mail
from app.services.accounts import UserPublic
from state.session import client_ip, require_user, to_sign_in


async def _require_admin(state: rx.State) -> UserPublic | None:
    user = await require_user(state)
    return user if user is not None and user.is_admin else None


def _refused(state: rx.State):
    return [to_sign_in(state), rx.toast.error("That needs an admin account.")]


def _when(value) -> str:  # noqa: ANN001
    return value.strftime("%Y-%m-%d %H:%M") if value else "never"


class AdminUsersState(rx.State):
    query: str = ""
    # One row per user: id, email, name, role, active, created, last sign-in.
    users: list[dict[str, str]] = []
    total: int = 0

    @rx.event
    async def load_page(self):
        if await _require_admin(self) is None:
            return _refused(self)
        self._search()

    def _search(self) -> None:
        with session_scope() as session:
            users, self.total = accounts.search_users(session=session, query=self.query, limit=200)
        self.users = [{"id": str(u.id), "email": u.email, "name": u.name or "—", "role": u.role,
                       "active": "yes" if u.is_active else "no", "created": _when(u.created_at),
                       "last_login": _when(u.last_login_at)} for u in users]

    @rx.event
    async def handle_search(self, value: str):
        if await _require_admin(self) is None:
            return _refused(self)
        self.query = value[:100]
        self._search()

    @rx.event
    async def set_role(self, user_id: str, role: str):
        admin = await _require_admin(self)
        if admin is None:
            return _refused(self)
        try:
            with session_scope() as session:
                accounts.set_role(session=session, actor_id=admin.id, user_id=int(user_id),
                                  role=role, ip=client_ip(self))
        except AppError as exc:
            return rx.toast.error(exc.message)
        self._search()
        return rx.toast.success(f"Role changed to {role}.")

    @rx.event
    async def toggle_active(self, user_id: str, active: str):
        admin = await _require_admin(self)
        if admin is None:
            return _refused(self)
        enable = active != "yes"
        try:
            with session_scope() as session:
                accounts.set_active(session=session, actor_id=admin.id, user_id=int(user_id),
                                    active=enable, ip=client_ip(self))
        except AppError as exc:
            return rx.toast.error(exc.message)
        self._search()
        return rx.toast.success("Account enabled." if enable else "Account disabled.")


class AdminOutboxState(rx.State):
    # Newest first: id, to, subject, status, created, body.
    emails: list[dict[str, str]] = []

    @rx.event
    async def load_page(self):
        if await _require_admin(self) is None:
            return _refused(self)
        with session_scope() as session:
            rows = mail.list_outbox(session=session, limit=100)
        self.emails = [{"id": str(r.id), "to": r.to_address, "subject": r.subject,
                        "status": r.status, "created": _when(r.created_at), "body": r.body_text,
                        "error": r.error} for r in rows]


class AdminHealthState(rx.State):
    # Check name → "ok…" or "down: …".
    checks: dict[str, str] = {}

    @rx.var
    def ready(self) -> bool:
        return bool(self.checks) and all(v.startswith("ok") for v in self.checks.values())

    @rx.var
    def rows(self) -> list[list[str]]:
        return [[name, value] for name, value in self.checks.items()]

    @rx.event
    async def load_page(self):
        if await _require_admin(self) is None:
            return _refused(self)
        self.checks = health.readiness()
