"""/admin/workspaces: every workspace with its owners, members, storage and credits; sign-ups to approve."""

from __future__ import annotations

import reflex as rx

from app.db import read_scope, session_scope
from app.display import storage_text
from app.errors import AppError
from app.ids import parse_id
from app.services.auth import accounts
from app.services.auth.accounts import UserPublic
from app.services.workspaces.usage import all_workspaces
from state.session import admin_only, client_ip

PAGE_SIZE = 100


class AdminWorkspacesState(rx.State):
    query: str = ""
    # "" (all), personal or team.
    kind: str = ""
    # One row per workspace: id, name, kind, owners, members, storage, credits, created.
    workspaces: list[dict[str, str]] = []
    total: int = 0
    # Accounts waiting for approval (SIGNUP_APPROVAL): id, email, name, created.
    pending: list[dict[str, str]] = []

    @rx.event
    @admin_only
    async def load_page(self, admin: UserPublic):
        self._load()

    def _load(self) -> None:
        with read_scope() as session:
            rows, self.total = all_workspaces(session=session, query=self.query, kind=self.kind, limit=PAGE_SIZE)
            waiting = accounts.list_pending(session=session)
        self.workspaces = [{"id": str(w["id"]), "name": w["name"], "kind": w["kind"],
                            "owners": ", ".join(w["owners"]) or "—", "members": str(w["members"]),
                            "storage": storage_text(w["storage_bytes"]), "credits": f"{w['credits']:,}",
                            "created": w["created_at"].strftime("%Y-%m-%d")} for w in rows]
        self.pending = [{"id": str(u.id), "email": u.email, "name": u.name or "—",
                         "created": u.created_at.strftime("%Y-%m-%d %H:%M")} for u in waiting]

    @rx.event
    @admin_only
    async def handle_search(self, admin: UserPublic, value: str):
        self.query = value[:100]
        self._load()

    @rx.event
    @admin_only
    async def handle_kind(self, admin: UserPublic, value: str | list[str]):
        value = value[0] if isinstance(value, list) and value else value
        self.kind = value if value in ("personal", "team") else ""
        self._load()

    @rx.event
    @admin_only
    async def approve(self, admin: UserPublic, user_id: str):
        return self._decide(admin, user_id, approve=True)

    @rx.event
    @admin_only
    async def reject(self, admin: UserPublic, user_id: str):
        return self._decide(admin, user_id, approve=False)

    def _decide(self, admin: UserPublic, user_id: str, *, approve: bool):
        decide = accounts.approve_user if approve else accounts.reject_user
        try:
            with session_scope() as session:
                user = decide(session=session, actor_id=admin.id, user_id=parse_id(user_id), ip=client_ip(self))
        except AppError as exc:
            return rx.toast.error(exc.message)
        self._load()
        return rx.toast.success(f"{user.email} can sign in now." if approve else f"{user.email} was turned away.")
