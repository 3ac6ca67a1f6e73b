"""One picture's page: large preview, editable name, alt text and tags, its facts, lineage and uses."""

from __future__ import annotations

import asyncio
import json

import reflex as rx

from app import routes
from app.db import session_scope
from app.errors import AppError
from app.ids import parse_id
from app.services.assets import service as assets
from app.services.auth.accounts import UserPublic
from app.services.library import bulk, collections, tags, usage
from app.services.library.cards import card_of
from state.handoff import HandoffState
from state.session import refused, signed_in

ORIGIN_LABELS = {"upload": "Uploaded", "generated": "Generated", "workflow": "Made by a workflow",
                 "slide": "Made for a slide"}
BROWSER_DRAWS = {"image/jpeg", "image/png", "image/webp", "image/gif"}
USE_LINKS = {"rename": routes.rename_batch_url, "workflow": lambda _i: routes.WORKFLOWS,
             "generation": lambda _i: routes.GENERATE, "deck": lambda _i: routes.SLIDES}


FORM_ID = "asset-details-form"
CONFLICT_LABELS = {"filename": "File name", "alt_text": "Alt text", "tags": "Tags"}


def _shown(value) -> str:
    """A field's stored value as the conflict notice shows it."""
    text = ", ".join(value) if isinstance(value, list) else str(value)
    return text or "(empty)"


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{max(1, n // 1024)} KB"


def _facts(asset) -> dict[str, str]:
    meta = asset.meta or {}
    return {"id": str(asset.id), "filename": asset.filename, "alt_text": asset.alt_text or "",
            "status": asset.status, "mime": asset.mime, "dims": f"{asset.width} × {asset.height}",
            "size": _size(asset.size_bytes), "camera": asset.camera or "", "colour": asset.colour or "",
            "taken": asset.taken_at.strftime("%Y-%m-%d %H:%M") if asset.taken_at else "",
            "added": asset.created_at.strftime("%Y-%m-%d %H:%M"),
            "origin": ORIGIN_LABELS.get(asset.origin, asset.origin or "Uploaded"),
            # The original where a browser draws it (sharper than the thumbnail); the thumbnail otherwise.
            "preview": routes.asset_download_url(str(asset.id)) if asset.mime in BROWSER_DRAWS
            else routes.asset_thumbnail_url(str(asset.id), asset.status),
            "download": routes.asset_download_url(str(asset.id)),
            "swatches": ",".join(c["hex"] for c in meta.get("colours", [])[:6])}


class AssetDetailState(rx.State):
    # The picture shown (its facts as strings; empty when missing or not the user's).
    picture: dict[str, str] = {}
    tag_list: list[str] = []
    # Each tag with a link to the library filtered by it.
    tag_links: list[dict[str, str]] = []
    # Where it came from, what was made from it (cards), the collections it is in, and its uses.
    sources: list[dict[str, str]] = []
    outputs: list[dict[str, str]] = []
    in_collections: list[dict[str, str]] = []
    uses: list[dict[str, str]] = []
    missing: bool = False
    # Bumped whenever the form should show the stored values again (load, a save, a reload): the form's key,
    # so the inputs keep what the person typed at any other time (a refused or conflicting save).
    form_version: int = 0
    # After a conflicting save: each field changed elsewhere, with its label and what it holds now.
    conflict: list[dict[str, str]] = []
    # What this tab's form started from (name, alt text, tags): only fields that differ from it are saved,
    # and each must still hold it (else the save is an edit_conflict).
    _base: dict = {}
    # What the conflicting fields held when the conflict was shown: "Save mine over it" overwrites just that.
    _theirs: dict = {}

    def _asset_id(self) -> int:
        return parse_id(self.router.url.path.rstrip("/").rsplit("/", 1)[-1])

    def _load(self, workspace_id: int, asset_id: int) -> None:
        with session_scope() as session:
            asset = assets.get_asset(session=session, workspace_id=workspace_id, asset_id=asset_id)
            if asset.deleted_at is not None:
                raise AppError("That picture was deleted.")
            self.picture = _facts(asset)
            self.tag_list = list(tags.tags_of(session=session, asset_id=asset.id))
            self._base = {"filename": asset.filename, "alt_text": asset.alt_text or "", "tags": list(self.tag_list)}
            self.conflict, self._theirs = [], {}
            self.form_version += 1
            self.tag_links = [{"tag": t, "href": routes.assets_search_url({"tag": t})} for t in self.tag_list]
            family = usage.lineage_of(session=session, workspace_id=workspace_id, asset=asset)
            self.sources = [card_of(a) for a in family["source"]]
            self.outputs = [card_of(a) for a in family["outputs"]]
            self.in_collections = [{"id": str(c.id), "name": c.name,
                                    "href": routes.assets_search_url({"collection": str(c.id)})}
                                   for c in collections.collections_of(session=session, asset_id=asset.id)]
            self.uses = [{**u, "href": USE_LINKS[u["kind"]](u["id"])}
                         for u in usage.usage_of(session=session, workspace_id=workspace_id, asset_id=asset.id)]

    @rx.event
    @signed_in
    async def load_page(self, user: UserPublic):
        self.picture, self.missing = {}, False
        try:
            self._load(user.workspace_id, self._asset_id())
        except AppError:
            self.missing = True

    def _changes(self, form: dict) -> dict:
        """The fields the person changed since the form was loaded, as typed."""
        typed = {"filename": str(form.get("filename", "")), "alt_text": str(form.get("alt_text", "")),
                 "tags": [t for t in str(form.get("tags", "")).split(",") if t.strip()]}
        changes = {f: v for f, v in typed.items() if f != "tags" and v != self._base.get(f)}
        try:  # "Cat, pet" is the same tags as "cat, pet"; a bad tag counts as a change so the service names it
            same_tags = set(tags.normalise_tags(typed["tags"])) == set(self._base.get("tags", []))
        except AppError:
            same_tags = False
        if not same_tags:
            changes["tags"] = typed["tags"]
        return changes

    @rx.event
    @signed_in
    async def save_details(self, user: UserPublic, form: dict):
        """Saves only what this tab changed, and only over what it loaded: a field someone changed meanwhile
        (another tab or person, the renamer) is not overwritten — the form keeps the typed text and says so."""
        if refusal := refused(user, "assets.write"):
            return refusal
        asset_id = parse_id(self.picture.get("id", ""))
        changes = self._changes(form)
        if not changes:
            self.conflict, self._theirs = [], {}
            return rx.toast.info("Nothing to save: no field was changed.")
        try:
            await asyncio.to_thread(tags.edit_asset, workspace_id=user.workspace_id, asset_id=asset_id,
                                    expected={f: self._base.get(f) for f in changes}, **changes)
        except AppError as exc:
            if exc.code == "edit_conflict":
                self._theirs = dict(exc.details.get("current", {}))
                self.conflict = [{"label": CONFLICT_LABELS[f], "now": _shown(v)} for f, v in self._theirs.items()]
                return None
            return rx.toast.error(exc.message)
        try:
            self._load(user.workspace_id, asset_id)
        except AppError as exc:
            return rx.toast.error(exc.message)
        return rx.toast.success("Saved.")

    @rx.event
    @signed_in
    async def save_mine_over(self, user: UserPublic):
        """After a conflict, the person chose their text: it is saved over what they were shown (only that —
        a further change since then is a new conflict)."""
        if refusal := refused(user, "assets.write"):
            return refusal
        self._base = {**self._base, **self._theirs}
        self.conflict, self._theirs = [], {}
        return rx.call_script(f"document.getElementById({json.dumps(FORM_ID)})?.requestSubmit()")

    @rx.event
    @signed_in
    async def reload_picture(self, user: UserPublic):
        """After a conflict, the person chose the stored values: the form shows them (their typing goes)."""
        try:
            self._load(user.workspace_id, self._asset_id())
        except AppError as exc:
            return rx.toast.error(exc.message)

    @rx.event
    @signed_in
    async def delete_picture(self, user: UserPublic):
        if refusal := refused(user, "assets.write"):
            return refusal
        asset_id = parse_id(self.picture.get("id", ""))
        try:
            await asyncio.to_thread(bulk.bulk, workspace_id=user.workspace_id, action="delete", asset_ids=[asset_id])
        except AppError as exc:
            return rx.toast.error(exc.message)
        # Undo lives on the library page the user lands on, as after a bulk delete there: it says so.
        (await self.get_state(HandoffState)).give_deleted([str(asset_id)])
        return rx.redirect(routes.ASSETS)
