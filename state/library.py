"""The Assets page's library: the search in the URL, filters, the paged grid, selection and bulk actions.

The upload and its live follower stay in state/assets.py; this state owns what the grid shows.
"""

from __future__ import annotations

import asyncio
import json
from datetime import date

import reflex as rx
from pydantic import ValidationError

from app import routes
from app.db import read_scope
from app.errors import AppError
from app.ids import parse_id
from app.models import utcnow
from app.services.auth.accounts import UserPublic
from app.services.library import bulk, collections, facets
from app.services.library.cards import (
    card_of,
    count_label,
    flatten_collections,
    select_range,
)
from app.services.library.search import (
    COUNT_CAP,
    SearchQuery,
    count_matches,
    matching_ids,
    search,
    total_capped,
)
from state.handoff import HandoffState
from state.session import refused, signed_in

PAGE = 60
# Resolves when the browser has a moment (the grid drawn, its first thumbnails decoding), 1.5 s at the latest.
WHEN_IDLE_JS = ("new Promise(done => window.requestIdleCallback ? requestIdleCallback(() => done(0), {timeout: 1500})"
                " : setTimeout(() => done(0), 300))")
MAX_SELECTION = 10_000
SORTS = {"added": "Date added", "taken": "Date taken", "name": "Name", "size": "File size"}
ORIGINS = {"upload": "Uploaded", "generated": "Generated", "workflow": "Workflow outputs", "slide": "Slides"}
ORIENTATIONS = {"landscape": "Landscape", "portrait": "Portrait", "square": "Square"}
ANY = "any"  # a select's "no filter" value (Radix refuses an empty item value)


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _assign(state: rx.State, **values) -> None:
    """Set each var whose value differs (an assignment marks a var changed even when the value is the same)."""
    for name, value in values.items():
        if getattr(state, name) != value:
            setattr(state, name, value)


def _menus_of(workspace_id: int) -> dict[str, list[str]]:
    with read_scope() as session:
        return facets.facets_of(session=session, workspace_id=workspace_id)


def grid_of(*, workspace_id: int, query: SearchQuery, limit: int) -> dict:
    """The grid's cards, the totals and the collections, read without the write lock (blocking: the job
    follower runs it in a thread)."""
    with read_scope() as session:
        rows, total = search(session=session, workspace_id=workspace_id, query=query, limit=limit, offset=0)
        # The whole library's size is the search's own total when nothing narrows it (the page's first load).
        size = total if query.is_everything() else count_matches(session=session, workspace_id=workspace_id,
                                                                 query=SearchQuery())
        tree = collections.list_collections(session=session, workspace_id=workspace_id)
        return {"cards": [card_of(a) for a in rows], "total": total, "size": size,
                "collections": flatten_collections(tree)}


