"""The template library (/templates): search and filters (kept in the URL), new, duplicate, archive."""

from __future__ import annotations

import json

import reflex as rx

from app import routes
from app.db import read_scope, session_scope
from app.errors import AppError
from app.services.auth.accounts import UserPublic
from app.services.click_keys import first_click, new_click_key
from app.services.templates import library
from app.services.templates import rows as data
from app.services.templates.view import KINDS, starter_content
from state.session import refused, signed_in

FILTERS = ("kind", "category", "tag", "status")
ANY = "any"  # the selects' "no filter" value (Radix refuses an empty one)
STATUSES = [("active", "Has an active version"), ("has_draft", "Latest is a draft"), ("in_review", "In review")]


class TemplatesState(rx.State):
    q: str = ""
    kind: str = ANY
    category: str = ANY
    tag: str = ANY
    status: str = ANY
    show_archived: bool = False
    # One card per template: id, name, kind, kind_label, icon, color, status, tags (", "), updated, archived, thumb.
    cards: list[dict[str, str]] = []
    categories: list[str] = []
    known_tags: list[str] = []
    loaded: bool = False
    error: str = ""
    # The "New template" dialog.
    new_open: bool = False
    new_kind: str = "email"
    new_name: str = ""
    new_error: str = ""
    # A key per click of Create, armed when the dialog opens (app/services/click_keys.py).
    click_key: str = ""

    @rx.var
    def filtered(self) -> bool:
        return bool(self.q) or any(getattr(self, f) != ANY for f in FILTERS) or self.show_archived

    def _params(self) -> dict[str, str]:
        params = {"q": self.q, **{f: getattr(self, f) for f in FILTERS if getattr(self, f) != ANY}}
        if self.show_archived:
            params["archived"] = "1"
        return params

    def _sync_url(self) -> rx.event.EventSpec:
        # The address bar follows the search without a page load, so a copied link opens the same list.
        url = routes.templates_search_url(self._params())
        return rx.call_script(f"window.history.replaceState(window.history.state, '', {json.dumps(url)})")

    def _reload(self, user) -> None:
        self.error = ""
        try:
            with read_scope() as session:
                self.cards = data.library_cards(
                    session, user, q=self.q, archived=self.show_archived,
                    **{f: ("" if getattr(self, f) == ANY else getattr(self, f)) for f in FILTERS})
                self.categories, self.known_tags = data.facets(session, user)
        except AppError as exc:  # a hand-edited link (unknown kind, a too long search): say why, show nothing
            self.cards, self.error = [], exc.message
        self.loaded = True

    @rx.event
    @signed_in
    async def load_page(self, user: UserPublic):
        params = self.router.url.query_parameters
        self.q = str(params.get("q", ""))[:200]
        for name in FILTERS:
            value = str(params.get(name, "") or ANY)[:60]
            setattr(self, name, value)
        if self.kind not in KINDS:
            self.kind = ANY
        if self.status not in {s for s, _ in STATUSES}:
            self.status = ANY
        self.show_archived = params.get("archived", "") == "1"
        self.new_open = False
        self._reload(user)

    @signed_in
    async def _research(self, user: UserPublic):
        self._reload(user)
        return self._sync_url()

    @rx.event
    async def search(self, value: str):
        self.q = str(value)[:200]
        return await self._research()

    @rx.event
    async def set_filter(self, name: str, value: str):
        if name not in FILTERS:
            return
        setattr(self, name, str(value)[:60] or ANY)
        return await self._research()

    @rx.event
    async def set_show_archived(self, value: bool):
        self.show_archived = bool(value)
        return await self._research()

    @rx.event
    async def clear_filters(self):
        self.q, self.show_archived = "", False
        for name in FILTERS:
            setattr(self, name, ANY)
        return await self._research()

    @rx.event
    def open_new(self, value: bool = True):
        self.new_open, self.new_error = bool(value), ""
        if self.new_open:
            self.new_kind, self.new_name = "email", ""
            self.click_key = new_click_key()

    @rx.event
    def set_new_kind(self, kind: str):
        # "slide" is chosen like the others: the dialog then says a slide template is made from a deck and
        # offers the Slides page instead of Create.
        if kind in KINDS:
            self.new_kind, self.new_error = kind, ""

    @rx.event
    def set_new_name(self, value: str):
        self.new_name = str(value)[:120]

    @rx.event
    @signed_in
    async def create(self, user: UserPublic, form: dict | None = None):
        if (refusal := refused(user, "templates.write")) is not None:
            return refusal
        if not first_click(user_id=user.id, scope="template-new", key=str((form or {}).get("click_key", ""))):
            return None  # the second event of a double click: one template, and its page opens
        self.click_key = new_click_key()
        if self.new_kind == "slide":  # no starter deck: a slide template is a deck saved as one, on the Slides page
            self.new_error = "A slide template is made from a deck: open it on the Slides page and choose “Save as " \
                             "template”."
            return
        name = str((form or {}).get("name", self.new_name)).strip()[:120]
        if not name:
            self.new_error = "Give the template a name."
            return
        try:
            with session_scope() as session:
                template = library.create_template(session=session, actor=user, kind=self.new_kind, name=name,
                                                   content=starter_content(self.new_kind), note="Starter")
                template_id = template.id
        except AppError as exc:
            self.new_error = exc.message
            return
        self.new_open = False
        return rx.redirect(routes.template_url(str(template_id)))

    @rx.event
    @signed_in
    async def duplicate(self, user: UserPublic, template_id: str):
        if (refusal := refused(user, "templates.write")) is not None:
            return refusal
        try:
            with session_scope() as session:
                copy_id = library.duplicate_template(session=session, actor=user, template_id=int(template_id)).id
        except (AppError, ValueError) as exc:
            return rx.toast.error(getattr(exc, "message", "That template cannot be copied."))
        self._reload(user)
        return rx.toast.success("Copied: the copy starts as a draft.", id=f"dup-{copy_id}")

    @rx.event
    @signed_in
    async def archive(self, user: UserPublic, template_id: str, archived: bool = True):
        if (refusal := refused(user, "templates.write")) is not None:
            return refusal
        try:
            with session_scope() as session:
                change = library.archive_template if archived else library.unarchive_template
                change(session=session, actor=user, template_id=int(template_id))
        except (AppError, ValueError) as exc:
            return rx.toast.error(getattr(exc, "message", "That template cannot be changed."))
        self._reload(user)
        return rx.toast.success("Archived." if archived else "Restored.")
