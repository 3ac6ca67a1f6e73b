"""The email editor's library pictures: "Insert picture" (the library search the other pickers share) and the
"Public picture links" list (the signed addresses emails that left gave its pictures, with Revoke)."""

from __future__ import annotations

import reflex as rx

from app.db import read_scope, session_scope
from app.errors import AppError
from app.ids import parse_id
from app.services.auth.accounts import UserPublic
from app.services.library.picker import picture_tiles
from app.services.templates import image_links, pictures
from app.services.templates.view import link_row
from state.session import refused, signed_in
from state.template_editor import TemplateEditorState

PICKER_SIZE = 48


class TemplatePicturesState(rx.State):
    # The picker: open or not, the search, whether workflow outputs are offered, the pictures shown
    # (id, name, thumb).
    picker_open: bool = False
    picker_query: str = ""
    picker_derived: bool = False
    picker: list[dict[str, str]] = []
    # The template's public picture links, newest first (link_row); loaded for editors only.
    links: list[dict[str, str]] = []
    links_loaded: bool = False

    async def _editor(self) -> TemplateEditorState:
        return await self.get_state(TemplateEditorState)

    # ---- Insert picture ----
    def _load_picker(self, workspace_id: int) -> None:
        self.picker = picture_tiles(workspace_id=workspace_id, q=self.picker_query,
                                    include_derived=self.picker_derived, limit=PICKER_SIZE)

    @rx.event
    @signed_in
    async def open_picker(self, user: UserPublic):
        if (refusal := refused(user, "templates.write")) is not None:
            return refusal
        editor = await self._editor()
        if not editor.can_edit or editor.template.get("kind") != "email":
            return
        self.picker_query, self.picker_open = "", True
        self._load_picker(user.workspace_id)

    @rx.event
    @signed_in
    async def search_picker(self, user: UserPublic, query: str):
        self.picker_query = str(query)[:100]
        self._load_picker(user.workspace_id)

    @rx.event
    @signed_in
    async def set_picker_derived(self, user: UserPublic, value: bool):
        self.picker_derived = bool(value)
        self._load_picker(user.workspace_id)

    @rx.event
    def close_picker(self, value: bool = False):
        self.picker_open = bool(value)
        if not self.picker_open:
            self.picker = []

    @rx.event
    @signed_in
    async def pick_picture(self, user: UserPublic, asset_id: str):
        """The picture's <mj-image> (its library alt text) at the end of the email; saved with the next save."""
        if (refusal := refused(user, "templates.write")) is not None:
            return refusal
        editor = await self._editor()
        if not editor.can_edit:
            return
        try:
            # The service checks again that the picture is the template's workspace's (any id can be sent).
            with read_scope() as session:
                tag = pictures.picture_tag(session=session, actor=user, template_id=editor._template_id(),
                                           asset_id=parse_id(asset_id))
        except AppError as exc:
            return rx.toast.error(exc.message)
        editor._put_source(pictures.insert_tag(editor.source, tag))
        self.picker_open, self.picker = False, []
        return rx.toast.success("Picture added at the end of the email; save to keep it.")

    # ---- Public picture links ----
    async def _load_links(self, user) -> None:
        self.links, self.links_loaded = [], False
        if not user.can("templates.write"):
            return  # editors and admins see the list (the service refuses the others anyway)
        editor = await self._editor()
        try:
            with read_scope() as session:
                rows = image_links.list_links(session=session, actor=user, template_id=editor._template_id())
        except AppError:
            return
        self.links, self.links_loaded = [link_row(r) for r in rows], True

    @rx.event
    @signed_in
    async def load_links(self, user: UserPublic):
        await self._load_links(user)

    @rx.event
    @signed_in
    async def revoke(self, user: UserPublic, link_id: str):
        if (refusal := refused(user, "templates.write")) is not None:
            return refusal
        editor = await self._editor()
        try:
            with session_scope() as session:
                image_links.revoke_link(session=session, actor=user, template_id=editor._template_id(),
                                        link_id=parse_id(link_id), ip=self.router.session.client_ip or "")
        except AppError as exc:
            return rx.toast.error(exc.message)
        await self._load_links(user)
        return rx.toast.success("Link revoked: that picture no longer loads from emails already sent.")
