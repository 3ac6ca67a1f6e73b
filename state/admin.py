"""The admin pages: users, outbox and system health. Every handler re-checks the role."""

from __future__ import annotations

import uuid

import reflex as rx

from app.db import session_scope
from app.display import moment
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
from state.session import admin_only, client_ip


class AdminUsersState(rx.State):
    query: str = ""
    # One row per user: id, email, name, role, active, created, last sign-in.
    users: list[dict[str, str]] = []
    total: int = 0
    # The user whose "Grant credits" dialog is open ("" = none): it stays open until a grant is
    # recorded, so a refusal is read inside it with the typed amount and reason still there.
    grant_user_id: str = ""
    grant_error: str = ""

    @rx.event
    @admin_only
    async def load_page(self, admin: UserPublic):
        self._search()

    def _search(self) -> None:
        with session_scope() as session:
            users, self.total = accounts.search_users(session=session, query=self.query, limit=200)
            balances = credits.balances(session=session, workspace_ids=[u.workspace_id for u in users])
        self.users = [{"id": str(u.id), "email": u.email, "name": u.name or "—", "role": u.role,
                       "active": "yes" if u.is_active else "no", "created": moment(u.created_at),
                       "last_login": moment(u.last_login_at), "credits": str(balances[u.workspace_id])} for u in users]

    @rx.event
    @admin_only
    async def handle_search(self, admin: UserPublic, value: str):
        self.query = value[:100]
        self._search()

    @rx.event
    @admin_only
    async def set_role(self, admin: UserPublic, user_id: str, role: str):
        try:
            with session_scope() as session:
                accounts.set_role(session=session, actor_id=admin.id, user_id=parse_id(user_id),
                                  role=role, ip=client_ip(self))
        except AppError as exc:
            return rx.toast.error(exc.message)
        self._search()
        return rx.toast.success(f"Role changed to {role}.")

    @rx.event
    @admin_only
    async def set_grant_open(self, admin: UserPublic, user_id: str, value: bool):
        self.grant_user_id = str(user_id) if value else ""
        self.grant_error = ""

    @rx.event
    @admin_only
    async def grant_credits(self, admin: UserPublic, form_data: dict):
        try:
            user_id = int(form_data.get("user_id", ""))
        except ValueError:
            self.grant_error = "This account is no longer in the list: reload the page."
            return
        try:
            amount = int(str(form_data.get("amount", "")).strip())
        except ValueError:
            self.grant_error = "Enter a whole number of credits, for example 100, or -20 to take some back."
            return
        try:
            with session_scope() as session:
                personal = accounts.get_user(session=session, user_id=user_id).personal_workspace_id
                credits.adjust(session=session, actor_id=admin.id, workspace_id=personal, amount=amount,
                               reason=str(form_data.get("reason", ""))[:300], reference=f"admin:{uuid.uuid4()}")
        except AppError as exc:
            self.grant_error = exc.message
            return
        self.grant_user_id, self.grant_error = "", ""
        self._search()
        return rx.toast.success(f"{amount:+d} credits recorded.")

    @rx.event
    @admin_only
    async def toggle_active(self, admin: UserPublic, user_id: str, active: str):
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
    @admin_only
    async def load_page(self, admin: UserPublic):
        with session_scope() as session:
            rows = mail.list_outbox(session=session, limit=100)
        self.emails = [{"id": str(r.id), "to": r.to_address, "subject": r.subject,
                        "status": r.status, "created": moment(r.created_at), "body": r.body_text,
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
    @admin_only
    async def load_page(self, admin: UserPublic):
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
                      "error": j.error, "attempts": str(j.attempts), "created": moment(j.created_at)}
                     for j in found]
        self.depths = queue_depths()
        self.workers = [{"name": w.name, "state": str(w.get_state()), "job": w.get_current_job_id() or "—",
                         "heartbeat": moment(w.last_heartbeat)} for w in Worker.all(connection=get_redis())]

    @rx.event
    @admin_only
    async def load_page(self, admin: UserPublic):
        self._load()

    @rx.event
    @admin_only
    async def handle_status_filter(self, admin: UserPublic, value: str):
        self.status_filter = value if value in ("all", *jobs.STATUSES) else "all"
        self._load()

    @rx.var
    def kinds(self) -> list[str]:
        from app.queue import KINDS

        return ["all", *KINDS]

    @rx.event
    @admin_only
    async def handle_kind_filter(self, admin: UserPublic, value: str):
        from app.queue import KINDS

        self.kind_filter = value if value in KINDS else ""
        self._load()

    @rx.event
    @admin_only
    async def retry_job(self, admin: UserPublic, job_id: str):
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
    @admin_only
    async def cancel_job(self, admin: UserPublic, job_id: str):
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
    @admin_only
    async def load_page(self, admin: UserPublic):
        with session_scope() as session:
            rows = audit.recent(session=session, limit=200)
        self.events = [{"at": moment(e.at), "actor": str(e.actor_id or "—"), "action": e.action,
                        "target": e.target, "ip": e.ip, "detail": e.detail} for e in rows]
