"""The review panel of a template's editor page: where the latest version's review stands, the decisions the
signed-in person may take (submit, approve, reject), rollback to an approved version, and the comment threads.

Every handler checks the session and calls the services, which check the role again; a decision carries the
number, revision and stage this panel showed, so a click on something that moved meanwhile is refused (409).
"""

from __future__ import annotations

import reflex as rx

from app.db import read_scope, session_scope
from app.errors import AppError
from app.ids import parse_id
from app.services.auth.accounts import UserPublic
from app.services.templates import comments, reviews
from state.session import client_ip, refused, signed_in
from state.template_editor import TemplateEditorState

STATUS_LABELS = {"draft": "Draft", "in_review": "In review", "approved": "Approved", "rejected": "Sent back",
                 "invalidated": "Workflow changed: send again"}


def stage_line(stages: list[dict]) -> str:
    """"Copy 1/1 ✓ → Design 0/2 → Legal": the stages with the current one's count."""
    parts = []
    for s in stages:
        if s["state"] == "done":
            parts.append(f"{s['name']} {s['count']}/{s['needed']} ✓")
        elif s["state"] == "current":
            parts.append(f"{s['name']} {s['count']}/{s['needed']}")
        else:
            parts.append(s["name"])
    return " → ".join(parts)


def _flat_comment(c: dict, reply: bool) -> dict[str, str]:
    return {"id": str(c["id"]), "author": c["author"] or "Someone", "body": c["body"],
            "when": c["created_at"].strftime("%d %b %H:%M"), "reply": "yes" if reply else "",
            "mentions": ", ".join(m["name"] for m in c["mentions"])}


class ReviewPanelState(rx.State):
    # The version shown: number, revision, status, status_label, stage, reason, author, blocking (joined).
    version: dict[str, str] = {}
    # Each stage: name, needed, count, state (done | current | waiting), approved_by (joined), members/roles text.
    stages: list[dict[str, str]] = []
    progress: str = ""
    # What the signed-in person may do now: submit, approve, reject.
    can: list[str] = []
    active_number: str = ""
    # Approved versions other than the active one, newest first (rollback targets).
    rollback_to: list[str] = []
    can_activate: bool = False
    # Comment threads flattened in reading order (a reply follows its thread).
    thread: list[dict[str, str]] = []
    can_comment: bool = False
    comment_text: str = ""
    reply_to: str = ""
    reject_open: bool = False
    reject_reason: str = ""
    error: str = ""

    def _template_id(self) -> int:
        return parse_id(self.router.url.path.rstrip("/").rsplit("/", 1)[-1])

    def _refresh(self, user) -> None:
        template_id = self._template_id()
        with read_scope() as session:
            state = reviews.review_state(session=session, actor=user, template_id=template_id)
            threads = comments.list_comments(session=session, actor=user, template_id=template_id) \
                if state["version"] else []
        v = state["version"]
        self.version = {} if v is None else {
            "number": str(v["number"]), "revision": str(v["revision"]), "status": v["status"],
            "status_label": STATUS_LABELS.get(v["status"], v["status"]), "stage": str(v["stage"]),
            "reason": v["reason"], "author": v["author"], "blocking": "; ".join(v["blocking"])}
        self.stages = [{"name": s["name"], "needed": str(s["needed"]), "count": str(s["count"]), "state": s["state"],
                        "approved_by": ", ".join(s["approved_by"])} for s in state["stages"]]
        self.progress = stage_line(state["stages"])
        self.can = list(state["can"])
        self.active_number = str(state["active_number"] or "")
        self.rollback_to = [str(n) for n in state["approved_numbers"] if n != state["active_number"]]
        self.can_activate = user.can("templates.write")
        self.can_comment = user.can("templates.comment")
        self.thread = [row for t in threads for row in
                       [_flat_comment(t, False)] + [_flat_comment(r, True) for r in t["replies"]]]

    @rx.event
    @signed_in
    async def load(self, user: UserPublic):
        self.error, self.reject_open, self.reject_reason, self.reply_to = "", False, "", ""
        try:
            self._refresh(user)
        except AppError as exc:
            self.error = exc.message

    @signed_in
    async def _act(self, user: UserPublic, action: str, fn, success: str):
        if (toast := refused(user, action)) is not None:
            return toast
        try:
            fn(user)
        except AppError as exc:
            self._refresh(user)
            return rx.toast.error(exc.message)
        self._refresh(user)
        return rx.toast.success(success)

    @rx.event
    @signed_in
    async def submit(self, user: UserPublic):
        if (toast := refused(user, "templates.write")) is not None:
            return toast
        # The editor's base is what the author sees on screen: a save since this panel loaded is included.
        editor = await self.get_state(TemplateEditorState)
        number, revision, ip = editor.base_number, editor.base_revision, client_ip(self)
        if editor.dirty:
            return rx.toast.error("Save your changes first: a review covers a saved version.")
        template_id = self._template_id()
        return await self._act("templates.write", lambda user: reviews.check_and_submit(
            actor=user, template_id=template_id, number=number, revision=revision, ip=ip), "Sent for review.")

    def _decision(self) -> tuple[int, int, int, int]:
        v = self.version
        return self._template_id(), int(v.get("number") or 0), int(v.get("revision") or 0), int(v.get("stage") or 0)

    @rx.event
    async def approve(self):
        template_id, number, revision, stage = self._decision()
        ip = client_ip(self)

        def run(user):
            with session_scope() as session:
                reviews.approve(session=session, actor=user, template_id=template_id, number=number,
                                revision=revision, stage=stage, ip=ip)
        return await self._act("approvals.review", run, "Approved.")

    @rx.event
    def set_reject_open(self, value: bool):
        self.reject_open, self.reject_reason = value, ""

    @rx.event
    def set_reject_reason(self, value: str):
        self.reject_reason = value[:4000]

    @rx.event
    async def reject(self):
        template_id, number, revision, stage = self._decision()
        reason, ip = self.reject_reason, client_ip(self)
        if not reason.strip():
            return rx.toast.error("Say why: a rejection needs a reason.")

        def run(user):
            with session_scope() as session:
                reviews.reject(session=session, actor=user, template_id=template_id, number=number,
                               revision=revision, stage=stage, reason=reason, ip=ip)
        self.reject_open = False
        return await self._act("approvals.review", run, "Sent back to the author.")

    @rx.event
    @signed_in
    async def activate(self, user: UserPublic, number: str):
        if (toast := refused(user, "templates.write")) is not None:  # before anything else of this state
            return toast
        ip = client_ip(self)

        def run(user):
            with session_scope() as session:
                reviews.activate(session=session, actor=user, template_id=self._template_id(),
                                 number=parse_id(number), ip=ip)
        return await self._act("templates.write", run, f"Version {number} is active.")

    @rx.event
    def set_comment_text(self, value: str):
        self.comment_text = value[:comments.MAX_BODY]

    @rx.event
    def set_reply_to(self, comment_id: str):
        self.reply_to = comment_id

    @rx.event
    async def add_comment(self):
        template_id, body, ip = self._template_id(), self.comment_text, client_ip(self)
        number = int(self.version.get("number") or 0)
        parent = int(self.reply_to) if self.reply_to.isdigit() else None

        done = []

        def run(user):
            with session_scope() as session:
                comments.add_comment(session=session, actor=user, template_id=template_id, number=number, body=body,
                                     parent_id=parent, ip=ip)
            done.append(True)
        result = await self._act("templates.comment", run, "Comment added.")
        if done:  # the text stays in the box when the comment was refused
            self.comment_text, self.reply_to = "", ""
        return result
