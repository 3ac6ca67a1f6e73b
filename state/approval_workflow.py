"""The approval workflow section of the team page: ordered stages, approvals needed, roles and named members.

Saving bumps the workflow's version; reviews running under the old one are invalidated and their authors told
(app.services.templates.approval_workflow). The form keeps the version it loaded: another admin's save in
between answers a conflict instead of being overwritten.
"""

from __future__ import annotations

import reflex as rx

from app.db import read_scope, session_scope
from app.errors import AppError
from app.services.auth.accounts import UserPublic
from app.services.templates import approval_workflow
from app.services.workspaces import members
from state.session import client_ip, refused, signed_in

ROLE_CHOICES = list(approval_workflow.STAGE_ROLES)


class WorkflowSettingsState(rx.State):
    version: int = 0
    # Each stage being edited: name, needed (text), roles (comma-joined), members (comma-joined user ids).
    stages: list[dict[str, str]] = []
    # Reviewers who may be named in a stage: user_id, label.
    reviewers: list[dict[str, str]] = []
    can_manage: bool = False
    error: str = ""

    @rx.event
    @signed_in
    async def load(self, user: UserPublic):
        with read_scope() as session:
            data = approval_workflow.get_workflow(session=session, actor=user, workspace_id=user.workspace_id)
            people = members.list_members(session=session, workspace_id=user.workspace_id)
        self.version = data["version"]
        self.stages = [{"name": s["name"], "needed": str(s["needed"]), "roles": ",".join(s["roles"]),
                        "members": ",".join(str(m) for m in s["members"])} for s in data["stages"]]
        self.reviewers = [{"user_id": str(p["user_id"]), "label": p["name"] or p["email"]} for p in people
                          if p["role"] in approval_workflow.STAGE_ROLES]
        self.can_manage, self.error = user.can("approvals.manage"), ""

    @rx.event
    def add_stage(self):
        if len(self.stages) < 10:
            self.stages = [*self.stages, {"name": f"Stage {len(self.stages) + 1}", "needed": "1", "roles": "",
                                          "members": ""}]

    @rx.event
    def remove_stage(self, index: int):
        self.stages = [s for i, s in enumerate(self.stages) if i != index]

    @rx.event
    def move_stage(self, index: int, step: int):
        j = index + step
        if 0 <= index < len(self.stages) and 0 <= j < len(self.stages):
            rows = list(self.stages)
            rows[index], rows[j] = rows[j], rows[index]
            self.stages = rows

    @rx.event
    def set_field(self, index: int, field: str, value: str):
        if field in ("name", "needed") and 0 <= index < len(self.stages):
            rows = [dict(s) for s in self.stages]
            rows[index][field] = value[:60]
            self.stages = rows

    @rx.event
    def toggle(self, index: int, field: str, value: str):
        """Add or remove a role or a named member of stage `index`."""
        if field not in ("roles", "members") or not 0 <= index < len(self.stages):
            return
        rows = [dict(s) for s in self.stages]
        chosen = [v for v in rows[index][field].split(",") if v]
        rows[index][field] = ",".join([v for v in chosen if v != value] if value in chosen else [*chosen, value])
        self.stages = rows

    @rx.event
    @signed_in
    async def save(self, user: UserPublic):
        if (toast := refused(user, "approvals.manage")) is not None:
            return toast
        try:
            stages = [{"name": s["name"], "needed": int(s["needed"] or "1"),
                       "roles": [r for r in s["roles"].split(",") if r],
                       "members": [int(m) for m in s["members"].split(",") if m.isdigit()]} for s in self.stages]
        except ValueError:
            self.error = "'Approvals needed' must be a whole number."
            return None
        try:
            with session_scope() as session:
                saved = approval_workflow.set_workflow(session=session, actor=user, workspace_id=user.workspace_id,
                                                       stages=stages, expected_version=self.version,
                                                       ip=client_ip(self))
        except AppError as exc:
            self.error = exc.message
            return None
        self.version, self.error = saved["version"], ""
        gone = saved["invalidated"]
        note = f" {gone} running review(s) must be sent again; their authors were told." if gone else ""
        return rx.toast.success("Approval workflow saved." + note)