class LibraryState(rx.State):
    # The search, as the controls show it (the URL holds the same through SearchQuery.to_params).
    q: str = ""
    tags: list[str] = []
    collection: str = ""
    origin: str = ANY
    orientation: str = ANY
    colour: str = ANY
    camera: str = ANY
    taken_from: str = ""
    taken_to: str = ""
    sort: str = "added"
    order: str = "desc"
    # The grid: one card per picture (strings, ready to render), and how many match in all: counted up to
    # COUNT_CAP; past it total_capped is set and total_label says "1,000+".
    cards: list[dict[str, str]] = []
    total: int = 0
    total_capped: bool = False
    total_label: str = "0"
    limit: int = PAGE
    # How many pictures the library holds, counted up to COUNT_CAP + 1 like total (0: the empty state, which
    # differs from "no matches"), and as the page says it ("1,000+" past the cap).
    library_size: int = 0
    library_label: str = "0"
    # What the filter menus offer: cameras, colours and tags in use.
    cameras: list[str] = []
    colours: list[str] = []
    known_tags: list[str] = []
    # The collections sidebar, flattened: id, name, count, depth ("0"/"1"), parent.
    collections: list[dict[str, str]] = []
    # Selected picture ids (may hold every match, not only the cards on screen), and the range anchor.
    selected: list[str] = []
    anchor: str = ""
    # Ids deleted by the last bulk delete, for Undo.
    last_deleted: list[str] = []

    @rx.var
    def selected_count(self) -> int:
        return len(self.selected)

    @rx.var
    def has_more(self) -> bool:
        return self.total_capped or self.total > len(self.cards)

    @rx.var
    def filtered(self) -> bool:
        return bool(self.q or self.tags or self.collection or self.taken_from or self.taken_to) or any(
            v != ANY for v in (self.origin, self.orientation, self.colour, self.camera))

    @rx.var
    def collection_name(self) -> str:
        return next((c["name"] for c in self.collections if c["id"] == self.collection), "")

    # --- the search -------------------------------------------------------------------------------------
    def _query(self) -> SearchQuery:
        picked = {"origin": self.origin, "orientation": self.orientation, "colour": self.colour,
                  "camera": self.camera}
        try:
            return SearchQuery(
                q=self.q, tags=self.tags, collection_id=parse_id(self.collection) or None,
                origin=[] if picked["origin"] == ANY else [picked["origin"]],
                orientation="" if picked["orientation"] == ANY else picked["orientation"],
                colour="" if picked["colour"] == ANY else picked["colour"],
                camera="" if picked["camera"] == ANY else picked["camera"],
                taken_from=_day(self.taken_from), taken_to=_day(self.taken_to), sort=self.sort, order=self.order)
        except ValidationError:
            return SearchQuery(q=self.q)

    def _show(self, query: SearchQuery) -> None:
        """The controls show `query` (from a link, or as the service cleaned it)."""
        self.q, self.tags = query.q or "", list(query.tags or [])
        self.collection = str(query.collection_id or "")
        self.origin = (query.origin or [ANY])[0]
        self.orientation = query.orientation or ANY
        self.colour, self.camera = query.colour or ANY, query.camera or ANY
        self.taken_from = query.taken_from.isoformat() if query.taken_from else ""
        self.taken_to = query.taken_to.isoformat() if query.taken_to else ""
        self.sort, self.order = query.sort or "added", query.order or "desc"

    def _url(self) -> str:
        return routes.assets_search_url(self._query().to_params())

    def _sync_url(self) -> rx.event.EventSpec:
        # The address bar follows the search without a page load, so a copied link opens the same search.
        return rx.call_script(f"window.history.replaceState(window.history.state, '', {json.dumps(self._url())})")

    def _reload(self, workspace_id: int, *, menus: bool = False) -> None:
        """The grid, the totals and the collections; `menus`: the filter menus too (they change only when
        tags or pictures do, and reading them costs more than the grid)."""
        if menus:
            self._set_menus(_menus_of(workspace_id))
        self._show_grid(grid_of(workspace_id=workspace_id, query=self._query(), limit=self.limit))

    def _show_grid(self, grid: dict) -> None:
        """What `grid_of` read (the job follower reads it outside the state lock). Only what changed is assigned:
        every assigned var goes to the browser again, and the whole grid renders again for it."""
        total, size = grid["total"], grid["size"]
        _assign(self, cards=grid["cards"], total=min(total, COUNT_CAP), total_capped=total_capped(total),
                total_label=count_label(total), library_size=min(size, COUNT_CAP + 1), library_label=count_label(size),
                collections=grid["collections"])

    def _show_cards(self, fresh: dict[str, dict[str, str]]) -> None:
        """Some cards re-read (their pictures' jobs moved on); the others stay as they are."""
        if fresh and any(fresh.get(card["id"], card) != card for card in self.cards):
            self.cards = [fresh.get(card["id"], card) for card in self.cards]

    def _set_menus(self, found: dict[str, list[str]]) -> None:
        _assign(self, cameras=found["cameras"], colours=found["colours"], known_tags=found["tags"])

    @rx.event
    @signed_in
    async def load_menus(self, user: UserPublic):
        """The filter menus, sent after the grid (load_page chains this) so thumbnails do not wait for them."""
        # In a thread: on the event loop this query held up the thumbnail requests the grid had just sent.
        self._set_menus(await asyncio.to_thread(_menus_of, user.workspace_id))

    @signed_in
    async def _research(self, user: UserPublic):
        """Run the search again from the first page after a control changed."""
        self.limit = PAGE
        self._reload(user.workspace_id)
        return self._sync_url()

    @rx.event
    @signed_in
    async def load_page(self, user: UserPublic):
        params = dict(self.router.url.query_parameters)
        refusal = None
        try:
            self._show(SearchQuery.from_params(params))
        except (AppError, ValidationError, ValueError):  # a hand-edited link: show everything, and say why
            self._show(SearchQuery())
            refusal = rx.toast.warning("That search link could not be read; showing the whole library.")
        self.limit, self.selected, self.anchor = PAGE, [], ""
        self._reload(user.workspace_id)
        from state.assets import AssetsState  # here: state.assets imports this module

        # The filter menus once the browser is idle: on 2 cores their read, and the page rendering again for
        # their answer, came in the middle of the first thumbnails. The processing count and the job follower
        # stay on the server's chain: live progress must not wait for (or depend on) the browser's script.
        after = [rx.call_script(WHEN_IDLE_JS, callback=LibraryState.load_later), AssetsState.load_page]
        if deleted := (await self.get_state(HandoffState)).take_deleted():
            # A picture deleted on its own page: the Undo is offered here, where the user lands.
            self.last_deleted = deleted
            refusal = rx.toast.success("Picture deleted.", duration=20_000,
                                       action={"label": "Undo", "on_click": LibraryState.undo_delete})
        return [refusal, *after] if refusal else after

    @rx.event
    def load_later(self, _idle: object = None):
        """The filter menus, after the grid (WHEN_IDLE_JS calls this back when the browser is idle)."""
        return LibraryState.load_menus

    @rx.event
    async def handle_search(self, value: str):
        self.q = str(value)[:200]
        return await self._research()

    @rx.event
    async def handle_filter(self, name: str, value: str):
        if name not in ("origin", "orientation", "colour", "camera", "sort", "order", "taken_from", "taken_to"):
            return
        setattr(self, name, str(value)[:120])
        return await self._research()

    @rx.event
    async def add_tag_filter(self, tag: str):
        tag = str(tag).strip().lower()[:60]
        if tag and tag not in self.tags:
            self.tags = [*self.tags, tag]
        return await self._research()

    @rx.event
    async def remove_tag_filter(self, tag: str):
        self.tags = [t for t in self.tags if t != tag]
        return await self._research()

    @rx.event
    async def show_collection(self, collection_id: str):
        self.collection = str(parse_id(collection_id) or "")
        return await self._research()

    @rx.event
    async def clear_filters(self):
        self._show(SearchQuery())
        return await self._research()

    @rx.event
    @signed_in
    async def load_more(self, user: UserPublic):
        self.limit = min(self.limit + PAGE, 2000)
        self._reload(user.workspace_id)

    # --- selection ----------------------------------------------------------------------------------------
    @rx.event
    def handle_tile_click(self, asset_id: str, info: dict):
        """A click toggles the picture; a shift-click selects every card from the last one clicked."""
        if info.get("shift_key") and self.anchor:
            order = [c["id"] for c in self.cards]
            picked = set(self.selected)
            self.selected = [*self.selected, *(i for i in select_range(order, self.anchor, asset_id)
                                               if i not in picked)]
        elif asset_id in self.selected:
            self.selected = [s for s in self.selected if s != asset_id]
        else:
            self.selected = [*self.selected, asset_id]
        self.anchor = asset_id

    @rx.event
    @signed_in
    async def select_all_matching(self, user: UserPublic):
        """Every picture the search matches (up to 10,000), not only the cards loaded on screen. Read from
        the matches themselves, not from the total (which stops counting at COUNT_CAP)."""
        with read_scope() as session:
            ids = matching_ids(session=session, workspace_id=user.workspace_id, query=self._query(),
                               cap=MAX_SELECTION + 1)
        self.selected = [str(i) for i in ids[:MAX_SELECTION]]
        if len(ids) > MAX_SELECTION:
            return rx.toast.info(f"Selected the first {MAX_SELECTION:,} matches: one action takes at most that many.")
        return None

    @rx.event
    def clear_selection(self):
        self.selected, self.anchor = [], ""

    def _ids(self) -> list[int]:
        return [i for i in (parse_id(s) for s in self.selected) if i]

    # --- bulk actions -------------------------------------------------------------------------------------
    async def _bulk(self, user, action: str, value: str | int | None = None):
        ids = self._ids()
        if not ids:
            return None, rx.toast.info("Select some pictures first.")
        try:
            result = await asyncio.to_thread(bulk.bulk, workspace_id=user.workspace_id, action=action, asset_ids=ids,
                                             value=value)
        except AppError as exc:
            return None, rx.toast.error(exc.message)
        self._reload(user.workspace_id, menus=True)
        return (ids, result), None

    @rx.event
    @signed_in
    async def add_tag(self, user: UserPublic, form: dict):
        if refusal := refused(user, "assets.write"):
            return refusal
        tag = str(form.get("tag", "")).strip()[:60]
        if not tag:
            return rx.toast.info("Type a tag first.")
        done, refusal = await self._bulk(user, "tag", tag)
        return refusal or rx.toast.success(f"Tagged {done[1].changed} pictures “{tag.lower()}”.")

    @rx.event
    @signed_in
    async def remove_tag(self, user: UserPublic, form: dict):
        if refusal := refused(user, "assets.write"):
            return refusal
        tag = str(form.get("tag", "")).strip()[:60]
        if not tag:
            return rx.toast.info("Type the tag to remove.")
        _, refusal = await self._bulk(user, "untag", tag)
        return refusal or rx.toast.success(f"Removed “{tag.lower()}” from the selection.")

    @rx.event
    @signed_in
    async def add_to_collection(self, user: UserPublic, collection_id: str):
        if refusal := refused(user, "assets.write"):
            return refusal
        done, refusal = await self._bulk(user, "collect", parse_id(collection_id))
        return refusal or rx.toast.success(f"Added {done[1].changed} pictures to the collection.")

    @rx.event
    @signed_in
    async def add_to_new_collection(self, user: UserPublic, form: dict):
        if refusal := refused(user, "assets.write"):
            return refusal
        name = str(form.get("name", "")).strip()[:80]
        if not name:
            return rx.toast.info("Name the new collection.")
        try:
            made = await asyncio.to_thread(collections.create, workspace_id=user.workspace_id, name=name)
        except AppError as exc:
            return rx.toast.error(exc.message)
        done, refusal = await self._bulk(user, "collect", made.id)
        return refusal or rx.toast.success(f"Added {done[1].changed} pictures to “{name}”.")

    @rx.event
    @signed_in
    async def delete_selected(self, user: UserPublic):
        if refusal := refused(user, "assets.write"):
            return refusal
        done, refusal = await self._bulk(user, "delete")
        if refusal:
            return refusal
        self.last_deleted, self.selected = [str(i) for i in done[0]], []
        result = done[1]
        window = (result.undo_until - utcnow()).total_seconds() if result.undo_until else 20
        return rx.toast.success(f"Deleted {result.changed} pictures.", duration=int(max(5, window) * 1000),
                                action={"label": "Undo", "on_click": LibraryState.undo_delete})

    @rx.event
    @signed_in
    async def undo_delete(self, user: UserPublic):
        if refusal := refused(user, "assets.write"):
            return refusal
        self.selected, self.last_deleted = self.last_deleted, []
        done, refusal = await self._bulk(user, "restore")
        self.selected = []
        return refusal or rx.toast.success(f"Restored {done[1].changed} pictures.")

    @rx.event
    @signed_in
    async def download_zip(self, user: UserPublic):
        body = json.dumps({"asset_ids": self._ids()[:2000]})
        # A POST (the list can be long) through fetch, saved as a file; same origin, so the cookie goes.
        return rx.call_script(
            f"fetch({json.dumps(routes.ASSETS_ZIP)}, {{method: 'POST', credentials: 'same-origin', "
            f"headers: {{'Content-Type': 'application/json'}}, body: {json.dumps(body)}}})"
            ".then(r => { if (!r.ok) throw new Error(r.status); return r.blob(); })"
            ".then(b => { const a = document.createElement('a'); a.href = URL.createObjectURL(b);"
            " a.download = 'pictures.zip'; document.body.appendChild(a); a.click(); a.remove(); })"
            ".catch(() => alert('The ZIP could not be made. Try fewer pictures.'))")

    @rx.event
    @signed_in
    async def send_to_rename(self, user: UserPublic):
        (await self.get_state(HandoffState)).give_chosen(routes.RENAME, self._ids())
        return rx.redirect(routes.RENAME)

    @rx.event
    @signed_in
    async def send_to_workflow(self, user: UserPublic):
        (await self.get_state(HandoffState)).give_chosen(routes.WORKFLOWS, self._ids())
        return rx.redirect(routes.WORKFLOWS)

    # --- collections --------------------------------------------------------------------------------------
    @rx.event
    @signed_in
    async def create_collection(self, user: UserPublic, form: dict):
        if refusal := refused(user, "assets.write"):
            return refusal
        name = str(form.get("name", "")).strip()[:80]
        parent = parse_id(form.get("parent", "")) or None
        if not name:
            return rx.toast.info("Name the collection.")
        try:
            await asyncio.to_thread(collections.create, workspace_id=user.workspace_id, name=name, parent_id=parent)
        except AppError as exc:
            return rx.toast.error(exc.message)
        self._reload(user.workspace_id)
        return rx.toast.success(f"Collection “{name}” created.")

    @rx.event
    @signed_in
    async def rename_collection(self, user: UserPublic, form: dict):
        if refusal := refused(user, "assets.write"):
            return refusal
        name = str(form.get("name", "")).strip()[:80]
        try:
            await asyncio.to_thread(collections.rename, workspace_id=user.workspace_id,
                                    collection_id=parse_id(form.get("collection_id", "")), name=name)
        except AppError as exc:
            return rx.toast.error(exc.message)
        self._reload(user.workspace_id)
        return rx.toast.success(f"Renamed to “{name}”.")

    @rx.event
    @signed_in
    async def delete_collection(self, user: UserPublic, collection_id: str):
        if refusal := refused(user, "assets.write"):
            return refusal
        try:
            await asyncio.to_thread(collections.delete_collection, workspace_id=user.workspace_id,
                                    collection_id=parse_id(collection_id))
        except AppError as exc:
            return rx.toast.error(exc.message)
        if self.collection == collection_id:
            self.collection = ""
        self._reload(user.workspace_id)
        return [self._sync_url(), rx.toast.success("Collection deleted; its pictures stay in the library.")]
