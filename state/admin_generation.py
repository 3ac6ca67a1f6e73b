"""Admin pages for image generation: style presets, the moderation denylist and its decision log."""

from __future__ import annotations

import reflex as rx
from pydantic import ValidationError

from app.db import session_scope
from app.display import moment
from app.errors import AppError
from app.services import audit
from app.services.auth.accounts import UserPublic
from app.services.click_keys import first_click, new_click_key
from app.services.form_errors import form_message
from app.services.generation import styles
from app.services.generation.styles import StyleInput
from app.services.moderation import policy as content_policy
from app.services.moderation.policy import TermInput
from state.session import admin_only, client_ip

# The styles and moderation forms' fields as labelled there (form_message: "Key must…", not "key: …").
LABELS = {"key": "Key", "name": "Name", "template": "Template", "negative": "Negative words", "position": "Position",
          "term": "Term", "kind": "Kind", "category": "Category", "reason": "Reason"}


def _problem(exc: ValidationError, model) -> str:
    return form_message(exc, model, LABELS, limit=1)


class AdminStylesState(rx.State):
    # One row per style: key, name, template, negative, position, active.
    rows: list[dict[str, str]] = []
    # The key of the style in the edit dialog; "new" for a new one, "" when closed.
    editing: str = ""
    form_error: str = ""

    @rx.var
    def edited(self) -> dict[str, str]:
        blank = {"key": "", "name": "", "template": "{prompt}", "negative": "", "position": str(len(self.rows)),
                 "active": "yes"}
        return next((r for r in self.rows if r["key"] == self.editing), blank)

    def _reload(self) -> None:
        with session_scope() as session:
            self.rows = [{"key": s.key, "name": s.name, "template": s.template, "negative": s.negative,
                          "position": str(s.position), "active": "yes" if s.is_active else ""}
                         for s in styles.list_styles(session=session, active_only=False)]

    @rx.event
    @admin_only
    async def load_page(self, admin: UserPublic):
        self.editing, self.form_error = "", ""
        self._reload()

    @rx.event
    @admin_only
    async def open_editor(self, admin: UserPublic, key: str):
        self.editing, self.form_error = key, ""

    @rx.event
    def close_editor(self):
        self.editing, self.form_error = "", ""

    @rx.event
    @admin_only
    async def save_style(self, admin: UserPublic, form: dict):
        try:
            data = StyleInput(key=form.get("key", ""), name=form.get("name", ""), template=form.get("template", ""),
                              negative=form.get("negative", ""), position=int(form.get("position") or 0),
                              is_active=form.get("active") == "on")
        except ValidationError as exc:
            self.form_error = _problem(exc, StyleInput)
            return
        except ValueError:
            self.form_error = "Position must be a whole number."
            return
        try:
            with session_scope() as session:
                styles.save_style(session=session, data=data, key=None if self.editing == "new" else self.editing)
                audit.record(session=session, actor_id=admin.id, action="style.save", target=data.key,
                             ip=client_ip(self))
        except AppError as exc:
            self.form_error = exc.message
            return
        self.editing, self.form_error = "", ""
        self._reload()
        return rx.toast.success(f"Style “{data.name}” saved.")

    @rx.event
    @admin_only
    async def delete_style(self, admin: UserPublic, key: str):
        try:
            with session_scope() as session:
                styles.delete_style(session=session, key=key)
                audit.record(session=session, actor_id=admin.id, action="style.delete", target=key,
                             ip=client_ip(self))
        except AppError as exc:
            return rx.toast.error(exc.message)
        self._reload()
        return rx.toast.success("Style deleted.")


class AdminModerationState(rx.State):
    # The denylist: id, term, kind, category, reason.
    terms: list[dict[str, str]] = []
    term_query: str = ""
    form_error: str = ""
    # The decision log: when, user, surface, decision, source, category, matched, reason, text.
    events: list[dict[str, str]] = []
    events_total: int = 0
    # all | refused | allowed
    decision_filter: str = "all"
    # A key per click of Add, re-armed after each add (app/services/click_keys.py).
    click_key: str = ""

    def _reload(self) -> None:
        allowed = {"all": None, "refused": False, "allowed": True}[self.decision_filter]
        with session_scope() as session:
            self.terms = [{"id": str(t.id), "term": t.term, "kind": t.kind, "category": t.category,
                           "reason": t.reason} for t in content_policy.list_terms(session=session,
                                                                                 query=self.term_query)]
            rows, self.events_total = content_policy.list_events(session=session, allowed=allowed, limit=200)
        self.events = [{"at": moment(e.at), "user": str(e.workspace_id or "—"), "surface": e.surface,
                        "decision": "allowed" if e.allowed else "refused", "source": e.source,
                        "category": e.category or "—", "matched": e.matched or "—", "reason": e.reason,
                        "text": e.text[:160]} for e in rows]

    @rx.event
    @admin_only
    async def load_page(self, admin: UserPublic):
        self.form_error = ""
        self.click_key = new_click_key()
        self._reload()

    @rx.event
    @admin_only
    async def handle_term_query(self, admin: UserPublic, value: str):
        self.term_query = value[:100]
        self._reload()

    @rx.event
    @admin_only
    async def handle_decision_filter(self, admin: UserPublic, value: str):
        self.decision_filter = value if value in ("all", "refused", "allowed") else "all"
        self._reload()

    @rx.event
    @admin_only
    async def add_term(self, admin: UserPublic, form: dict):
        if not first_click(user_id=admin.id, scope="denylist-add", key=str(form.get("click_key", ""))):
            return None  # the second event of a double click: before, it showed "on the list already"
        self.click_key = new_click_key()
        try:
            data = TermInput(term=form.get("term", ""), kind=form.get("kind", "word") or "word",
                             category=form.get("category", ""), reason=form.get("reason", ""))
            with session_scope() as session:
                content_policy.add_term(session=session, data=data, actor_id=admin.id)
                audit.record(session=session, actor_id=admin.id, action="denylist.add",
                             target=f"{data.kind}:{data.category}", ip=client_ip(self))
        except ValidationError as exc:
            self.form_error = _problem(exc, TermInput)
            return
        except (AppError, ValueError) as exc:
            self.form_error = getattr(exc, "message", str(exc))
            return
        self.form_error = ""
        self._reload()
        return [rx.set_value("term", ""), rx.toast.success("Added to the denylist.")]

    @rx.event
    @admin_only
    async def delete_term(self, admin: UserPublic, term_id: str):
        try:
            with session_scope() as session:
                term = content_policy.delete_term(session=session, term_id=int(term_id))
                audit.record(session=session, actor_id=admin.id, action="denylist.delete",
                             target=f"{term.kind}:{term.category}", ip=client_ip(self))
        except (AppError, ValueError):
            return rx.toast.error("That term is gone already.")
        self._reload()
        return rx.toast.success("Removed from the denylist.")
