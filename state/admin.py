"""The admin pages: users, outbox and system health. Every handler re-checks the role."""

from __future__ import annotations

import uuid

import reflex as rx

from app import routes
from app.api import network_lists
from app.db import session_scope
from app.errors import AppError
from app.ids import parse_id
from app.services import (
    audit,
    credits,
    health,
    jobs,
    mail,
)
from app.services.auth import accounts
from app.services.auth.accounts import UserPublic
from state.session import admin_network_refused, client_ip, require_user, session_user, to_sign_in


async def _require_admin(state: rx.State) -> UserPublic | None:
    user = await require_user(state)
    return user if user is not None and user.is_admin and not admin_network_refused(state) else None


def _refused(state: rx.State):
    """Nobody signed in: to the sign-in page. A member: to the dashboard, with a word why."""
    if session_user(state) is None:
        return to_sign_in(state)
    if network_lists.refusal(address=client_ip(state), path=routes.ADMIN_USERS):
        return [rx.redirect(routes.DASHBOARD, replace=True), rx.toast.error(network_lists.MESSAGES["admin"])]
    return [rx.redirect(routes.DASHBOARD, replace=True), rx.toast.error("That page is for admins only.")]


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "never"


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
            balances = credits.balances(session=session, workspace_ids=[u.workspace_id for u in users])
        self.users = [{"id": str(u.id), "email": u.email, "name": u.name or "—", "role": u.role,
                       "active": "yes" if u.is_active else "no", "created": _when(u.created_at),
                       "last_login": _when(u.last_login_at), "credits": str(balances[u.workspace_id])} for u in users]

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
                accounts.set_role(session=session, actor_id=admin.id, user_id=parse_id(user_id),
                                  role=role, ip=client_ip(self))
        except AppError as exc:
            return rx.toast.error(exc.message)
        self._search()
        return rx.toast.success(f"Role changed to {role}.")

    @rx.event
    async def grant_credits(self, form_data: dict):
        admin = await _require_admin(self)
        if admin is None:
            return _refused(self)
        try:
            user_id, amount = int(form_data.get("user_id", "")), int(form_data.get("amount", ""))
        except ValueError:
            return rx.toast.error("Enter a whole number of credits.")
        try:
            with session_scope() as session:
                personal = accounts.get_user(session=session, user_id=user_id).personal_workspace_id
                credits.adjust(session=session, actor_id=admin.id, workspace_id=personal, amount=amount,
                               reason=str(form_data.get("reason", ""))[:300], reference=f"admin:{uuid.uuid4()}")
        except AppError as exc:
            return rx.toast.error(exc.message)
        self._search()
        return rx.toast.success(f"{amount:+d} credits recorded.")

    @rx.event
    async def toggle_active(self, user_id: str, active: str):
        admin = await _require_admin(self)
        if admin is None:
            return _refused(self)
        enable = active != "yes"
        try:
            with session_scope() as session:
                accounts.set_active(session=session, actor_id=admin.id, user_id=parse_id(user_id),
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
    # AI connections: name, preset, state (ok | down | disabled | untested), error, latency, breaker, tested.
    connections: list[dict[str, str]] = []
    # Single sign-on providers: name, label, kind, state (ok | down), detail, mapping.
    sso_providers: list[dict[str, str]] = []

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
        from app.services.ai.health import connection_health

        self.connections = [
            {"name": c["name"], "preset": c["preset_label"], "state": c["state"], "error": c["error"],
             "latency": f"{c['latency_ms']} ms" if c["latency_ms"] is not None else "",
             "breaker": "" if c["breaker"] == "closed" else f"breaker {c['breaker']}",
             "tested": (c["tested_at"] or "")[:16].replace("T", " ")} for c in connection_health()]
        from app.services.auth.sso.health import provider_health

        self.sso_providers = provider_health()


class AdminJobsState(rx.State):
    status_filter: str = "all"
    kind_filter: str = ""
    # Newest first: id, kind, owner, status, progress, message, error, created.
    rows: list[dict[str, str]] = []
    total: int = 0
    # Queue name → jobs waiting.
    depths: dict[str, int] = {}
    # Live workers: name, state, current job, last heartbeat.
    workers: list[dict[str, str]] = []

    def _load(self) -> None:
        from rq import Worker

        from app.queue import queue_depths
        from app.redis_client import get_redis

        status = "" if self.status_filter == "all" else self.status_filter
        with session_scope() as session:
            found, self.total = jobs.list_jobs(session=session, status=status, kind=self.kind_filter, limit=100)
        self.rows = [{"id": j.id, "short": j.id[:8], "kind": j.kind, "owner": str(j.workspace_id or "—"),
                      "status": j.status, "progress": str(j.progress), "message": j.message,
                      "error": j.error, "attempts": str(j.attempts), "created": _when(j.created_at)}
                     for j in found]
        self.depths = queue_depths()
        self.workers = [{"name": w.name, "state": str(w.get_state()), "job": w.get_current_job_id() or "—",
                         "heartbeat": _when(w.last_heartbeat)} for w in Worker.all(connection=get_redis())]

    @rx.event
    async def load_page(self):
        if await _require_admin(self) is None:
            return _refused(self)
        self._load()

    @rx.event
    async def handle_status_filter(self, value: str):
        if await _require_admin(self) is None:
            return _refused(self)
        self.status_filter = value if value in ("all", *jobs.STATUSES) else "all"
        self._load()

    @rx.var
    def kinds(self) -> list[str]:
        from app.queue import KINDS

        return ["all", *KINDS]

    @rx.event
    async def handle_kind_filter(self, value: str):
        if await _require_admin(self) is None:
            return _refused(self)
        from app.queue import KINDS

        self.kind_filter = value if value in KINDS else ""
        self._load()

    @rx.event
    async def retry_job(self, job_id: str):
        admin = await _require_admin(self)
        if admin is None:
            return _refused(self)
        try:
            new = jobs.retry(job_id=job_id)
        except AppError as exc:
            return rx.toast.error(exc.message)
        with session_scope() as session:
            audit.record(session=session, action="admin.job_retry", actor_id=admin.id, target=job_id,
                         ip=client_ip(self), detail=f"new job {new.id}")
        self._load()
        return rx.toast.success("Retried as a new job.")

    @rx.event
    async def cancel_job(self, job_id: str):
        admin = await _require_admin(self)
        if admin is None:
            return _refused(self)
        try:
            outcome = jobs.cancel(job_id=job_id, workspace_id=None)
        except AppError as exc:
            return rx.toast.error(exc.message)
        with session_scope() as session:
            audit.record(session=session, action="admin.job_cancel", actor_id=admin.id, target=job_id,
                         ip=client_ip(self), detail=outcome)
        self._load()
        return rx.toast.success("Removed from the queue." if outcome == "removed" else "Stopping after this item.")


class AdminAuditState(rx.State):
    # Newest first: at, actor, action, target, ip, detail.
    events: list[dict[str, str]] = []

    @rx.event
    async def load_page(self):
        if await _require_admin(self) is None:
            return _refused(self)
        with session_scope() as session:
            rows = audit.recent(session=session, limit=200)
        self.events = [{"at": _when(e.at), "actor": str(e.actor_id or "—"), "action": e.action,
                        "target": e.target, "ip": e.ip, "detail": e.detail} for e in rows]
