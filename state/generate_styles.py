"""The Generate page's image style templates: pick one (its ACTIVE version only) and its prompt, negative
prompt and settings fill the form; its variables take their fallbacks, the prompt stays editable."""

from __future__ import annotations

import reflex as rx

from app.db import read_scope
from app.errors import AppError
from app.ids import parse_id
from app.services.auth.accounts import UserPublic
from app.services.templates import library
from state.generate import GenerateState
from state.session import signed_in

NONE = "none"  # the select's "no template" value


class GenerateStylesState(rx.State):
    # Image style templates with an active version: id, name.
    options: list[dict[str, str]] = []
    chosen: str = NONE

    @rx.event
    @signed_in
    async def load_page(self, user: UserPublic):
        with read_scope() as session:
            rows, _ = library.search_templates(session=session, actor=user, kind="image_style", status="active",
                                               sort="name", limit=100)
            self.options = [{"id": str(t.id), "name": t.name} for t in rows]
        wanted = parse_id(self.router.url.query_parameters.get("style_template", ""))
        self.chosen = NONE
        if wanted:
            return GenerateStylesState.choose(str(wanted))

    @rx.event
    @signed_in
    async def choose(self, user: UserPublic, template_id: str):
        if template_id == NONE or not parse_id(template_id):
            self.chosen = NONE
            return
        from app.services.templates import kinds

        try:
            with read_scope() as session:
                request = kinds.generation_input(session=session, actor=user, template_id=parse_id(template_id),
                                                 variables={})
        except AppError as exc:
            self.chosen = NONE
            return rx.toast.error(exc.message)
        self.chosen = template_id
        form = await self.get_state(GenerateState)
        form.prompt, form.negative_prompt = request.prompt, request.negative_prompt or ""
        if request.provider and any(p["name"] == request.provider for p in form.providers):
            form.provider = request.provider
        form.style = request.style or "none"
        form.size = request.size or form.size
        form.model = request.model or form.model
        form.count = str(request.n or form.count)
        form.seed = "" if request.seed is None else str(request.seed)
        form._fit_to_provider()
        return rx.toast.info("The style's prompt and settings are in the form.")
