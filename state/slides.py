"""The Slides page's workspace: the user's decks, the outline editor, the live preview and the versions.

The request form is `SlidesFormState` (state/slides_form.py).
"""

from __future__ import annotations

import asyncio

import reflex as rx

from app import routes
from app.db import read_scope
from app.errors import AppError
from app.ids import parse_id
from app.job_hub import Changes
from app.models import DeckStatus, Job
from app.services.auth.accounts import UserPublic
from app.services.library.picker import picture_tiles
from app.services.slides import decks
from app.services.slides import files as deck_files
from app.services.slides import runs as deck_runs
from app.services.slides import versions as deck_versions
from app.services.slides.engine.pdf import libreoffice_available
from app.services.slides.outline_data import CHART_TYPES
from app.services.slides.outline_rows import (
    EDITABLE,
    LAYOUT_LABELS,
    move_row,
    new_row,
    outline_from_rows,
    problem,
    renumber,
    row_of,
)
from app.services.slides.store import BUSY, get_deck, outline_of
from state import live
from state.session import refused, session_user, signed_in

PICKER_SIZE = 48
STALE_MESSAGE = ("This deck was changed elsewhere since you started editing. Your edits are still here: "
                 "save them over that change, or discard them.")
REPLACED_NOTE = "Changed elsewhere, before unsaved edits were saved over it"


NEW_DECK = "new"  # leaving_to: the form for a new deck


def _deck_row(summary: dict) -> dict[str, str]:
    return {"id": str(summary["id"]), "title": summary["title"], "status": summary["status"],
            "slides": str(summary["slide_count"]), "updated": summary["updated_at"][:16].replace("T", " ")}


def _deck_list_of(workspace_id: int) -> list[dict[str, str]]:
    with read_scope() as session:
        rows, _ = decks.list_decks(session=session, workspace_id=workspace_id, limit=30)
        return [_deck_row(decks.summary(d)) for d in rows]


def _deck_of(workspace_id: int, deck_id: int) -> tuple:
    """(deck, its job or None, its versions as rows), detached from the session; a deck whose job died
    without saying so is healed first (blocking: the follower runs this in a thread)."""
    with read_scope() as session:
        deck = get_deck(session=session, workspace_id=workspace_id, deck_id=deck_id)
        job = session.get(Job, deck.job_id) if deck.job_id else None
        versions = [{"number": str(v.number), "note": v.note, "slides": str(row["slide_count"]),
                     "created": v.created_at.isoformat()[:16].replace("T", " ")}
                    for v in deck_versions.list_versions(session=session, workspace_id=workspace_id, deck_id=deck_id)
                    for row in [deck_versions.version_public(v)]]
        session.expunge(deck)  # kept loaded: the read scope rolls back, which would expire it
        if job is not None:
            session.expunge(job)
    if deck.status in BUSY and deck_runs.heal(deck_id=deck_id):  # its job died without saying so
        return _deck_of(workspace_id, deck_id)
    return deck, job, versions


def _deck_and_list_of(workspace_id: int, deck_id: int) -> tuple[tuple, list | None]:
    """The follower's read: the deck, and once no job works on it the deck list too."""
    deck = _deck_of(workspace_id, deck_id)
    return deck, None if deck[0].status in BUSY else _deck_list_of(workspace_id)


