"""One template's editor (/templates/[template_ref]): the source with its live preview, variables and sample
sets, the checklist, save (a new version, or the version in review edited in place) and the versions list.

The preview renders the text in the box with the sample data on every (debounced) edit: the email module is
pure and fast (p95 ≤ 50 ms, bench/templates_preview.py), so no service round trip is needed for it. Saving,
reading and listing go through the services, which check the role.
"""

from __future__ import annotations

import dataclasses
import json
import re
import time

import reflex as rx

from app import routes
from app.db import read_scope, session_scope
from app.errors import AppError
from app.ids import parse_id
from app.services.auth.accounts import UserPublic
from app.services.click_keys import first_click, new_click_key
from app.services.templates import checks as email_checks
from app.services.templates import email, library, render, samples, versions
from app.services.templates import rows as data
from app.services.templates.view import (
    MAX_NOTE,
    check_row,
    checklist,
    error_line,
    form_values,
    open_proposals,
    outline_rows,
    parse_schema,
    pretty,
    sample_fields,
    source_excerpt,
    typed_data,
)
from app.services.workflows.form_field import FormField
from state.session import refused, signed_in

MAX_SOURCE_BOX = email.MAX_SOURCE  # the box refuses more than a save would take
MAX_SCHEMA_BOX = 64 * 1024
# The save form's boxes: form key, state var, limit (components/templates/email_editor.in_save_form).
FORM_BOXES = (("source", "source", MAX_SOURCE_BOX), ("schema", "schema_text", MAX_SCHEMA_BOX),
              ("prompt", "prompt", 2000), ("negative_prompt", "negative_prompt", 2000),
              ("settings", "settings_text", MAX_SCHEMA_BOX))
EXTERNAL_IMAGE = re.compile(r"<mj-(?:image|hero)\b[^>]*\b(?:src|background-url)=[\"']https?://", re.IGNORECASE)




@dataclasses.dataclass
class CheckRow:
    """One line of the checklist (app.services.templates.view.check_row)."""

    key: str
    label: str
    ok: str
    detail: str
    faults: list[str]
    blocking: str
    proposals: list[dict[str, str]]


def review_panel_reload() -> list:
    """The review panel (tpl-review's state/review_panel.py, when present) reads the new version after a save."""
    try:
        from state.review_panel import ReviewPanelState
    except ImportError:
        return []
    return [ReviewPanelState.load]


