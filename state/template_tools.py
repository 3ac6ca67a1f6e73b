"""The editor's dialogs: compare two versions (source diff; for email the two rendered side by side), test
send, and the kind's way out (a new deck from a slide template, an image style into Generate)."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.db import read_scope, session_scope
from app.errors import AppError
from app.services.auth.accounts import UserPublic
from app.services.click_keys import first_click, new_click_key
from app.services.templates import email, versions
from app.services.templates.view import (
    diff_rows,
    folded,
    parse_schema,
    typed_data,
)
from state.session import refused, signed_in
from state.template_editor import TemplateEditorState
from state.template_pictures import TemplatePicturesState

MAX_ADDRESSES = 10  # per test send; the service limits the rate as well


def rendered_html(content: dict, values: dict[str, str]) -> str:
    """A version rendered with the editor's sample data (its fallbacks where that data does not fit it)."""
    schema = content.get("schema") or {}
    for data in (typed_data(schema, values), {}):
        try:
            return email.render(content.get("source", ""), schema, data).html
        except AppError:
            continue
    return "<p style='font-family:sans-serif;color:#b91c1c'>This version cannot be rendered.</p>"


class TemplateToolsState(rx.State):
    compare_open: bool = False
    compare_a: str = ""
    compare_b: str = ""
    diff: list[dict[str, str]] = []
    diff_summary: str = ""
    html_a: str = ""
    html_b: str = ""
    compare_error: str = ""
    # Test send.
    send_open: bool = False
    addresses: str = ""
    send_sample: str = ""
    send_result: str = ""
    send_error: str = ""
    # A key per click of Send test, armed when the dialog opens (app/services/click_keys.py).
    click_key: str = ""

    async def _editor(self) -> TemplateEditorState:
        return await self.get_state(TemplateEditorState)

    # ---- compare ----
    @rx.event
    async def open_compare(self, number: str = ""):
        """Compare `number` (or the previous version) with the newest one."""
        editor = await self._editor()
        numbers = [v["number"] for v in editor.versions]
        if len(numbers) < 2:
            return rx.toast.info("Compare needs two versions: save once more first.")
        self.compare_b = numbers[0]
        self.compare_a = number if number in numbers and number != numbers[0] else numbers[1]
        self.compare_open = True
        return await self._compare()

    @rx.event
    async def set_compare(self, side: str, number: str):
        if side == "a":
            self.compare_a = str(number)
        else:
            self.compare_b = str(number)
        return await self._compare()

    @rx.event
    def close_compare(self, value: bool = False):
        self.compare_open = bool(value)

    @signed_in
    async def _compare(self, user: UserPublic):
        editor = await self._editor()
        template_id, kind = editor._template_id(), editor.template.get("kind", "")
        try:
            with read_scope() as session:
                a, b = (versions.get_version(session=session, actor=user, template_id=template_id, number=int(n))
                        for n in (self.compare_a, self.compare_b))
                old, new = dict(a.content), dict(b.content)
        except (AppError, ValueError):
            self.compare_error, self.diff = "Those versions cannot be read.", []
            return
        rows = diff_rows(versions.text_of(kind, old), versions.text_of(kind, new))
        added = sum(1 for r in rows if r["kind"] == "add")
        removed = sum(1 for r in rows if r["kind"] == "del")
        self.diff = folded(rows)
        self.diff_summary = "The two versions are the same." if not (added or removed) else \
            f"{added} lines added, {removed} removed"
        self.compare_error, self.html_a, self.html_b = "", "", ""
        if kind == "email":
            values = editor.sample_values
            self.html_a, self.html_b = rendered_html(old, values), rendered_html(new, values)

    # ---- test send ----
    @rx.event
    async def open_send(self, value: bool = True):
        editor = await self._editor()
        self.send_open, self.send_result, self.send_error = bool(value), "", ""
        if self.send_open:
            self.click_key = new_click_key()
        if self.send_open and not self.send_sample:
            self.send_sample = editor.sample_id or "default"

    @rx.event
    def set_addresses(self, value: str):
        self.addresses = str(value)[:2000]

    @rx.event
    def set_send_sample(self, value: str):
        self.send_sample = str(value)[:20]

    @rx.event
    @signed_in
    async def send_test(self, user: UserPublic, form: dict | None = None):
        if (refusal := refused(user, "templates.write")) is not None:
            return refusal
        if not first_click(user_id=user.id, scope="template-test-send", key=str((form or {}).get("click_key", ""))):
            return None  # the second event of a double click: each address gets one email
        self.click_key = new_click_key()
        editor = await self._editor()
        raw = str((form or {}).get("addresses", self.addresses))[:2000]
        addresses = [a.strip() for a in raw.replace(";", ",").replace("\n", ",").split(",") if a.strip()]
        if not addresses:
            self.send_error = "Add at least one address."
            return
        if len(addresses) > MAX_ADDRESSES:
            self.send_error = f"At most {MAX_ADDRESSES} addresses per test send."
            return
        from app.services.templates import sends

        sample_id = int(self.send_sample) if self.send_sample.isdigit() else None
        schema, _ = parse_schema(editor.schema_text)
        try:
            with session_scope() as session:
                sends.send_test(session=session, actor=user, template_id=editor._template_id(),
                                recipients=addresses, sample_id=sample_id,
                                data=None if sample_id else typed_data(schema or {}, editor.sample_values),
                                number=editor.base_number or None)
        except AppError as exc:
            self.send_error, self.send_result = exc.message, ""
            return
        self.send_error = ""
        self.send_result = f"Sent version {editor.base_number} to {len(addresses)} " + \
            ("address." if len(addresses) == 1 else "addresses.")
        return TemplatePicturesState.load_links  # a send with library pictures made links: the list shows them

    # ---- the kind's way out ----
    @rx.event
    @signed_in
    async def new_deck(self, user: UserPublic):
        if (refusal := refused(user, "slides.write")) is not None:
            return refusal
        editor = await self._editor()
        from app.services.templates import kinds

        try:
            with session_scope() as session:
                deck_id = kinds.new_deck_from_template(session=session, actor=user,
                                                       template_id=editor._template_id()).id
        except AppError as exc:
            return rx.toast.error(exc.message)
        return rx.redirect(routes.slides_deck_url(str(deck_id)))

    @rx.event
    async def use_in_generate(self):
        editor = await self._editor()
        if not editor.template.get("active_number"):
            return rx.toast.error("This style has no approved version yet: only an active version is used.")
        return rx.redirect(routes.generate_style_url(editor.template.get("id", "")))
