"""The drop zone's upload handler (state/assets.py handle_upload) when the upload does not run to its end.

Reflex cancels the handler when the browser goes away mid-upload (a reload, a closed tab, a lost network:
`_upload_chunk_file` cancels the task on ClientDisconnect). A reload keeps the tab's token, so the same tab
gets this state back: it must say what was saved and take files again, and what was stored must get its
thumbnail jobs at once (not from the reaper minutes later). Driven here as Reflex drives it: the real handler
on a real UploadChunkIterator, consumed by a task that is cancelled part-way.
"""

from __future__ import annotations

import asyncio
import threading
import types
from types import SimpleNamespace

import pytest
from reflex_components_core.core._upload import UploadChunk, UploadChunkIterator
from sqlmodel import select

from app.db import session_scope
from app.models import Asset, Job
from app.services.assets import ingest
from app.services.auth.sessions import COOKIE_NAME
from state.assets import AssetsState
from tests import images
from tests.fake_clamd import closed_port_url
from tests.integration.test_api_auth import login, register
from tests.integration.test_state_guards import FakeState
from tests.integration.test_virus_scan import scanning

CHUNK = 16 * 1024
PHOTOS = [(f"IMG_73{i:02d}.JPG", images.jpeg(640, 480, seed=60 + i)) for i in range(5)]
NAMES = [name for name, _ in PHOTOS]


class UploadPage(FakeState):
    """AssetsState's fields and helpers, with `async with` as the state lock a background handler takes."""

    def __init__(self, cookie: str):
        super().__init__(cookie)
        self.lock = asyncio.Lock()
        fields = AssetsState.get_fields()
        for name in AssetsState.base_vars:
            field = fields[name]
            setattr(self, name, field.default_factory() if callable(field.default_factory) else field.default)
        for name in ("_end_upload", "_reload", "_set_processing"):
            if hasattr(AssetsState, name):
                setattr(self, name, types.MethodType(getattr(AssetsState, name), self))

    async def __aenter__(self):
        await self.lock.acquire()
        return self

    async def __aexit__(self, *exc):
        self.lock.release()

    async def get_state(self, cls):
        return SimpleNamespace(_reload=lambda workspace_id: None)  # the grid (LibraryState) is not tested here


@pytest.fixture
def cookie(api, env):
    register(api)
    login(api)
    return f"{COOKIE_NAME}={api.cookies.get(COOKIE_NAME)}"


def chunks_of(name: str, data: bytes) -> list[UploadChunk]:
    return [UploadChunk(filename=name, offset=offset, content_type="image/jpeg", data=data[offset:offset + CHUNK])
            for offset in range(0, max(len(data), 1), CHUNK)]


def start(page: UploadPage, names: list[str]) -> tuple[UploadChunkIterator, asyncio.Task]:
    """The handler running on its own task, as Reflex's upload endpoint starts it."""
    chunks = UploadChunkIterator(maxsize=8)
    handler = AssetsState.event_handlers["handle_upload"].fn

    async def run():
        return [event async for event in handler(page, chunks, "", names)]

    task = asyncio.create_task(run())
    chunks.set_consumer_task(task)
    return chunks, task


async def push(chunks: UploadChunkIterator, files) -> None:
    for name, data in files:
        for chunk in chunks_of(name, data):
            await chunks.push(chunk)


def stored_assets() -> list[Asset]:
    with session_scope() as session:
        return list(session.exec(select(Asset)).all())


def queued_asset_ids() -> set[int]:
    with session_scope() as session:
        return {i for job in session.exec(select(Job).where(Job.kind == "assets.process")).all()
                for i in job.params["asset_ids"]}