class SlidesState(rx.State):
    pdf_available: bool = False
    # The user's decks (id, title, status, slides, updated).
    deck_list: list[dict[str, str]] = []
    # The open deck (id "" when none): title, status, error, theme, provider, job progress and message.
    deck: dict[str, str] = {}
    revision: int = 0
    # The open deck's job: percent done (its message is in `deck`).
    progress: int = 0
    # The open deck's slides as the editor and the preview show them (see app.services.slides.outline_rows).
    rows: list[dict[str, str]] = []
    dirty: bool = False
    # The stored outline changed (another tab, a teammate) while `rows` held unsaved edits: the edits stay, and
    # the page asks whether to save them over the change or to discard them.
    edits_stale: bool = False
    tab: str = "outline"
    versions: list[dict[str, str]] = []
    version_note: str = ""
    zoom_id: str = ""  # the slide shown large in the preview dialog
    # A slide holding the user's edits that they asked to regenerate: "" until the server asks to confirm.
    confirm_regenerate_id: str = ""
    # The last slide deleted in the editor and where it was ("" when none): one click brings it back.
    undo_row: dict[str, str] = {}
    undo_index: int = -1
    confirm_regenerate_message: str = ""
    # Where the user asked to go (a deck id, or NEW_DECK) while the open deck held unsaved edits: "" until then.
    # The page asks to save, discard or stay instead of dropping the edits.
    leaving_to: str = ""
    following: bool = False
    # The library picture picker: the slide it picks for ("" when closed), the search, the pictures shown.
    picker_for: str = ""
    picker_query: str = ""
    picker: list[dict[str, str]] = []
    picker_derived: bool = False  # whether workflow outputs are offered too

    @rx.var
    def has_deck(self) -> bool:
        return bool(self.deck.get("id"))

    @rx.var
    def slide_ids(self) -> list[str]:
        """The outline's slide ids in the order shown (the drag-and-drop list's items)."""
        return [row["id"] for row in self.rows]

    @rx.var
    def busy(self) -> bool:
        return self.deck.get("status", "") in BUSY

    @rx.var
    def download_pptx(self) -> str:
        return routes.deck_download_url(self.deck.get("id", ""), "pptx")

    @rx.var
    def download_pdf(self) -> str:
        return routes.deck_download_url(self.deck.get("id", ""), "pdf")

    @rx.var
    def placeholder_count(self) -> int:
        return sum(1 for r in self.rows if r["placeholder"] == "yes")

    @rx.var
    def ready_count(self) -> int:
        return sum(1 for r in self.rows if r["stage"] == "ready")

    @rx.var
    def zoomed(self) -> dict[str, str]:
        row = next((r for r in self.rows if r["id"] == self.zoom_id), None)
        return {**row, "large": row["preview"] + "&width=1280"} if row else {"large": "", "title": "", "number": ""}

    # --- loading ---------------------------------------------------------------------------------------

    def _reload_list(self, workspace_id: int) -> None:
        self.deck_list = _deck_list_of(workspace_id)

    def _reload_deck(self, workspace_id: int, *, keep_edits: bool = False) -> None:
        self._show_deck(_deck_of(workspace_id, int(self.deck["id"])), keep_edits=keep_edits)

    def _show_deck(self, read: tuple, *, keep_edits: bool = False) -> None:
        """What `_deck_of` read (the follower reads it outside the state lock)."""
        deck, job, self.versions = read
        self.deck = {"id": str(deck.id), "title": deck.title, "status": deck.status, "error": deck.error,
                     "design": deck.brand_kit_name or deck.theme.capitalize(),
                     "provider": decks.TEXT_PROVIDERS.get(deck.provider, deck.provider),
                     "message": job.message if job else ""}
        self.progress = job.progress if job else 0
        if keep_edits and self.dirty:
            # The user's typing is never replaced by a reload. `revision` stays the one the edits started
            # from, so a save cannot silently write over a change made meanwhile: the page asks first.
            self.edits_stale = self.edits_stale or deck.revision != self.revision
            return
        self.revision = deck.revision
        outline = outline_of(deck)
        self.rows = [] if outline is None else [row_of(s, i, deck_files.preview_url(deck, s))
                                                for i, s in enumerate(outline.slides, start=1)]
        self.dirty = self.edits_stale = False
        # The editor now shows the stored outline: a deleted slide is back only through a version.
        self.undo_row, self.undo_index = {}, -1

    @rx.event
    @signed_in
    async def load_page(self, user: UserPublic):
        self.pdf_available = libreoffice_available()
        self._reload_list(user.workspace_id)
        wanted = parse_id(self.router.url.query_parameters.get("deck", ""))  # a deck made from a template
        if wanted and str(wanted) != self.deck.get("id"):
            self.deck, self.tab, self.dirty = {"id": str(wanted)}, "outline", False
        if self.has_deck:
            try:
                # Back on the page in the same tab (the state outlived the visit elsewhere): unsaved edits stay.
                self._reload_deck(user.workspace_id, keep_edits=True)
            except AppError:
                self.deck, self.rows = {}, []
        if self.busy and not self.following:
            return SlidesState.follow

    # --- decks -----------------------------------------------------------------------------------------

    def _open(self, workspace_id: int, deck_id: int, tab: str) -> list:
        self.deck, self.dirty, self.tab, self.zoom_id = {"id": str(deck_id)}, False, tab, ""
        self._reload_deck(workspace_id)
        self._reload_list(workspace_id)
        events = [rx.scroll_to("deck-workspace")]
        if self.busy and not self.following:
            events.append(SlidesState.follow)
        return events

    def open_created(self, workspace_id: int, deck_id: int):
        """A deck the form just made: show its outline (or follow the chat provider planning it)."""
        return self._open(workspace_id, deck_id, "outline")

    @rx.event
    @signed_in
    async def open_deck(self, user: UserPublic, deck_id: str):
        deck_id = str(deck_id)
        if self.dirty and deck_id == self.deck.get("id"):
            return rx.scroll_to("deck-workspace")  # the deck is open, with its edits: reopening would drop them
        if self.dirty:
            self.leaving_to = deck_id
            return None
        return self._open_listed(user.workspace_id, deck_id)

    def _open_listed(self, workspace_id: int, deck_id: str):
        try:
            return self._open(workspace_id, parse_id(deck_id), "preview" if self._was_generated(deck_id) else "outline")
        except (AppError, ValueError):
            self.deck, self.rows = {}, []
            return rx.toast.error("That deck no longer exists.")

    def _was_generated(self, deck_id: str) -> bool:
        return any(d["id"] == deck_id and d["status"] in (DeckStatus.READY, DeckStatus.GENERATING)
                   for d in self.deck_list)

    @rx.event
    @signed_in
    async def new_deck(self, user: UserPublic):
        if self.dirty:
            self.leaving_to = NEW_DECK
            return
        self._close_deck()

    def _close_deck(self) -> None:
        self.deck, self.rows, self.versions, self.dirty, self.edits_stale = {}, [], [], False, False

    @rx.event
    @signed_in
    async def leave_deck(self, user: UserPublic, save: bool):
        """Go where the user asked (see leaving_to) after saving or discarding the open deck's edits. A save
        that fails (a change made elsewhere, an outline that does not hold) stays on the deck and says why."""
        if save and (refusal := refused(user, "slides.write")):
            return refusal
        target, self.leaving_to = self.leaving_to, ""
        if not target:
            return None
        if save and (failure := self._save_failure(user.workspace_id)):
            return failure
        self.dirty = False
        if target == NEW_DECK:
            self._close_deck()
            return rx.toast.success("Outline saved.") if save else None
        opened = self._open_listed(user.workspace_id, target)
        return [rx.toast.success("Outline saved."), *opened] if save and isinstance(opened, list) else opened

    @rx.event
    def stay_on_deck(self):
        self.leaving_to = ""

    @rx.event
    @signed_in
    async def delete_deck(self, user: UserPublic, deck_id: str):
        if refusal := refused(user, "slides.write"):
            return refusal
        try:
            await asyncio.to_thread(decks.delete_deck, workspace_id=user.workspace_id, deck_id=parse_id(deck_id))
        except (AppError, ValueError) as exc:
            return rx.toast.error(getattr(exc, "message", "That deck no longer exists."))
        if self.deck.get("id") == deck_id:
            self.deck, self.rows, self.versions = {}, [], []
        self._reload_list(user.workspace_id)
        return rx.toast.success("Deck deleted.")

    @rx.event
    def set_tab(self, tab: str):
        self.tab = tab if tab in ("outline", "preview", "versions") else "outline"

    # --- the outline editor ----------------------------------------------------------------------------

    @rx.event
    def edit_slide(self, slide_id: str, field: str, value: str):
        if self.busy or (field not in EDITABLE and field != "layout"):
            return
        if field == "layout" and value not in LAYOUT_LABELS:
            return
        for row in self.rows:
            if row["id"] == slide_id and row["locked"] != "yes":
                if field == "chart_type" and value not in CHART_TYPES:
                    return
                row[field] = str(value)[:EDITABLE.get(field, 40)]
                if field == "layout":
                    row["layout_label"] = LAYOUT_LABELS[value]
                self.dirty = True

    @rx.event
    def move_slide(self, slide_id: str, delta: int):
        index = next((i for i, r in enumerate(self.rows) if r["id"] == slide_id), -1)
        rows = None if self.busy or index < 0 else move_row(self.rows, slide_id, index + int(delta))
        if rows is not None:
            self.rows, self.dirty = rows, True

    @rx.event
    @signed_in
    async def drop_slide(self, user: UserPublic, slide_id: str, target_id: str):
        """A slide dragged onto another's place: the Move buttons' reorder, stored at once through the same
        outline save (unsaved edits go with it, never lost); the order before is kept as a version."""
        if refusal := refused(user, "slides.write"):
            return refusal
        target = next((i for i, r in enumerate(self.rows) if r["id"] == target_id), -1)
        rows = None if self.busy or target < 0 else move_row(self.rows, slide_id, target)
        if rows is None:
            return None
        self.rows, self.dirty = rows, True
        try:
            self._save(user.workspace_id, version_note="Before reordering slides")
        except AppError as exc:
            return rx.toast.error(exc.message)
        except ValueError as exc:
            return rx.toast.error("Check the outline: " + problem(exc))
        return None

    @rx.event
    def add_slide(self):
        if self.busy or len(self.rows) >= 60:
            return
        self.rows, self.dirty = [*self.rows, new_row(len(self.rows) + 1)], True

    @rx.event
    def delete_slide(self, slide_id: str):
        if self.busy or len(self.rows) <= 1:
            return
        if any(r["id"] == slide_id and r["locked"] == "yes" for r in self.rows):
            return rx.toast.warning("Unlock the slide before deleting it.")
        index = next((i for i, r in enumerate(self.rows) if r["id"] == slide_id), None)
        if index is None:
            return None
        self.undo_row, self.undo_index = dict(self.rows[index]), index
        self.rows, self.dirty = renumber([r for r in self.rows if r["id"] != slide_id]), True
        return None

    @rx.event
    def undo_delete(self):
        """Put the last deleted slide back where it was, with everything it held."""
        if self.busy or not self.undo_row or any(r["id"] == self.undo_row.get("id") for r in self.rows):
            self.undo_row, self.undo_index = {}, -1
            return
        rows = list(self.rows)
        rows.insert(min(max(self.undo_index, 0), len(rows)), self.undo_row)
        self.rows, self.dirty = renumber(rows), True
        self.undo_row, self.undo_index = {}, -1

    @rx.event
    def toggle_lock(self, slide_id: str):
        if self.busy:
            return
        for row in self.rows:
            if row["id"] == slide_id:
                row["locked"] = "" if row["locked"] == "yes" else "yes"
                self.dirty = True

    # --- pictures from the library ----------------------------------------------------------------------

    def _editable_row(self, slide_id: str) -> dict[str, str] | None:
        row = next((r for r in self.rows if r["id"] == slide_id), None)
        return None if self.busy or row is None or row["locked"] == "yes" else row

    def _load_picker(self, workspace_id: int) -> None:
        self.picker = picture_tiles(workspace_id=workspace_id, q=self.picker_query,
                                    include_derived=self.picker_derived, limit=PICKER_SIZE)

    @rx.event
    @signed_in
    async def set_picker_derived(self, user: UserPublic, value: bool):
        self.picker_derived = bool(value)
        self._load_picker(user.workspace_id)

    @rx.event
    @signed_in
    async def open_picker(self, user: UserPublic, slide_id: str):
        if self._editable_row(slide_id) is None:
            return
        self.picker_for, self.picker_query = slide_id, ""
        self._load_picker(user.workspace_id)

    @rx.event
    @signed_in
    async def search_picker(self, user: UserPublic, query: str):
        self.picker_query = str(query)[:100]
        self._load_picker(user.workspace_id)

    @rx.event
    def close_picker(self):
        self.picker_for, self.picker = "", []

    @rx.event
    def pick_picture(self, asset_id: str):
        # Only ids the picker offered (the user's own ready assets); saving checks ownership again.
        chosen = next((p for p in self.picker if p["id"] == asset_id), None)
        row = self._editable_row(self.picker_for)
        if chosen is not None and row is not None:
            row.update(asset_id=chosen["id"], has_picture="yes")
            self.dirty = True
        self.close_picker()

    @rx.event
    def clear_picture(self, slide_id: str):
        row = self._editable_row(slide_id)
        if row is not None:
            row.update(asset_id="", has_picture="")
            self.dirty = True

    def _save(self, workspace_id: int, version_note: str = "", *, over_changes: bool = False) -> None:
        """Store the editor's outline (raises AppError or ValueError with a message for the page).
        `over_changes`: the user chose to save over a change made elsewhere (kept as a version first)."""
        with read_scope() as session:
            stored = outline_of(get_deck(session=session, workspace_id=workspace_id, deck_id=int(self.deck["id"])))
        outline = outline_from_rows(self.rows, stored, self.deck.get("title", ""))
        try:
            decks.update_outline(workspace_id=workspace_id, deck_id=int(self.deck["id"]), outline=outline,
                                 revision=None if over_changes else self.revision, version_note=version_note,
                                 keep_before=REPLACED_NOTE if over_changes else "")
        except AppError as exc:
            if exc.code != "stale_outline":
                raise
            self.edits_stale = True
            raise AppError(STALE_MESSAGE, code=exc.code) from exc
        self.dirty = False
        self._reload_deck(workspace_id)

    def _save_failure(self, workspace_id: int, **options):
        """_save, with a failure as the toast that says why (None when saved)."""
        try:
            self._save(workspace_id, **options)
        except AppError as exc:
            return rx.toast.error(exc.message)
        except ValueError as exc:
            return rx.toast.error("Check the outline: " + problem(exc))
        return None

    @rx.event
    @signed_in
    async def save_outline(self, user: UserPublic):
        if refusal := refused(user, "slides.write"):
            return refusal
        return self._save_failure(user.workspace_id) or rx.toast.success("Outline saved.")

    @rx.event
    @signed_in
    async def save_over_changes(self, user: UserPublic):
        """The outline changed elsewhere while this tab held unsaved edits, and the user chose theirs."""
        if refusal := refused(user, "slides.write"):
            return refusal
        if not self.dirty or self.busy:
            return None
        return self._save_failure(user.workspace_id, over_changes=True) or rx.toast.success(
            "Your edits are saved. The outline they replaced is kept in Versions.")

    @rx.event
    @signed_in
    async def discard_edits(self, user: UserPublic):
        """The user chose the stored outline over their unsaved edits."""
        self.dirty = False
        try:
            self._reload_deck(user.workspace_id)
        except AppError:
            self.deck, self.rows = {}, []

    # --- generating ------------------------------------------------------------------------------------

    async def _start(self, user, action, **kwargs):
        try:
            if self.dirty:
                self._save(user.workspace_id)
            await asyncio.to_thread(action, workspace_id=user.workspace_id, deck_id=int(self.deck["id"]),
                                    user_id=user.id, **kwargs)
        except AppError as exc:
            if exc.code == "slide_edited":  # the user's words are at stake: ask, never overwrite silently
                self.confirm_regenerate_id, self.confirm_regenerate_message = kwargs["slide_id"], exc.message
                return None
            return rx.toast.error(exc.message)
        except ValueError as exc:
            return rx.toast.error("Check the outline: " + problem(exc))
        self.tab = "preview"
        self._reload_deck(user.workspace_id)
        if not self.following:
            return SlidesState.follow

    @rx.event
    @signed_in
    async def generate(self, user: UserPublic):
        if refusal := refused(user, "slides.write"):
            return refusal
        return await self._start(user, deck_runs.generate)

    @rx.event
    @signed_in
    async def regenerate_slide(self, user: UserPublic, slide_id: str):
        if refusal := refused(user, "slides.write"):
            return refusal
        return await self._start(user, deck_runs.regenerate_slide, slide_id=slide_id)

    @rx.event
    @signed_in
    async def confirm_regenerate(self, user: UserPublic):
        """The user agreed to replace their edits on the slide (the outline before it is kept as a version)."""
        if refusal := refused(user, "slides.write"):
            return refusal
        slide_id, self.confirm_regenerate_id = self.confirm_regenerate_id, ""
        if not slide_id:
            return None
        return await self._start(user, deck_runs.regenerate_slide, slide_id=slide_id, replace_edits=True)

    @rx.event
    def dismiss_regenerate(self):
        self.confirm_regenerate_id = ""

    @rx.event
    @signed_in
    async def rebuild_outline(self, user: UserPublic):
        if refusal := refused(user, "slides.write"):
            return refusal
        return await self._start(user, decks.rebuild_outline)

    @rx.event
    @signed_in
    async def cancel_generation(self, user: UserPublic):
        if refusal := refused(user, "slides.write"):
            return refusal
        try:
            outcome = await asyncio.to_thread(deck_runs.cancel, workspace_id=user.workspace_id,
                                              deck_id=int(self.deck["id"]))
        except AppError as exc:
            return rx.toast.error(exc.message)
        self._reload_deck(user.workspace_id)
        return rx.toast.info("Canceled." if outcome == "removed" else "Stopping after the slides in progress…")

    @rx.event(background=True)
    async def follow(self):
        """Refresh the open deck while a job works on it: each written slide shows up as it lands."""
        async with self:
            user = session_user(self)
        if user is None:
            return
        workspace_id = user.workspace_id

        def snapshot():
            if session_user(self) is None or not self.deck.get("id"):
                return live.STOP
            return int(self.deck["id"])

        def prepare(changes: Changes, deck_id: int):
            if not changes.everything and deck_id not in changes.params("deck_id"):
                return None  # another page's job
            return lambda: _deck_and_list_of(workspace_id, deck_id)

        def apply(read):
            deck, listed = read
            if self.deck.get("id") != str(deck[0].id):
                return live.AGAIN  # another deck was opened during the read
            self._show_deck(deck, keep_edits=True)
            if listed is None:
                return False
            self.deck_list = listed
            return True

        await live.follow_jobs(self, workspace_id=workspace_id, snapshot=snapshot, prepare=prepare, apply=apply,
                               reread_every=1.0)

    @rx.event
    def zoom(self, slide_id: str):
        self.zoom_id = slide_id

    @rx.event
    def close_zoom(self):
        self.zoom_id = ""

    # --- versions --------------------------------------------------------------------------------------

    @rx.event
    def set_version_note(self, value: str):
        self.version_note = value[:200]

    @rx.event
    @signed_in
    async def save_version(self, user: UserPublic):
        if refusal := refused(user, "slides.write"):
            return refusal
        try:
            if self.dirty:
                self._save(user.workspace_id)
            version = deck_versions.save_version(workspace_id=user.workspace_id, deck_id=int(self.deck["id"]),
                                                 note=self.version_note)
        except (AppError, ValueError) as exc:
            return rx.toast.error(getattr(exc, "message", None) or problem(exc))
        self.version_note = ""
        self._reload_deck(user.workspace_id)
        return rx.toast.success(f"Saved as version {version.number}.")

    @rx.event
    @signed_in
    async def restore_version(self, user: UserPublic, number: str):
        if refusal := refused(user, "slides.write"):
            return refusal
        try:
            deck_versions.restore_version(workspace_id=user.workspace_id, deck_id=int(self.deck["id"]),
                                          number=parse_id(number))
        except (AppError, ValueError) as exc:
            return rx.toast.error(getattr(exc, "message", "That version no longer exists."))
        self.dirty = False
        self._reload_deck(user.workspace_id)
        self.tab = "outline"
        return rx.toast.success(f"Version {number} restored; the outline before it was kept as a version.")
