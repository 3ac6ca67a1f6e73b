"""The Rename page: pick images and options, follow the analysis live, review and export."""

from __future__ import annotations

import asyncio

import reflex as rx
from pydantic import ValidationError

from app import routes
from app.db import read_scope, session_scope
from app.errors import AppError
from app.ids import parse_id
from app.job_hub import Changes
from app.models import Job, RenameBatchStatus, RenameItemStatus
from app.services import jobs
from app.services.ai import resolve
from app.services.auth.accounts import UserPublic
from app.services.click_keys import first_click, new_click_key
from app.services.form_errors import form_message
from app.services.library.picker import picker_cards, picker_ids
from app.services.rename import naming
from app.services.rename import service as rename
from app.services.rename.service import RenameOptions
from state import live
from state.handoff import HandoffState
from state.session import refused, session_user, signed_in

LIBRARY_PAGE = 200
NEEDS_SUBJECT = "needs a subject"  # the grid filter for rows the analyzer could not name
ROW_FILTERS = ("all", "failed", "low", "edited", "skipped", NEEDS_SUBJECT)
FOLLOW_IDLE = 60  # seconds without a job change before the picker stops following its thumbnails
# The options as the form labels them, for its error sentences.
OPTION_LABELS = {"keywords": "Keywords", "case": "Case", "max_length": "Max length", "template": "Name template",
                 "language": "Language", "provider": "Analyzer"}


def _row(item) -> dict[str, str]:
    tags = list(item.tags or [])
    return {"id": str(item.id), "asset_id": str(item.asset_id), "original": item.original_name,
            "final": item.final_name, "proposed": item.proposed_name, "edited": "yes" if item.edited else "",
            "alt": item.alt_text, "title": item.title, "tags": ", ".join(tags[:8]),
            "confidence": f"{round(item.confidence * 100)}", "status": item.status, "error": item.error,
            "accepted": "yes" if item.accepted else "", "thumb": routes.asset_thumbnail_url(str(item.asset_id)),
            "needs_subject": "yes" if rename.needs_subject(item) else "",
            # Part of the name input's key: bumped to put the stored name back after a refused edit.
            "reset": ""}


def keyword_message(word: str, counts: dict[str, int]) -> str:
    """What "add to every name" did, in numbers: nothing skipped without saying so."""
    added, edited, already, left = (counts.get(k, 0) for k in ("added", "edited", "already", "left"))
    parts = [f"Added “{word}” to {added} name{'s' if added != 1 else ''}"
             + (f", {edited} of them names you edited" if edited else "")]
    if already:
        parts.append(f"{already} already had it")
    if left:
        parts.append(f"{left} could not take it (no analysis, or no room under the length limit)")
    return "; ".join(parts) + "."


def batch_settled(batch_status: str, *, finished: bool, regenerating: bool) -> bool:
    """Whether the grid can stop following: the batch is not analysing, its job said it ended (or went
    quiet), and no row's regenerate job is still queued or running. The batch reads "ready" while a
    regenerated row waits for its job, so stopping on the batch alone left the grid on the old name
    while the ZIP already had the new one."""
    return batch_status != RenameBatchStatus.ANALYZING and finished and not regenerating


def _batch_of(workspace_id: int, batch_id: int, regen_job_id: str, item_ids: list[int] | None = None) -> dict:
    """The batch under review, its job's progress and its rows (`item_ids`: only those), read without the
    write lock; the follower runs it in a thread, outside the state lock."""
    with read_scope() as session:
        batch = rename.get_batch(session=session, workspace_id=workspace_id, batch_id=batch_id)
        job = jobs.get_job(session=session, job_id=batch.job_id) if batch.job_id else None
        regen = session.get(Job, regen_job_id) if regen_job_id else None
        return {"status": batch.status, "job_id": batch.job_id, "provider": rename.options_of(batch).provider,
                "rows": [_row(i) for i in rename.items_of(session=session, batch_id=batch.id, item_ids=item_ids)],
                "partial": item_ids is not None, "progress": (job.progress, job.message) if job else None,
                "regenerating": bool(regen and regen.workspace_id == workspace_id
                                     and regen.status not in jobs.TERMINAL)}