async def wait_until(condition, seconds: float = 30.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met")


async def test_a_reload_mid_upload_ends_the_upload_and_queues_what_was_stored(cookie, monkeypatch):
    # Cancelled while the second photo is being stored (in its thread): it is stored to the end and listed.
    storing, release = threading.Event(), threading.Event()
    real_add = ingest.Upload.add

    def add(self, *, filename, data):
        if filename == NAMES[1]:
            storing.set()
            release.wait(10)
        return real_add(self, filename=filename, data=data)

    monkeypatch.setattr(ingest.Upload, "add", add)
    page = UploadPage(cookie)
    chunks, task = start(page, NAMES)
    first, second, third = PHOTOS[:3]
    await push(chunks, [first, second])
    await push(chunks, [(third[0], third[1][:CHUNK * 2])])  # the third starts: the second is stored now
    await wait_until(storing.is_set)
    assert page.uploading
    task.cancel()  # the browser went away (what Reflex does on ClientDisconnect)
    await asyncio.sleep(0.1)
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()

    assets = stored_assets()
    assert sorted(a.filename.lower() for a in assets) == [n.lower() for n in NAMES[:2]]  # not the cut-off third
    assert queued_asset_ids() == {a.id for a in assets}  # thumbnails queued now, not by the reaper
    assert not page.uploading  # the drop zone takes files again; the panel's close button is back
    assert page.upload_notice == "The upload was interrupted: 2 of 5 files were saved. 3 did not arrive: " \
                                 "drop them again."
    assert [(e["name"], e["state"], e["message"]) for e in page.uploads] == [
        (NAMES[0], "stored", ""), (NAMES[1], "stored", ""),
        (NAMES[2], "missing", ingest.CUT_OFF), (NAMES[3], "missing", ingest.NOT_SENT),
        (NAMES[4], "missing", ingest.NOT_SENT)]
    counts = AssetsState.computed_vars["upload_counts"].fget(page)
    assert counts == {"stored": 2, "duplicate": 0, "error": 0, "missing": 3, "uploading": 0}  # the badges

    # The same tab drops the rest again: it runs as any upload does, and the notice goes.
    chunks, task = start(page, NAMES[2:])
    await push(chunks, PHOTOS[2:])
    await chunks.finish()
    events = await asyncio.wait_for(task, 60)
    assert events and not page.uploading and page.upload_notice == ""
    assert [e["state"] for e in page.uploads] == ["stored"] * 3
    assert len(stored_assets()) == 5


async def test_cancelled_while_waiting_for_the_next_chunk(cookie):
    page = UploadPage(cookie)
    chunks, task = start(page, NAMES[:2])
    await push(chunks, [PHOTOS[0]])
    await wait_until(lambda: page.uploads)  # reported: the first photo is arriving
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # Its last bytes may have come, but the stream never said so: it is not taken as whole.
    assert stored_assets() == [] and queued_asset_ids() == set()
    assert not page.uploading
    assert page.upload_notice == "The upload was interrupted: 0 of 2 files were saved. 2 did not arrive: " \
                                 "drop them again."


async def test_progress_reads_as_a_size(cookie, monkeypatch):
    monkeypatch.setattr(ingest, "REPORT_EVERY", 0)  # every chunk reported
    page = UploadPage(cookie)
    chunks, task = start(page, ["big.jpg"])
    for chunk in chunks_of("big.jpg", bytes(2 * 1024 * 1024))[:24]:  # cancelled before it is read whole
        await chunks.push(chunk)
    await wait_until(lambda: page.uploads and page.uploads[0]["received"] == "384 KB")  # not "393216 bytes"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_the_other_exits_leave_the_panel_finished(cookie, monkeypatch):
    # A file refused mid-batch (damaged), then the scanner down: the upload runs to its end, each file has its
    # line, the panel says "finished" and the drop zone takes files again.
    monkeypatch.setattr(ingest, "REPORT_EVERY", 0)
    page = UploadPage(cookie)
    chunks, task = start(page, ["a.jpg", "cut.jpg", "b.jpg", "c.jpg"])
    await push(chunks, [("a.jpg", images.jpeg(80, 60, seed=1)), ("cut.jpg", images.jpeg(640, 480, seed=2)[:3000]),
                        ("b.jpg", images.jpeg(80, 60, seed=3)[:CHUNK])])
    await wait_until(lambda: len(page.uploads) == 3 and page.uploads[1]["state"] == "error")
    scanning(monkeypatch, closed_port_url(), mode="closed")
    await push(chunks, [("c.jpg", images.jpeg(80, 60, seed=4))])
    await chunks.finish()
    await asyncio.wait_for(task, 60)
    assert not page.uploading and page.upload_notice == ""
    lines = {e["name"]: (e["state"], e["message"]) for e in page.uploads}
    assert lines["a.jpg"] == ("stored", "")
    assert lines["cut.jpg"][0] == "error" and "damaged" in lines["cut.jpg"][1]
    assert lines["b.jpg"][1].startswith("The virus scanner stopped taking files at b.jpg")
    assert lines["c.jpg"] == lines["b.jpg"]


async def test_an_unexpected_error_does_not_leave_the_upload_running(cookie, monkeypatch):
    async def broken(**_):
        raise RuntimeError("boom")

    monkeypatch.setattr("state.assets.ingest_chunks", broken)
    page = UploadPage(cookie)
    _, task = start(page, ["a.jpg"])
    with pytest.raises(RuntimeError):
        await task
    assert not page.uploading and page.upload_notice.startswith("The upload stopped on an unexpected error.")