class TemplateEditorState(rx.State):
    # The template: id, name, kind, kind_label, description, category, tags, archived, status line.
    template: dict[str, str] = {}
    missing: bool = False
    can_edit: bool = False
    # The version the editor started from: a save names it, a stale one is refused (edit_conflict).
    base_number: int = 0
    base_revision: int = 0
    # A key per click of Save version, re-armed after each save (app/services/click_keys.py).
    click_key: str = ""
    base_status: str = ""
    # Email: the box's text, the variables as JSON text, the preview and what went wrong rendering it.
    source: str = ""
    schema_text: str = ""
    preview_html: str = ""
    preview_text: str = ""
    preview_error: str = ""
    preview_ms: str = ""
    width: str = "desktop"
    live_checks: list[dict] = []
    # Image style: its prompt, negative prompt and settings (JSON text); the variables share schema_text.
    prompt: str = ""
    negative_prompt: str = ""
    settings_text: str = ""
    # Slide: the outline's slide titles.
    outline: list[dict[str, str]] = []
    # Sample data: the form's values (strings keyed by variable); the named sets (id, name) and the one picked
    # ("" = the variables' fallbacks).
    sample_values: dict[str, str] = {}
    samples: list[dict[str, str]] = []
    sample_id: str = ""
    sample_name: str = ""
    # Saving.
    note: str = ""
    save_error: str = ""
    save_line: int = 0
    conflict: str = ""
    dirty: bool = False
    # Versions, newest first: number, author, time, note, status, status_label, active, revision.
    versions: list[dict[str, str]] = []
    # The checks the service stored for the newest version (with alt text proposals).
    saved_checks: list[dict] = []

    # ---- what the page shows ----
    @rx.var
    def fields(self) -> list[FormField]:
        schema, _ = parse_schema(self.schema_text)
        return [FormField(**f) for f in sample_fields(schema or {}, self.sample_values)]

    @rx.var
    def error_excerpt(self) -> list[dict[str, str]]:
        line = error_line(self.save_error or self.preview_error)
        return source_excerpt(self.source, line) if self.template.get("kind") == "email" else []

    @rx.var
    def checks(self) -> list[CheckRow]:
        rows = checklist(self.live_checks, [check_row(c) for c in self.saved_checks])
        return [CheckRow(**{**c, "proposals": open_proposals(self.source, c["proposals"])}) for c in rows]

    @rx.var
    def failing_count(self) -> int:
        return sum(1 for c in self.live_checks if c["ok"] != "yes" and c["blocking"] == "yes")

    @rx.var
    def external_images(self) -> bool:
        """Pictures from other sites: the page's CSP keeps them out of the preview (not out of a send)."""
        return bool(EXTERNAL_IMAGE.search(self.source))

    @rx.var
    def prompt_preview(self) -> str:
        """An image style's prompt with the sample data filled in (what Generate will receive), or why not."""
        if self.template.get("kind") != "image_style":
            return ""
        schema, problem = parse_schema(self.schema_text)
        if schema is None:
            return "Variables: " + problem
        try:
            email.check_text(self.prompt, schema, limit=2000, label="prompt")  # what a save refuses, said now
            made = render.image_style_request({"prompt": self.prompt, "negative_prompt": self.negative_prompt,
                                               "schema": schema}, typed_data(schema, self.sample_values))
        except AppError as exc:
            return exc.message
        return made["prompt"]

    @rx.var
    def line_count(self) -> int:
        return self.source.count("\n") + 1

    def _template_id(self) -> int:
        return parse_id(self.router.url.path.rstrip("/").rsplit("/", 1)[-1])

    # ---- loading ----
    def _load(self, user, template_id: int) -> None:
        with read_scope() as session:
            template = library.get_template(session=session, actor=user, template_id=template_id)
            rows = versions.list_versions(session=session, actor=user, template_id=template_id)
            self.template = data.template_facts(session, template, rows)
            self.versions = data.version_rows(session, template, rows)
            latest = rows[0] if rows else None
            self.base_number = latest.number if latest else 0
            self.base_revision = latest.revision if latest else 0
            self.base_status = latest.status if latest else ""
            self.saved_checks = [dict(c) for c in (latest.checks or [])] if latest else []
            self._show_content(template.kind, dict(latest.content) if latest else {})
        self.can_edit = user.can("templates.write") and self.template.get("archived") != "yes"
        self.dirty, self.conflict, self.save_error, self.save_line = False, "", "", 0

    def _show_content(self, kind: str, content: dict) -> None:
        schema = content.get("schema") or {"type": "object", "properties": {}}
        self.schema_text = pretty(schema)
        self.source = content.get("source", "")
        self.prompt = content.get("prompt", "")
        self.negative_prompt = content.get("negative_prompt", "")
        self.settings_text = pretty(content.get("settings") or {})
        self.outline = outline_rows(content) if kind == "slide" else []
        if not self.sample_values or set(self.sample_values) != set(schema.get("properties") or {}):
            self.sample_values = form_values(schema, {})
        self._render()

    @rx.event
    @signed_in
    async def load_page(self, user: UserPublic):
        self.width, self.note, self.sample_values = "desktop", "", {}
        self.click_key = new_click_key()
        template_id = self._template_id()
        try:
            self._load(user, template_id)
            self.missing = False
        except AppError:
            self.missing, self.template, self.versions = True, {}, []
            return
        self.sample_id = ""
        self._load_samples(user)

    # ---- the live preview ----
    def _render(self) -> None:
        """Render the box's text with the sample data; a failure keeps the last good preview and says why."""
        if self.template.get("kind") != "email":
            return
        schema, problem = parse_schema(self.schema_text)
        if schema is None:
            self.preview_error = "Variables: " + problem
            return
        started = time.perf_counter()
        try:
            # What a save refuses (the line of an unbalanced tag, an undeclared variable) shows while typing.
            email.check_source(self.source, schema)
            rendered = email.render(self.source, schema, typed_data(schema, self.sample_values))
        except AppError as exc:
            self.preview_error = exc.message
            return
        except Exception as exc:  # MJML's own parser errors: shown, never a crashed page
            self.preview_error = f"The MJML could not be read: {str(exc)[:200]}"
            return
        self.preview_ms = f"{(time.perf_counter() - started) * 1000:.0f} ms"
        self.preview_html, self.preview_text, self.preview_error = rendered.html, rendered.text, ""
        self.live_checks = [check_row(dataclasses.asdict(c)) for c in email_checks.run(rendered, self.source)]

    @rx.event
    async def set_source(self, value: str):
        # A debounced copy landing after a save (which read the box itself) is no change.
        if not self.can_edit or str(value)[:MAX_SOURCE_BOX] == self.source:
            return
        # A save's refusal was about the text before this edit: the live preview says what is wrong now.
        self.source, self.dirty, self.save_error, self.save_line = str(value)[:MAX_SOURCE_BOX], True, "", 0
        self._render()

    def _put_source(self, value: str) -> None:
        """Another part of the page (the picture picker) changed the source: shown, marked unsaved, previewed."""
        self.source, self.dirty, self.save_error, self.save_line = value[:MAX_SOURCE_BOX], True, "", 0
        self._render()

    @rx.event
    async def set_schema_text(self, value: str):
        if not self.can_edit or str(value)[:MAX_SCHEMA_BOX] == self.schema_text:
            return
        self.schema_text, self.dirty, self.save_error, self.save_line = str(value)[:MAX_SCHEMA_BOX], True, "", 0
        schema, _ = parse_schema(self.schema_text)
        if schema is not None:  # new variables get their fallback in the form
            props = schema.get("properties") or {}
            if isinstance(props, dict):
                self.sample_values = {**form_values(schema, {}), **{k: v for k, v in self.sample_values.items()
                                                                    if k in props}}
        self._render()

    @rx.event
    def set_sample_value(self, name: str, value: str | bool | list[str]):
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, list):
            value = value[0] if value else ""
        self.sample_values = {**self.sample_values, str(name)[:40]: str(value)[:2000]}
        self._render()

    @rx.event
    def set_width(self, value: str | list[str]):
        value = value[0] if isinstance(value, list) else value
        self.width = "phone" if value == "phone" else "desktop"

    @rx.event
    def set_prompt(self, value: str):
        if self.can_edit and str(value)[:2000] != self.prompt:
            self.prompt, self.dirty = str(value)[:2000], True

    @rx.event
    def set_negative_prompt(self, value: str):
        if self.can_edit and str(value)[:2000] != self.negative_prompt:
            self.negative_prompt, self.dirty = str(value)[:2000], True

    @rx.event
    def set_settings_text(self, value: str):
        if self.can_edit and str(value)[:MAX_SCHEMA_BOX] != self.settings_text:
            self.settings_text, self.dirty = str(value)[:MAX_SCHEMA_BOX], True

    @rx.event
    def accept_alt(self, src: str, alt: str):
        """A proposed alt text, written into the image's tag in the box (saved with the next save)."""
        if not self.can_edit:
            return
        from app.services.templates.view import with_alt

        self.source, self.dirty = with_alt(self.source, str(src), str(alt)[:300]), True
        self._render()
        return rx.toast.success("Alt text added to the source; save to keep it.")

    # ---- named sample sets ----
    def _load_samples(self, user) -> None:
        if self.template.get("kind") == "slide":
            self.samples = []
            return
        with read_scope() as session:
            rows = samples.list_samples(session=session, actor=user, template_id=self._template_id())
            self.samples = [{"id": str(r.id), "name": r.name, "data": json.dumps(r.data)} for r in rows]

    def _schema(self) -> dict:
        schema, _ = parse_schema(self.schema_text)
        return schema or {}

    @rx.event
    def pick_sample(self, sample_id: str):
        chosen = next((r for r in self.samples if r["id"] == sample_id), None)
        self.sample_id = chosen["id"] if chosen else ""
        self.sample_name = chosen["name"] if chosen else ""
        self.sample_values = form_values(self._schema(), json.loads(chosen["data"]) if chosen else {})
        self._render()

    @rx.event
    def set_sample_name(self, value: str):
        self.sample_name = str(value)[:60]

    @rx.event
    @signed_in
    async def save_sample(self, user: UserPublic, as_new: bool = False):
        """The form's values as the picked set (or a new one named in the box)."""
        if (refusal := refused(user, "templates.write")) is not None:
            return refusal
        name = " ".join(self.sample_name.split())[:60]
        if not name:
            return rx.toast.error("Name the sample set first.")
        data = typed_data(self._schema(), self.sample_values)
        try:
            with session_scope() as session:
                if as_new or not self.sample_id:
                    row = samples.create_sample(session=session, actor=user, template_id=self._template_id(),
                                                name=name, data=data)
                else:
                    row = samples.update_sample(session=session, actor=user, template_id=self._template_id(),
                                                sample_id=int(self.sample_id), name=name, data=data)
                saved_id = str(row.id)
        except AppError as exc:
            return rx.toast.error(exc.message)
        self._load_samples(user)
        self.sample_id = saved_id
        return rx.toast.success(f"Sample set “{name}” saved.")

    @rx.event
    @signed_in
    async def delete_sample(self, user: UserPublic):
        if (refusal := refused(user, "templates.write")) is not None:
            return refusal
        if not self.sample_id:
            return
        try:
            with session_scope() as session:
                samples.delete_sample(session=session, actor=user, template_id=self._template_id(),
                                      sample_id=int(self.sample_id))
        except AppError as exc:
            return rx.toast.error(exc.message)
        self._load_samples(user)
        self.sample_id, self.sample_name = "", ""

    # ---- saving ----
    def _content(self) -> dict | str:
        """The editor's content for the kind, or the reason it cannot be read (JSON boxes)."""
        kind = self.template.get("kind")
        schema, problem = parse_schema(self.schema_text)
        if kind == "email":
            return {"source": self.source, "schema": schema} if schema is not None else "Variables: " + problem
        if kind == "image_style":
            if schema is None:
                return "Variables: " + problem
            settings, problem = parse_schema(self.settings_text)
            if settings is None:
                return "Settings: " + problem
            return {"prompt": self.prompt, "negative_prompt": self.negative_prompt, "settings": settings,
                    "schema": schema}
        return "A slide template changes when a deck is saved as this template again."

    @rx.event
    def set_note(self, value: str):
        self.note = str(value)[:MAX_NOTE]

    @rx.event
    @signed_in
    async def save(self, user: UserPublic, form: dict | None = None):
        if (refusal := refused(user, "templates.write")) is not None:
            return refusal
        form = form or {}
        if not first_click(user_id=user.id, scope="template-save", key=str(form.get("click_key", ""))):
            return None  # the second event of a double click: one version, one toast
        self.click_key = new_click_key()
        note = str(form.get("note", self.note))[:MAX_NOTE]
        for key, attr, limit in FORM_BOXES:  # what the boxes show, ahead of their debounced copies
            if key in form:
                setattr(self, attr, str(form[key])[:limit])
        content = self._content()
        if isinstance(content, str):
            self.save_error, self.save_line = content, error_line(content.split(": ", 1)[-1])
            return
        try:
            with session_scope() as session:
                version = versions.save_version(session=session, actor=user, template_id=self._template_id(),
                                                content=content, note=note, base_number=self.base_number,
                                                base_revision=self.base_revision, skip_unchanged=True)
                number, revision = version.number, version.revision
        except AppError as exc:
            if exc.code == "template_unchanged":  # not an error in the text: nothing to save
                self.save_error = ""
                return rx.toast.info(exc.message)
            if exc.code == "edit_conflict":
                # The box keeps the text: the person reloads (and pastes) or saves theirs on top.
                self.conflict, self.save_error = exc.message, ""
                return
            self.save_error, self.save_line = exc.message, int(exc.details.get("line") or error_line(exc.message))
            return
        problem = self._run_checks(user, number)
        source, schema_text, values = self.source, self.schema_text, self.sample_values
        self._load(user, self._template_id())
        self.source, self.schema_text, self.sample_values = source, schema_text, values  # what was saved
        self._render()
        self.note = ""
        word = f"revision {revision} of version " if revision else "version "
        return [rx.toast.success(f"Saved as {word}{number}."), *([rx.toast.warning(problem)] if problem else []),
                *review_panel_reload()]

    def _run_checks(self, user, number: int) -> str:
        """The service's checklist (moderation, brand, alt text proposals) stored on the saved version; a failure
        here never undoes the save, it is said instead."""
        schema, _ = parse_schema(self.schema_text)
        try:
            data.run_checks(user, template_id=self._template_id(), number=number,
                            data=typed_data(schema or {}, self.sample_values))
        except AppError as exc:
            return "Saved, but the checks could not run: " + exc.message
        return ""

    @rx.event
    @signed_in
    async def recheck(self, user: UserPublic):
        """Run the service's checks on the newest version again (after a moderation or brand kit change)."""
        if (refusal := refused(user, "templates.write")) is not None:
            return refusal
        if not self.base_number:
            return
        problem = self._run_checks(user, self.base_number)
        if problem:
            return rx.toast.error(problem.replace("Saved, but the", "The"))
        with read_scope() as session:
            latest = versions.get_version(session=session, actor=user, template_id=self._template_id(),
                                          number=self.base_number)
            self.saved_checks = [dict(c) for c in (latest.checks or [])]
        return rx.toast.success("Checked again.")

    @rx.event
    @signed_in
    async def reload_latest(self, user: UserPublic):
        """After a conflict: the newest version replaces the box (the person chose to)."""
        try:
            self._load(user, self._template_id())
        except AppError as exc:
            return rx.toast.error(exc.message)
        return review_panel_reload() or None

    @rx.event
    @signed_in
    async def save_mine_on_top(self, user: UserPublic):
        """After a conflict: keep the box's text and save it as the next version of the newest one."""
        with read_scope() as session:
            try:
                template = library.get_template(session=session, actor=user, template_id=self._template_id())
            except AppError as exc:
                return rx.toast.error(exc.message)
            latest = versions.latest_version(session=session, template=template)
            self.base_number = latest.number if latest else 0
            self.base_revision = latest.revision if latest else 0
        self.conflict = ""
        return TemplateEditorState.save({"click_key": self.click_key})

    @rx.event
    def dismiss_conflict(self):
        self.conflict = ""

    @rx.event
    @signed_in
    async def restore(self, user: UserPublic, number: str):
        """An earlier version's content into the box (saving makes it the next version)."""
        if not self.can_edit:
            return
        try:
            with read_scope() as session:
                version = versions.get_version(session=session, actor=user, template_id=self._template_id(),
                                               number=int(number))
                content = dict(version.content)
        except (AppError, ValueError):
            return rx.toast.error("That version cannot be read.")
        self._show_content(self.template.get("kind", ""), content)
        self.dirty, self.note = True, f"Back to version {number}"
        return rx.toast.info(f"Version {number} is in the editor: save to make it the newest version.")

    @rx.event
    @signed_in
    async def save_details(self, user: UserPublic, form: dict):
        if (refusal := refused(user, "templates.write")) is not None:
            return refusal
        tags = [t for t in str(form.get("tags", "")).split(",") if t.strip()]
        try:
            with session_scope() as session:
                library.update_template(session=session, actor=user, template_id=self._template_id(),
                                        name=str(form.get("name", ""))[:200],
                                        description=str(form.get("description", ""))[:2000],
                                        category=str(form.get("category", ""))[:100], tags=tags[:40])
        except AppError as exc:
            return rx.toast.error(exc.message)
        with read_scope() as session:
            template = library.get_template(session=session, actor=user, template_id=self._template_id())
            rows = versions.list_versions(session=session, actor=user, template_id=template.id)
            self.template = data.template_facts(session, template, rows)
        return rx.toast.success("Details saved.")

    @rx.event
    def open_library(self):
        return rx.redirect(routes.TEMPLATES)

