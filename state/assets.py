"""The Assets page: chunked bulk upload with per-file progress; the grid it refreshes is state/library.py."""

from __future__ import annotations

import asyncio
import time

import reflex as rx

from app.db import read_scope, session_scope
from app.errors import ServiceUnavailable
from app.job_hub import Changes
from app.services.assets import archives
from app.services.assets import service as assets
from app.services.assets.upload_chunks import AssembledFile, ChunkAssembler
from app.services.library.cards import card_of
from app.settings import get_settings
from state import live
from state.library import LibraryState, grid_of
from state.rename import RenameState
from state.session import refused, require_user, session_user, to_sign_in

# Seconds without news before the live follower stops (it restarts with the next upload).
FOLLOW_IDLE = 30


# Why the assembler refused a file on the way in, for the upload list.
REFUSED = {
    "too_big": lambda s: f"Larger than {s.max_upload_file_bytes // 2**20} MB.",
    "too_many": lambda s: f"Too many files in one upload (the limit is {s.max_upload_files}).",
    "out_of_order": lambda s: "The file arrived damaged (its parts out of order). Upload it again.",
}


def _outcome(result: assets.IngestResult, *, archive: bool) -> dict[str, str]:
    """One dropped file's line in the upload list: stored, already there, or why not."""
    if archive:  # how many of its images got in, and the first few refusals
        refused = "; ".join(f"{e.filename}: {e.message}" for e in result.errors[:3])
        return {"state": "error" if not result.assets else "stored",
                "message": f"{len(result.assets)} images from the archive"
                           + (f", {len(result.errors)} refused ({refused})" if result.errors else "")}
    if result.errors or not result.assets:
        return {"state": "error", "message": result.errors[0].message if result.errors else "Not stored."}
    if result.created:
        return {"state": "stored", "message": ""}
    return {"state": "duplicate", "message": "Already in your library"}


class AssetsState(rx.State):
    # This upload's files: name, received bytes, state (uploading/stored/duplicate/error), message.
    uploads: list[dict[str, str]] = []
    uploading: bool = False
    upload_percent: int = 0
    # Whether a background follower is relaying job progress into the grid.
    following: bool = False
    processing_count: int = 0

    @rx.var
    def upload_counts(self) -> dict[str, int]:
        counts = {"stored": 0, "duplicate": 0, "error": 0, "uploading": 0}
        for item in self.uploads:
            counts[item["state"]] = counts.get(item["state"], 0) + 1
        return counts

    @rx.var
    def upload_rows(self) -> list[dict[str, str]]:
        """Refused files first: they are what the user has to act on."""
        return sorted(self.uploads, key=lambda u: u["state"] != "error")

    async def _reload(self, workspace_id: int) -> None:
        """The grid (LibraryState, with its search) and the count of pictures still processing."""
        with session_scope() as session:
            _, self.processing_count = assets.list_assets(session=session, workspace_id=workspace_id,
                                                          status="processing", limit=1)
        library = await self.get_state(LibraryState)
        library._reload(workspace_id)

    @rx.event
    async def load_page(self):
        user = await require_user(self)
        if user is None:
            return to_sign_in(self)
        with session_scope() as session:
            _, self.processing_count = assets.list_assets(session=session, workspace_id=user.workspace_id,
                                                          status="processing", limit=1)
        if self.processing_count and not self.following:
            return AssetsState.follow_jobs

    @rx.event
    def dismiss_uploads(self):
        if not self.uploading:
            self.uploads = []

    @rx.event
    def handle_upload_progress(self, progress: dict):
        self.upload_percent = int(100 * float(progress.get("progress", 0) or 0))

    @rx.event(background=True)
    async def handle_upload(self, chunks: rx.UploadChunkIterator):
        """Assemble each streamed file, check and store it, and start thumbnail jobs in batches."""
        settings = get_settings()
        async with self:
            user = session_user(self)
            self.uploading, self.uploads, self.upload_percent = user is not None, [], 0
        if user is None:
            async for _ in chunks:  # drain, so the browser is not left hanging
                pass
            yield rx.toast.error("Your session ended. Sign in again to upload.")
            return
        if refusal := refused(user, "assets.write"):
            async for _ in chunks:
                pass
            async with self:
                self.uploading = False
            yield refusal
            return
        entries: list[dict[str, str]] = []
        created: list[int] = []
        received_ids: list[int] = []  # every image of this drop, new or already in the library
        queue_down = unreadable = ""
        last_push = 0.0
        assembler = ChunkAssembler()

        async def finish(file: AssembledFile) -> None:
            entry = entries[file.index]
            try:
                if file.refused:
                    entry.update(state="error", message=unreadable if file.refused == "unreadable"
                                 else REFUSED[file.refused](settings))
                    return
                archive = archives.is_zip(archives.head_of(file.handle()))
                try:
                    result = await asyncio.to_thread(assets.ingest_one, workspace_id=user.workspace_id,
                                                     filename=file.name, data=file.handle())
                except ServiceUnavailable as exc:  # the virus scanner is down (fail-closed): not stored
                    entry.update(state="error", message=exc.message)
                    return
            finally:
                file.discard()
            received_ids.extend(a.id for a in result.assets)
            created.extend(result.created)
            entry.update(**_outcome(result, archive=archive))

        async def submit(asset_ids: list[int]) -> None:
            nonlocal queue_down
            try:
                await asyncio.to_thread(assets.submit_processing, workspace_id=user.workspace_id, asset_ids=asset_ids)
            except ServiceUnavailable as exc:
                queue_down = exc.message

        try:
            async for chunk in chunks:
                finished, started = assembler.feed(filename=chunk.filename, offset=chunk.offset, data=chunk.data)
                for file in finished:
                    await finish(file)
                if started:
                    entries.append({"name": chunk.filename, "state": "uploading", "received": "0", "message": ""})
                entries[-1]["received"] = str(assembler.current.received)
                if len(created) >= settings.ingest_batch_size:
                    # Start thumbnails while the rest is still arriving.
                    await submit(created[:])
                    created.clear()
                if time.monotonic() - last_push > 0.4:
                    last_push = time.monotonic()
                    async with self:
                        self.uploads = [dict(e) for e in entries]
        except Exception as exc:  # the stream broke (a part header no parser can read): keep what came
            unreadable = f"The upload could not be read from here on ({str(exc)[:120]}). Upload the rest again."
            if assembler.current is not None:
                assembler.current.refused = "unreadable"
            else:
                entries.append({"name": "upload", "state": "error", "received": "0", "message": unreadable})
        for file in assembler.close():
            await finish(file)
        if created:
            await submit(created)
        async with self:
            self.uploads = [dict(e) for e in entries]
            self.uploading, self.upload_percent = False, 100
            await self._reload(user.workspace_id)
            start_follow = not self.following
        stored = sum(e["state"] == "stored" for e in entries)
        failed = sum(e["state"] == "error" for e in entries)
        yield (rx.toast.warning(f"{stored} stored, {failed} refused — see the list for why.") if failed
               else rx.toast.success(f"{stored} image{'s' if stored != 1 else ''} stored."))
        if queue_down:
            yield rx.toast.warning(queue_down)
        if start_follow:
            yield AssetsState.follow_jobs
        # The Rename page reuses this drop zone: its batch starts from what was just dropped.
        yield RenameState.take_uploads([str(i) for i in received_ids])

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
