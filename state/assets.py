"""The Assets page: chunked bulk upload with per-file progress; the grid it refreshes is state/library.py."""

from __future__ import annotations

import reflex as rx

from app.db import read_scope
from app.job_hub import Changes
from app.services.assets import service as assets
from app.services.assets.ingest import StreamedUpload, UploadInterrupted, ingest_chunks, picture_counts
from app.services.auth.accounts import UserPublic
from app.services.library.cards import card_of
from state import live
from state.library import LibraryState, grid_of
from state.session import refused, session_user, signed_in

# Seconds without news before the live follower stops (it restarts with the next upload).
FOLLOW_IDLE = 30


def _dropped(on_done: str, asset_ids: list[str]) -> rx.event.EventSpec | None:
    """`on_done` — a handler's full name, as the drop zone bound it — called with the dropped ids, or None
    for a name that is not a handler (the name comes from the browser, like any event)."""
    path, _, name = on_done.rpartition(".")
    try:
        handler = rx.State.get_class_substate(path).event_handlers[name]
    except (ValueError, KeyError):
        return None
    return handler(asset_ids)


class AssetsState(rx.State):
    # This upload's files: name, received size, state (uploading/stored/duplicate/error/missing), message.
    uploads: list[dict[str, str]] = []
    uploading: bool = False
    # Why the last upload ended early (the browser went away, an error): what it saved; "" when it ran to the end.
    upload_notice: str = ""
    upload_percent: int = 0
    # Whether a background follower is relaying job progress into the grid.
    following: bool = False
    processing_count: int = 0

    @rx.var
    def upload_counts(self) -> dict[str, int]:
        return picture_counts(self.uploads)

    @rx.var
    def upload_rows(self) -> list[dict[str, str]]:
        """Refused and missing files first: they are what the user has to act on."""
        return sorted(self.uploads, key=lambda u: u["state"] not in ("error", "missing"))

    def _set_processing(self, workspace_id: int) -> None:
        # The follower's own count (assets.processing_count): a capped search count here showed "1001 processing"
        # until the follower's first read replaced it with the real figure.
        with read_scope() as session:
            count = assets.processing_count(session=session, workspace_id=workspace_id)
        if count != self.processing_count:  # an assignment is sent to the browser even when the value is the same
            self.processing_count = count

    async def _reload(self, workspace_id: int) -> None:
        """The grid (LibraryState, with its search) and the count of pictures still processing."""
        self._set_processing(workspace_id)
        library = await self.get_state(LibraryState)
        library._reload(workspace_id)

    @rx.event
    @signed_in
    async def load_page(self, user: UserPublic):
        self._set_processing(user.workspace_id)
        if self.processing_count and not self.following:
            return AssetsState.follow_jobs

    @rx.event
    def dismiss_uploads(self):
        if not self.uploading:
            self.uploads, self.upload_notice = [], ""

    @rx.event
    def handle_upload_progress(self, progress: dict):
        self.upload_percent = int(100 * float(progress.get("progress", 0) or 0))

    @rx.event(background=True)
    async def handle_upload(self, chunks: rx.UploadChunkIterator, on_done: str = "", names: list | None = None):
        """Store each streamed file (app/services/assets/ingest.py, as the REST upload does) and list what
        became of it; then `on_done(asset_ids)` when the drop zone was given one (components/library/drop_zone.py).
        `names`: the dropped files' names, as the browser sends them (to list those an interruption kept back)."""
        async with self:
            user = session_user(self)
            refusal = refused(user, "assets.write") if user is not None else None
            # Not "uploading" while a refused upload drains: a cancel then would leave the drop zone off.
            self.uploading = user is not None and refusal is None
            self.uploads, self.upload_percent, self.upload_notice = [], 0, ""
        if user is None or refusal is not None:
            async for _ in chunks:  # drain, so the browser is not left hanging
                pass
            yield refusal or rx.toast.error("Your session ended. Sign in again to upload.")
            return

        async def report(entries: list[dict[str, str]]) -> None:
            async with self:
                self.uploads = entries

        try:
            done = await ingest_chunks(workspace_id=user.workspace_id, chunks=chunks, report=report,
                                       names=names or [])
        except UploadInterrupted as stopped:
            # The browser went away and Reflex cancelled this handler. A reload keeps the tab's token
            # (sessionStorage), so the same tab gets this state back: it must not stay "Uploading…" with the
            # drop zone off. The cancellation goes on (nothing yielded now would reach the page).
            async with self:
                self._end_upload(stopped.upload)
                await self._reload(user.workspace_id)
            raise
        except BaseException:
            async with self:
                self.uploading = False
                self.upload_notice = ("The upload stopped on an unexpected error. The files marked stored were "
                                      "saved; drop the others again.")
            raise
        async with self:
            self._end_upload(done)
            self.upload_percent = 100
            await self._reload(user.workspace_id)
            start_follow = not self.following
        counts = picture_counts(done.entries)
        stored, failed = counts["stored"], counts["error"]
        yield (rx.toast.warning(f"{stored} stored, {failed} refused — see the list for why.") if failed
               else rx.toast.success(f"{stored} image{'s' if stored != 1 else ''} stored."))
        if done.queue_message:
            yield rx.toast.warning(done.queue_message)
        if start_follow:
            yield AssetsState.follow_jobs
        if on_done and (then := _dropped(on_done, [str(i) for i in done.asset_ids])) is not None:
            yield then

    def _end_upload(self, done: StreamedUpload) -> None:
        self.uploads, self.uploading = done.entries, False
        # Only an interrupted upload leaves a notice: no toast reaches a page that went away.
        if done.interrupted:
            self.upload_notice = " ".join(m for m in (done.interrupted, done.queue_message) if m)

    @rx.event(background=True)
    async def follow_jobs(self):
        """Relay this workspace's job changes into the grid until nothing is processing."""
        async with self:
            user = session_user(self)
        if user is None:
            return
        workspace_id = user.workspace_id

        # What the follower knows of the grid (its search, the pictures shown); re-taken from the page when
        # a full read found the search changed.
        grid: dict = {"search": None, "shown": set()}

        async def snapshot():
            if session_user(self) is None:
                return live.STOP
            if grid["search"] is None:
                library = await self.get_state(LibraryState)
                grid["search"], grid["shown"] = (library._query(), library.limit), {int(c["id"]) for c in library.cards}
            return grid

        def prepare(changes: Changes, known: dict):
            quiet = changes.everything and not changes.jobs
            if changes.everything:
                search = known["search"]
                return lambda: (quiet, search, *_counted(grid_of, workspace_id=workspace_id, query=search[0],
                                                         limit=search[1]))
            # Only the pictures these jobs name, and only those on the grid.
            named = {i for i in changes.params("asset_ids") if isinstance(i, int)} & known["shown"]
            return lambda: (quiet, None, *_counted(_cards_of, workspace_id=workspace_id, asset_ids=named))

        async def apply(result):
            quiet, search, count, update = result
            self.processing_count = count
            if search is not None:
                library = await self.get_state(LibraryState)
                if search != (library._query(), library.limit):
                    grid["search"] = None  # the search changed during the read: read the new one
                    return live.AGAIN
                library._show_grid(update)
                grid["shown"] = {int(c["id"]) for c in update["cards"]}
            elif update:  # cards on the grid are replaced by id
                (await self.get_state(LibraryState))._show_cards(update)
            return count == 0 and quiet

        await live.follow_jobs(self, workspace_id=workspace_id, snapshot=snapshot, prepare=prepare, apply=apply,
                               idle=FOLLOW_IDLE)


def _counted(read, *, workspace_id: int, **kwargs) -> tuple[int, dict]:
    """(pictures still processing, what `read` returns): blocking reads, run in the follower's thread."""
    with read_scope() as session:
        count = assets.processing_count(session=session, workspace_id=workspace_id)
    return count, read(workspace_id=workspace_id, **kwargs)


def _cards_of(*, workspace_id: int, asset_ids: set[int]) -> dict[str, dict[str, str]]:
    if not asset_ids:
        return {}
    with read_scope() as session:
        return {str(a.id): card_of(a) for a in assets.get_assets(session=session, workspace_id=workspace_id,
                                                                  asset_ids=asset_ids)}
