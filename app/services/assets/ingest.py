"""One upload, file by file, for every way pictures come in: the REST upload (`ingest`, used by
/api/v1/assets and /api/v1/rename) and the page's drop zone (`ingest_chunks`, state/assets.py).

Both store through `Upload.add`: the same size and count limits, the same per-file errors, the same
virus scan (fail-closed), the same thumbnail jobs in batches, and the same stop when storage or the
scanner fails part-way (what was stored is kept and named; nothing after it is taken).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, Protocol, TypeVar

from app.display import storage_text
from app.errors import ServiceUnavailable
from app.services import scan
from app.services.assets import archives
from app.services.assets.images import display_name
from app.services.assets.service import (
    FileError,
    IngestResult,
    ingest_one,
    submit_processing,
    what_was_stored,
)
from app.services.assets.upload_chunks import AssembledFile, ChunkAssembler
from app.settings import get_settings

# Seconds between two reports of a streamed upload's progress (each costs the page's state lock).
REPORT_EVERY = 0.4
# An interrupted upload's lines for the file it cut off and for the files it never reached (state "missing").
CUT_OFF = "Not received in full: the upload was interrupted. Drop it again."
NOT_SENT = "Not sent: the upload was interrupted before it. Drop it again."

log = logging.getLogger(__name__)
T = TypeVar("T")


def too_many_files_message(limit: int) -> str:
    return f"More than {limit} files in one upload; send them in several requests."


def _refused_on_the_way(reason: str, head: bytes) -> FileError:
    """Why the chunk assembler dropped a file before it was whole, worded as the REST upload words it."""
    settings = get_settings()
    if reason == "too_big":
        limit = archives.upload_cap(head) // (1024 * 1024)
        return FileError(filename="", code="file_too_large", message=f"The file is larger than {limit} MB.")
    if reason == "too_many":
        return FileError(filename="", code="too_many_files",
                         message=too_many_files_message(settings.max_upload_files))
    if reason == "out_of_order":
        return FileError(filename="", code="bad_upload",
                         message="The file arrived damaged (its parts out of order). Upload it again.")
    return FileError(filename="", code="bad_multipart", message=reason)


@dataclass
class Upload:
    """One upload in progress: add files one by one, then `finish`."""

    workspace_id: int
    result: IngestResult = field(default_factory=lambda: IngestResult(assets=[], errors=[], job_ids=[]))
    # Storage or the scanner failed part-way: every later file is refused with this.
    stopped: ServiceUnavailable | None = None
    _unqueued: list[int] = field(default_factory=list)
    _queue_error: ServiceUnavailable | None = None

    def add(self, *, filename: str, data: bytes | IO[bytes]) -> IngestResult:
        """Store one file (or each image of a ZIP) and return what became of it alone.

        Raises ServiceUnavailable (the scanner's: ScannerUnavailable) naming what was stored when storage
        or the scanner fails on this file; after that, each later file comes back refused with that message.
        """
        if self.stopped is not None:
            return self.refuse(filename=filename, error=FileError(filename="", code=self.stopped.code,
                                                                  message=self.stopped.message))
        try:
            one = ingest_one(workspace_id=self.workspace_id, filename=filename, data=data)
        except (OSError, scan.ScannerUnavailable) as exc:  # storage full/read-only, or clamd down (fail-closed)
            self.stopped = self._stop_part_way(stopped_at=filename, cause=exc)
            raise self.stopped from exc
        self.result.assets += one.assets
        self.result.errors += one.errors
        self.result.created += one.created
        self.result.duplicates += one.duplicates
        self._unqueued += one.created
        if len(self._unqueued) >= get_settings().ingest_batch_size:
            self._submit()  # thumbnails start while the rest is still arriving
        return one

    def refuse(self, *, filename: str, error: FileError) -> IngestResult:
        """A file refused before it could be read whole (too big, too many, damaged in transit)."""
        one = IngestResult(assets=[], errors=[FileError(filename=display_name(filename), code=error.code,
                                                        message=error.message)])
        self.result.errors += one.errors
        return one

    def finish(self) -> IngestResult:
        """Queue the last thumbnail jobs. Raises ServiceUnavailable (details: what was stored) when the queue
        was unreachable for any of them: those assets are stored and parked for the periodic work."""
        self._submit()
        if self._queue_error is not None:
            self._queue_error.details = what_was_stored(self.result)
            raise self._queue_error
        return self.result

    def _submit(self) -> None:
        ids, self._unqueued = self._unqueued, []
        if not ids:
            return
        try:
            self.result.job_ids += submit_processing(workspace_id=self.workspace_id, asset_ids=ids)
        except ServiceUnavailable as exc:  # parked as failed (QUEUE_UNAVAILABLE); requeued later
            self._queue_error = exc

    def _stop_part_way(self, *, stopped_at: str, cause: Exception) -> ServiceUnavailable:
        """The error for a failure after some files were stored: those are kept (their thumbnails queued
        when the queue is up), and the message says exactly which were stored and where it stopped."""
        self._submit()
        details = what_was_stored(self.result)
        scanner = isinstance(cause, scan.ScannerUnavailable)  # clamd down, fail-closed: 503 scanner_unavailable
        return (scan.ScannerUnavailable if scanner else ServiceUnavailable)(
            f"{'The virus scanner' if scanner else 'Storage'} stopped taking files at {display_name(stopped_at)}: "
            f"{len(details['stored'])} file(s) before it were stored, it and the files after it were not.",
            details={**details, "service": "clamav" if scanner else "storage",
                     "stopped_at": display_name(stopped_at)})


def ingest(*, workspace_id: int, files: Iterable[tuple[str, bytes | IO[bytes]]]) -> IngestResult:
    """Store every good file; each bad one gets its own error and the rest go on.

    Raises ServiceUnavailable naming what was stored when storage or the scanner stops part-way, or
    when the thumbnail jobs cannot be queued.
    """
    upload = Upload(workspace_id=workspace_id)
    for filename, data in files:
        upload.add(filename=filename, data=data)
    return upload.finish()


class Chunk(Protocol):
    """One piece of a streamed file, as Reflex's chunked upload hands them over."""

    filename: str
    offset: int
    data: bytes


@dataclass
class StreamedUpload:
    """What a streamed upload did: one entry per file (name, state: uploading | stored | duplicate | error |
    missing, received size as people read it, message), the ids of every image it brought in (new or already
    there), a warning when the thumbnails could not be queued, and — when it was interrupted — what that cost."""

    entries: list[dict[str, str]]
    asset_ids: list[int]
    queue_message: str = ""
    interrupted: str = ""


class UploadInterrupted(asyncio.CancelledError):
    """The drop zone's upload was cancelled part-way: the browser went away (a reload, a closed tab, a lost
    network) and Reflex cancelled the handler. Still a cancellation, so the task ends as cancelled; `upload`
    is what it did by then (what was stored is kept and its thumbnails are queued)."""

    def __init__(self, upload: StreamedUpload) -> None:
        super().__init__(upload.interrupted)
        self.upload = upload


def interrupted_message(entries: list[dict[str, str]]) -> str:
    """The sentence an interrupted upload ends with: how many of the dropped files are in the library."""
    saved = sum(e["state"] in ("stored", "duplicate") for e in entries)
    missing = sum(e["state"] == "missing" for e in entries)
    return (f"The upload was interrupted: {saved} of {len(entries)} file{'s' if len(entries) != 1 else ''} "
            f"{'was' if saved == 1 else 'were'} saved."
            + (f" {missing} did not arrive: drop {'it' if missing == 1 else 'them'} again." if missing else ""))


async def _to_the_end(step: Awaitable[T]) -> T:
    """Await `step` to its end even when this task is cancelled meanwhile, then let the cancellation go on.

    A file is stored in a thread, which no cancellation stops: cut short here, it would be stored unseen (no
    line in the list, no thumbnail job) and its spooled bytes closed while the thread still reads them.
    """
    task = asyncio.ensure_future(step)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        if not task.cancelled() and task.exception() is not None:
            log.warning("an upload step failed after the upload was canceled", exc_info=task.exception())
        raise


async def _queue_thumbnails(upload: Upload) -> str:
    """Queue what is left to queue; the warning to show when the queue was unreachable."""
    try:
        await asyncio.to_thread(upload.finish)
    except ServiceUnavailable as exc:
        return exc.message
    return ""


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _entry_outcome(one: IngestResult, *, archive: bool) -> dict[str, str]:
    """One dropped file's line: stored, already there, or why not."""
    if archive:  # what became of its pictures (counted by the badges), and the first few refusals
        added, refused = len(one.created), len(one.errors)
        known = len(one.assets) - added
        parts = [f"{added} stored"] + ([f"{known} already in your library"] if known else []) \
            + ([f"{refused} refused"] if refused else [])
        why = " ".join(f"{e.filename}: {_sentence(e.message)}" for e in one.errors[:3])
        more = f" And {refused - 3} more." if refused > 3 else ""
        return {"state": "error" if not one.assets else "stored",
                "message": f"From the archive: {', '.join(parts)}." + (f" {why}{more}" if why else ""),
                ARCHIVE_KEYS["stored"]: str(added), ARCHIVE_KEYS["duplicate"]: str(known),
                ARCHIVE_KEYS["error"]: str(refused)}
    if one.errors or not one.assets:
        return {"state": "error", "message": one.errors[0].message if one.errors else "Not stored."}
    if one.created:
        return {"state": "stored", "message": ""}
    return {"state": "duplicate", "message": "Already in your library"}


# An archive's line carries the count of its pictures per outcome, so the totals count pictures, not files.
ARCHIVE_KEYS = {"stored": "archive_stored", "duplicate": "archive_duplicate", "error": "archive_error"}


def picture_counts(entries: Iterable[dict[str, str]]) -> dict[str, int]:
    """How many pictures were stored, already there, refused, not received or still uploading: an archive
    counts each picture in it, not one file."""
    counts = {"stored": 0, "duplicate": 0, "error": 0, "missing": 0, "uploading": 0}
    for entry in entries:
        if ARCHIVE_KEYS["stored"] in entry:
            for outcome, key in ARCHIVE_KEYS.items():
                counts[outcome] += int(entry[key])
        else:
            counts[entry["state"]] = counts.get(entry["state"], 0) + 1
    return counts


async def ingest_chunks(*, workspace_id: int, chunks: AsyncIterable[Chunk],
                        report: Callable[[list[dict[str, str]]], Awaitable[None]],
                        names: Sequence[str] = ()) -> StreamedUpload:
    """The drop zone's upload: files assembled from their chunks as they stream in, each stored through
    `Upload.add` (in a thread: it scans, decodes and writes) as soon as the next one starts.
    `report(entries)` is awaited with the entries so far at most every REPORT_EVERY seconds. `names` are the
    dropped files' names as the browser listed them, in the order it sends them.

    Cancelled part-way (the browser went away), it raises UploadInterrupted: the file being stored is stored
    to the end, the one cut off is dropped, every file stored gets its thumbnail job at once, and the files
    never sent are listed by name.
    """
    upload = Upload(workspace_id=workspace_id)
    entries: list[dict[str, str]] = []
    assembler = ChunkAssembler()
    unreadable = ""
    last_report = 0.0

    async def finish(file: AssembledFile) -> None:
        entry = entries[file.index]
        try:
            if file.refused:
                reason = unreadable if file.refused == "unreadable" else file.refused
                one = upload.refuse(filename=file.name, error=_refused_on_the_way(reason, file.head))
                entry.update(_entry_outcome(one, archive=False))
                return
            archive = archives.is_zip(archives.head_of(file.handle()))
            try:
                one = await asyncio.to_thread(upload.add, filename=file.name, data=file.handle())
            except ServiceUnavailable as exc:  # storage or the scanner stopped: this file and the rest refused
                entry.update(state="error", message=exc.message)
                return
            entry.update(_entry_outcome(one, archive=archive))
        finally:
            file.discard()

    def outcome(queue_message: str) -> StreamedUpload:
        return StreamedUpload(entries=entries, asset_ids=[a.id for a in upload.result.assets],
                              queue_message=queue_message)

    try:
        try:
            async for chunk in chunks:
                finished, started = assembler.feed(filename=chunk.filename, offset=chunk.offset, data=chunk.data)
                if started:  # listed before the previous file is stored: every file the assembler holds has a line
                    entries.append({"name": chunk.filename, "state": "uploading", "received": "", "message": ""})
                for file in finished:
                    await _to_the_end(finish(file))
                entries[-1]["received"] = storage_text(assembler.current.received)
                if time.monotonic() - last_report > REPORT_EVERY:
                    last_report = time.monotonic()
                    await report([dict(e) for e in entries])
        except Exception:  # the stream broke (a part header no parser can read): keep what came
            log.warning("a streamed upload broke part-way", exc_info=True)  # the parser's words are for us
            unreadable = "The upload could not be read from here on. Upload the rest again."
            if assembler.current is not None:
                assembler.current.refused = "unreadable"
            else:
                entries.append({"name": "upload", "state": "error", "received": "", "message": unreadable})
        for file in assembler.close():
            await _to_the_end(finish(file))
    except asyncio.CancelledError as cancel:
        for file in assembler.close():  # cut off mid-way: whatever came of it is not the file
            file.discard()
            entries[file.index].update(state="missing", message=CUT_OFF)
        listed = list(names) if isinstance(names, list | tuple) else []  # they come from the browser
        entries += [{"name": display_name(str(name)), "state": "missing", "received": "", "message": NOT_SENT}
                    for name in listed[len(entries):get_settings().max_upload_files]]
        done = outcome(await _to_the_end(_queue_thumbnails(upload)))
        done.interrupted = interrupted_message(entries)
        raise UploadInterrupted(done) from cancel
    return outcome(await _queue_thumbnails(upload))
