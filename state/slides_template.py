"""The Slides page's "Save as template": the open deck (its outline, theme and brand kit) becomes a slide template
of the workspace, or a new version of one it was saved as before."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.db import session_scope
from app.errors import AppError
from app.services.auth.accounts import UserPublic
from state.session import refused, signed_in
from state.slides import SlidesState


class SlidesTemplateState(rx.State):
    open: bool = False
    name: str = ""
    error: str = ""
    saved_url: str = ""

    @rx.event
    async def show(self, value: bool = True):
        slides = await self.get_state(SlidesState)
        self.open, self.error, self.saved_url = bool(value), "", ""
        if self.open:
            self.name = slides.deck.get("title", "")[:120]

    @rx.event
    def set_name(self, value: str):
        self.name = str(value)[:120]

    @rx.event
    @signed_in
    async def save(self, user: UserPublic, form: dict | None = None):
        if (refusal := refused(user, "templates.write")) is not None:
            return refusal
        slides = await self.get_state(SlidesState)
        if slides.dirty:
            self.error = "Save the deck's edits first: the template is made from the saved deck."
            return
        name = " ".join(str((form or {}).get("name", self.name)).split())[:120]
        from app.services.templates import kinds

        try:
            with session_scope() as session:
                template = kinds.save_deck_as_template(session=session, actor=user,
                                                       deck_id=int(slides.deck["id"]), name=name)
                template_id = template.id
        except (AppError, KeyError, ValueError) as exc:
            self.error = getattr(exc, "message", "Open a deck first.")
            return
        self.error, self.saved_url = "", routes.template_url(str(template_id))
        return rx.toast.success("Saved as a slide template: a reviewer approves it before it is used.")
