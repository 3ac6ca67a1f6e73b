"""One picture's page: large preview, editable name, alt text and tags, its facts, lineage and uses."""

from __future__ import annotations

import asyncio

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

    def _asset_id(self) -> int:
        return parse_id(self.router.url.path.rstrip("/").rsplit("/", 1)[-1])

    def _load(self, workspace_id: int, asset_id: int) -> None:
        with session_scope() as session:
            asset = assets.get_asset(session=session, workspace_id=workspace_id, asset_id=asset_id)
            if asset.deleted_at is not None:
                raise AppError("That picture was deleted.")
            self.picture = _facts(asset)
            self.tag_list = list(tags.tags_of(session=session, asset_id=asset.id))
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

    @rx.event
    @signed_in
    async def save_details(self, user: UserPublic, form: dict):
        """Name, alt text and tags in one save (edit_asset checks the owner and cleans each)."""
        if refusal := refused(user, "assets.write"):
            return refusal
        asset_id = parse_id(self.picture.get("id", ""))
        new_tags = [t for t in str(form.get("tags", "")).split(",") if t.strip()]
        try:
            await asyncio.to_thread(tags.edit_asset, workspace_id=user.workspace_id, asset_id=asset_id,
                                    filename=str(form.get("filename", ""))[:255] or None,
                                    alt_text=str(form.get("alt_text", ""))[:300], tags=new_tags)
            self._load(user.workspace_id, asset_id)
        except AppError as exc:
            return rx.toast.error(exc.message)
        return rx.toast.success("Saved.")

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