class RenameState(rx.State):
    # The most recent library images to choose from: id, filename, status, thumb.
    library: list[dict[str, str]] = []
    library_total: str = "0"
    # The picker's search and whether workflow outputs are offered too.
    library_query: str = ""
    include_derived: bool = False
    chosen: list[str] = []
    keywords: str = ""
    case: str = "kebab"
    max_length: str = "60"
    template: str = "{keywords}-{subject}-{detail}"
    language: str = "en"
    alt_text: bool = True
    keep_exif: bool = True
    write_metadata: bool = False
    ocr: bool = True
    provider: str = "local"
    provider_picked: bool = False
    batch_provider: str = "local"  # the analyzer the open batch used
    providers: list[dict[str, str]] = []
    form_error: str = ""
    # A key per click of Analyze, Apply and Undo, re-armed after each (app/services/click_keys.py).
    click_key: str = ""
    # Recent batches: id, status, images, created.
    batches: list[dict[str, str]] = []
    # The batch under review (0: none) and its rows.
    batch_id: int = 0
    batch_status: str = ""
    job_id: str = ""
    progress: int = 0
    progress_message: str = ""
    rows: list[dict[str, str]] = []
    row_filter: str = "all"
    sort_by: str = "position"
    new_keyword: str = ""
    # The job of the row regenerated last ("" when none), and whether it is still queued or running.
    regen_job_id: str = ""
    regenerating: bool = False
    following: bool = False
    # Whether the picker's thumbnails are being followed (images just dropped on the page).
    following_library: bool = False

    @rx.var
    def failed_rows(self) -> int:
        return sum(1 for r in self.rows if r["status"] == RenameItemStatus.FAILED)

    @rx.var
    def failed_reason(self) -> str:
        return next((r["error"] for r in self.rows if r["status"] == RenameItemStatus.FAILED and r["error"]), "")

    @rx.var
    def offline_retry(self) -> bool:
        """Images failed on a remote analyzer: the offline one can still describe them."""
        return (self.batch_provider != "local" and self.failed_rows > 0
                and self.batch_status != RenameBatchStatus.ANALYZING)

    @rx.var
    def chosen_count(self) -> int:
        return len(self.chosen)

    @rx.var
    def cost_note(self) -> str:
        price = resolve.price_of("vision", self.provider, max(1, len(self.chosen)))
        if price:
            return f"Costs {price} credits"
        return "Free with the local analyzer" if self.provider == "local" else "No credits charged"

    @rx.var
    def visible_rows(self) -> list[dict[str, str]]:
        rows = self.rows
        if self.row_filter == "failed":
            rows = [r for r in rows if r["status"] == RenameItemStatus.FAILED]
        elif self.row_filter == "low":
            rows = [r for r in rows if r["status"] == RenameItemStatus.DONE and int(r["confidence"]) < 50]
        elif self.row_filter == "edited":
            rows = [r for r in rows if r["edited"]]
        elif self.row_filter == "skipped":
            rows = [r for r in rows if not r["accepted"]]
        elif self.row_filter == NEEDS_SUBJECT:
            rows = [r for r in rows if r["needs_subject"]]
        if self.sort_by == "confidence":
            rows = sorted(rows, key=lambda r: int(r["confidence"]))
        elif self.sort_by == "name":
            rows = sorted(rows, key=lambda r: r["final"].lower())
        return rows

    @rx.var
    def download_url(self) -> str:
        return routes.batch_download_url(str(self.batch_id))

    def _load_lists(self, workspace_id: int) -> None:
        from app.services.rename.vision.registry import available_providers

        self.library, self.library_total = picker_cards(workspace_id=workspace_id, q=self.library_query,
                                                        include_derived=self.include_derived, limit=LIBRARY_PAGE)
        with session_scope() as session:
            self.batches = [{"id": str(b.id), "status": b.status, "images": str(b.image_count),
                             "created": b.created_at.strftime("%Y-%m-%d %H:%M")}
                            for b in rename.list_batches(session=session, workspace_id=workspace_id)]
        offered = [p for p in available_providers() if p["configured"]]
        self.providers = [{"name": p["name"], "label": p["label"]} for p in offered]
        # The admins' default vision model is preselected until the user picks one themselves.
        default = next((p["name"] for p in offered if p.get("default")), "")
        if default and not self.provider_picked:
            self.provider = default
        elif self.provider not in {p["name"] for p in offered}:
            self.provider = "local"

    def _load_batch(self, workspace_id: int) -> None:
        self._show_batch(_batch_of(workspace_id, self.batch_id, self.regen_job_id))

    def _show_batch(self, read: dict) -> None:
        """What `_batch_of` read; rows it re-read only some of are merged into the others."""
        self.batch_status, self.job_id, self.batch_provider = read["status"], read["job_id"], read["provider"]
        if read["partial"]:
            fresh = {r["id"]: r for r in read["rows"]}
            self.rows = [fresh.get(r["id"], r) for r in self.rows]
        else:
            self.rows = read["rows"]
        if read["progress"] is not None:
            self.progress, self.progress_message = read["progress"]
        self.regenerating = read["regenerating"]

    @rx.event
    @signed_in
    async def load_page(self, user: UserPublic):
        if chosen := (await self.get_state(HandoffState)).take_chosen(routes.RENAME):  # sent from the Assets page
            self.chosen = chosen
        raw = self.router.url.query_parameters.get("batch", "")
        self.batch_id = parse_id(raw)  # 0 (no batch) for anything that is not a 64-bit id
        self.regen_job_id = ""
        self.form_error, self.row_filter = "", "all"
        self.click_key = new_click_key()
        self._load_lists(user.workspace_id)
        if self.batch_id:
            try:
                self._load_batch(user.workspace_id)
            except AppError:
                self.batch_id = 0
                return rx.toast.error("That batch does not exist.")
            if self.batch_status == RenameBatchStatus.ANALYZING and not self.following:
                return RenameState.follow_batch

    @rx.event
    def toggle_asset(self, asset_id: str):
        self.chosen = [a for a in self.chosen if a != asset_id] if asset_id in self.chosen else [*self.chosen,
                                                                                                asset_id]

    @rx.event
    @signed_in
    async def choose_all(self, user: UserPublic):
        """Every image the picker's search matches (up to a batch's limit), not only the tiles on screen."""
        self.chosen = picker_ids(workspace_id=user.workspace_id, q=self.library_query,
                                 include_derived=self.include_derived,
                                 cap=rename.MAX_BATCH)

    @rx.event
    @signed_in
    async def search_library(self, user: UserPublic, value: str):
        self.library_query = str(value)[:200]
        self._load_lists(user.workspace_id)

    @rx.event
    @signed_in
    async def set_include_derived(self, user: UserPublic, value: bool):
        self.include_derived = bool(value)
        self._load_lists(user.workspace_id)

    @rx.event
    @signed_in
    async def take_uploads(self, user: UserPublic, asset_ids: list[str]):
        """Images just dropped on this page's drop zone join the selection."""
        if refusal := refused(user, "rename.write"):
            return refusal
        self.chosen = list(dict.fromkeys([*self.chosen, *asset_ids]))[: rename.MAX_BATCH]
        self._load_lists(user.workspace_id)
        return RenameState.follow_library

    @rx.event(background=True)
    async def follow_library(self):
        """Thumbnails of just-dropped images fill in as the workers make them."""
        async with self:
            user = session_user(self)
        if user is None:
            return
        workspace_id = user.workspace_id

        def snapshot():
            if session_user(self) is None or self.batch_id:
                return live.STOP
            return self.library_query, self.include_derived

        def prepare(changes: Changes, search):
            if not changes.everything and not changes.params("asset_ids"):
                return None  # no picture's job
            query, derived = search
            return lambda: (search, picker_cards(workspace_id=workspace_id, q=query, include_derived=derived,
                                                 limit=LIBRARY_PAGE))

        def apply(read):
            search, cards = read
            if search != (self.library_query, self.include_derived):
                return live.AGAIN  # the search changed during the read
            self.library, self.library_total = cards
            return all(item["status"] != "processing" for item in self.library)

        await live.follow_jobs(self, workspace_id=workspace_id, snapshot=snapshot, prepare=prepare, apply=apply,
                               idle=FOLLOW_IDLE, flag="following_library")

    @rx.event
    def choose_none(self):
        self.chosen = []

    @rx.event
    def set_option(self, name: str, value):
        if name in ("keywords", "case", "max_length", "template", "language", "provider"):
            setattr(self, name, str(value)[:200])
            if name == "provider":
                self.provider_picked = True
        elif name in ("alt_text", "keep_exif", "write_metadata", "ocr"):
            setattr(self, name, bool(value))

    @rx.event
    @signed_in
    async def start_batch(self, user: UserPublic, click_key: str = ""):
        if refusal := refused(user, "rename.write"):
            return refusal
        if not first_click(user_id=user.id, scope="rename", key=click_key):
            return None  # the second event of a double click
        self.click_key = new_click_key()
        try:
            options = RenameOptions(
                keywords=[k.strip() for k in self.keywords.split(",") if k.strip()], case=self.case,
                max_length=int(self.max_length) if self.max_length.isdigit() else 0, template=self.template,
                language=self.language, alt_text=self.alt_text, keep_exif=self.keep_exif,
                write_metadata=self.write_metadata, provider=self.provider, ocr=self.ocr)
        except ValidationError as exc:
            self.form_error = form_message(exc, RenameOptions, OPTION_LABELS)
            return
        try:
            batch = await asyncio.to_thread(rename.create_batch, workspace_id=user.workspace_id, user_id=user.id,
                                            asset_ids=[i for i in map(parse_id, self.chosen) if i], options=options)
        except AppError as exc:
            self.form_error = exc.message
            return
        self.form_error, self.chosen = "", []
        return rx.redirect(routes.rename_batch_url(str(batch.id)))

    @rx.event
    @signed_in
    async def save_name(self, user: UserPublic, item_id: str, value: str):
        if refusal := refused(user, "rename.write"):
            return refusal
        owner = user.workspace_id
        try:  # bounded against a pasted essay; the service says when a name is too long for a file
            item = rename.edit_item(workspace_id=owner, batch_id=self.batch_id, item_id=parse_id(item_id),
                                    final_name=value[:1000])
        except AppError as exc:
            # The box shows the name that is kept, not the refused one.
            self.rows = [{**r, "reset": str(int(r.get("reset") or 0) + 1)} if r["id"] == item_id else r
                         for r in self.rows]
            return rx.toast.error(exc.message)
        self._load_batch(owner)
        if notice := naming.typed_name_notice(value, item.final_name):
            return rx.toast.info(notice)

    @rx.event
    @signed_in
    async def save_alt(self, user: UserPublic, item_id: str, value: str):
        if refusal := refused(user, "rename.write"):
            return refusal
        owner = user.workspace_id
        rename.edit_item(workspace_id=owner, batch_id=self.batch_id, item_id=parse_id(item_id), alt_text=value[:300])
        self._load_batch(owner)

    @rx.event
    @signed_in
    async def toggle_accept(self, user: UserPublic, item_id: str, accepted: bool):
        if refusal := refused(user, "rename.write"):
            return refusal
        owner = user.workspace_id
        rename.edit_item(workspace_id=owner, batch_id=self.batch_id, item_id=parse_id(item_id), accepted=accepted)
        self._load_batch(owner)

    @rx.event
    @signed_in
    async def regenerate_row(self, user: UserPublic, item_id: str):
        if refusal := refused(user, "rename.write"):
            return refusal
        owner = user.workspace_id
        try:
            self.regen_job_id = await asyncio.to_thread(rename.regenerate, workspace_id=owner, batch_id=self.batch_id,
                                                        item_id=parse_id(item_id))
        except AppError as exc:
            return rx.toast.error(exc.message)
        self._load_batch(owner)
        return RenameState.follow_batch

    @rx.event
    @signed_in
    async def retry_failed_offline(self, user: UserPublic):
        if refusal := refused(user, "rename.write"):
            return refusal
        owner = user.workspace_id
        try:
            await asyncio.to_thread(rename.retry_failed, workspace_id=owner, batch_id=self.batch_id, provider="local")
        except AppError as exc:
            return rx.toast.error(exc.message)
        self._load_batch(owner)
        return RenameState.follow_batch

    @rx.event
    @signed_in
    async def add_keyword_to_all(self, user: UserPublic, form_data: dict):
        if refusal := refused(user, "rename.write"):
            return refusal
        owner = user.workspace_id
        word = " ".join(str(form_data.get("keyword", "")).split())[:40]
        if not word:
            return
        try:
            counts = rename.add_keyword(workspace_id=owner, batch_id=self.batch_id, keyword=word)
        except (AppError, ValueError) as exc:
            return rx.toast.error(getattr(exc, "message", str(exc)))
        self._load_batch(owner)
        return [rx.toast.success(keyword_message(word, counts)), rx.set_value("keyword", "")]

    @rx.event
    @signed_in
    async def apply_names(self, user: UserPublic, undo: bool = False, click_key: str = ""):
        if refusal := refused(user, "rename.write"):
            return refusal
        if not first_click(user_id=user.id, scope="rename-undo" if undo else "rename-apply", key=click_key):
            return None  # the second event of a double click: the first one's toast says what happened
        self.click_key = new_click_key()
        owner = user.workspace_id
        count = rename.apply_to_library(workspace_id=owner, batch_id=self.batch_id, undo=undo)
        return rx.toast.success(f"{count} asset{'s' if count != 1 else ''} "
                                f"{'restored to their original names' if undo else 'renamed in your library'}.")

    @rx.event
    def set_row_filter(self, value: str):
        self.row_filter = value if value in ROW_FILTERS else "all"

    @rx.event
    def set_sort(self, value: str):
        self.sort_by = value if value in ("position", "confidence", "name") else "position"

    @rx.event(background=True)
    async def follow_batch(self):
        """Relay the analysis job's progress; the rows still open are re-read from the database as it goes."""
        async with self:
            user = session_user(self)
        if user is None:
            return
        workspace_id = user.workspace_id

        def snapshot():
            if session_user(self) is None or not self.batch_id:
                return live.STOP
            # A retry re-analyses failed rows without marking them pending first: they count as open.
            open_rows = [int(r["id"]) for r in self.rows if r["status"] != "done"]
            return self.batch_id, self.regen_job_id, open_rows if self.rows else None

        def prepare(changes: Changes, inputs):
            batch_id, regen_job_id, open_rows = inputs
            if not changes.everything and batch_id not in changes.params("batch_id"):
                return None  # another page's job
            # Progress of the analysis changes only the rows not analysed yet; a job's end (a regenerated
            # row, a retry) or lost messages re-read them all.
            whole = changes.everything or changes.terminal()
            finished = (changes.everything and not changes.jobs) or changes.terminal()
            return lambda: ((batch_id, regen_job_id), finished,
                            _batch_of(workspace_id, batch_id, regen_job_id, None if whole else open_rows))

        def apply(result):
            followed, finished, read = result
            if followed != (self.batch_id, self.regen_job_id):
                return live.AGAIN  # another batch opened, or a row regenerated, during the read
            self._show_batch(read)
            return batch_settled(self.batch_status, finished=finished, regenerating=self.regenerating)

        await live.follow_jobs(self, workspace_id=workspace_id, snapshot=snapshot, prepare=prepare, apply=apply,
                               reread_every=3.0)
