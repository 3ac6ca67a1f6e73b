"""The REST upload and the page's drop zone are one ingest (app/services/assets/ingest.py): the same bad file
gets the same words from both, and both store through the same `Upload.add`."""

from __future__ import annotations

import asyncio

import pytest
from reflex_components_core.core._upload import UploadChunk
from sqlmodel import select

from app.db import session_scope
from app.models import Workspace
from app.services.assets import ingest
from tests import images
from tests.conftest import clear_caches
from tests.fake_clamd import closed_port_url
from tests.integration.test_api_assets import upload
from tests.integration.test_api_auth import login, register
from tests.integration.test_virus_scan import scanning

BAD = [
    ("empty.jpg", b""),
    ("page.jpg", b"<html><script>alert(1)</script></html>"),
    ("cut.jpg", images.jpeg(640, 480, seed=9)[:3000]),
    ("bomb.png", images.pixel_flood_png()),
]


@pytest.fixture
def signed_in(api, any_db):
    register(api)
    login(api)
    return api


def workspace_id() -> int:
    """The signed-in user's (personal) workspace: the only one there is."""
    with session_scope() as session:
        return session.exec(select(Workspace)).one().id


def drop(files: list[tuple[str, bytes]], *, chunk: int = 16 * 1024) -> ingest.StreamedUpload:
    """The files as the drop zone streams them: Reflex's own chunks, in part order."""
    async def chunks():
        for name, data in files:
            for offset in range(0, max(len(data), 1), chunk):
                yield UploadChunk(filename=name, offset=offset, content_type="image/jpeg",
                                  data=data[offset:offset + chunk])

    reports = []

    async def report(entries):
        reports.append(entries)

    return asyncio.run(ingest.ingest_chunks(workspace_id=workspace_id(), chunks=chunks(), report=report))


def rest_errors(api, files: list[tuple[str, bytes]]) -> dict[str, str]:
    body = upload(api, *[(name, data, "image/jpeg") for name, data in files]).json()
    errors = body.get("errors") or body["error"]["details"]["errors"]
    return {e["filename"]: e["message"] for e in errors}


def page_errors(files: list[tuple[str, bytes]]) -> dict[str, str]:
    return {e["name"]: e["message"] for e in drop(files).entries if e["state"] == "error"}


def test_the_same_bad_file_gets_the_same_words_from_rest_and_from_the_page(signed_in):
    from_rest, from_page = rest_errors(signed_in, BAD), page_errors(BAD)
    assert set(from_rest) == {name for name, _ in BAD}
    assert from_page == from_rest


def test_too_big_and_too_many_read_alike(signed_in, monkeypatch):
    monkeypatch.setenv("MAX_UPLOAD_FILE_BYTES", "50000")
    monkeypatch.setenv("MAX_UPLOAD_FILES", "2")
    clear_caches()
    big = [("big.jpg", images.jpeg(1200, 900, seed=2))]
    # The page refuses it while it streams in (the assembler), REST once it is read: the same sentence.
    assert page_errors(big) == rest_errors(signed_in, big) == {"big.jpg": "The file is larger than 0 MB."}
    three = [(f"p{i}.jpg", images.jpeg(40, 40, seed=20 + i)) for i in range(3)]
    response = upload(signed_in, *[(n, d, "image/jpeg") for n, d in three])
    assert response.status_code == 413
    assert page_errors(three) == {"p2.jpg": response.json()["error"]["message"]}


def test_both_paths_store_through_upload_add(signed_in, monkeypatch):
    calls = []
    real_add = ingest.Upload.add

    def spy(self, *, filename, data):
        calls.append(filename)
        return real_add(self, filename=filename, data=data)

    monkeypatch.setattr(ingest.Upload, "add", spy)
    response = upload(signed_in, ("rest.jpg", images.jpeg(80, 60, seed=31), "image/jpeg"))
    assert response.status_code == 201 and calls == ["rest.jpg"]
    done = drop([("page.jpg", images.jpeg(80, 60, seed=32)), ("again.jpg", images.jpeg(80, 60, seed=31))])
    assert calls == ["rest.jpg", "page.jpg", "again.jpg"]
    assert [e["state"] for e in done.entries] == ["stored", "duplicate"]
    assert len(done.asset_ids) == 2  # the new one and the one already there, for on_done


def test_scanner_down_stops_both_at_the_same_file_with_the_same_words(signed_in, monkeypatch):
    scanning(monkeypatch, closed_port_url(), mode="closed")
    files = [("a.jpg", images.jpeg(60, 40, seed=41)), ("b.jpg", images.jpeg(60, 40, seed=42))]
    response = upload(signed_in, *[(n, d, "image/jpeg") for n, d in files])
    assert response.status_code == 503
    message = response.json()["error"]["message"]
    assert message.startswith("The virus scanner stopped taking files at a.jpg")
    # The page lists the file it stopped at, and every file after it, with that same sentence.
    assert page_errors(files) == {"a.jpg": message, "b.jpg": message}


def test_a_broken_stream_keeps_what_came_and_says_so_without_the_parser_s_words(signed_in):
    good, cut = images.jpeg(80, 60, seed=51), images.jpeg(640, 480, seed=52)

    async def chunks():
        yield UploadChunk(filename="good.jpg", offset=0, content_type="image/jpeg", data=good)
        yield UploadChunk(filename="cut.jpg", offset=0, content_type="image/jpeg", data=cut[:5000])
        raise ValueError("Invalid upload chunk disposition.")  # what Reflex's parser forwards

    async def report(entries):
        pass

    done = asyncio.run(ingest.ingest_chunks(workspace_id=workspace_id(), chunks=chunks(), report=report))
    assert [(e["name"], e["state"], e["message"]) for e in done.entries] == [
        ("good.jpg", "stored", ""),
        ("cut.jpg", "error", "The upload could not be read from here on. Upload the rest again.")]


def test_an_archive_counts_its_pictures_in_the_badges_and_reads_as_sentences(signed_in):
    """A ZIP of 5 pictures (1 already there) and 3 bad files showed "1 stored · 0 refused" beside a line
    saying 3 were refused, and the refusals were glued as "…again.; empty.jpg"."""
    import io
    import zipfile

    from state.assets import AssetsState

    drop([("known.jpg", images.jpeg(320, 240, seed=40))])
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("known.jpg", images.jpeg(320, 240, seed=40))
        for seed in range(41, 45):
            zf.writestr(f"new{seed}.jpg", images.jpeg(320, 240, seed=seed))
        for name, data in BAD[:3]:
            zf.writestr(name, data)
    done = drop([("shoot.zip", archive.getvalue()), ("loose.jpg", images.jpeg(320, 240, seed=50))])
    line = done.entries[0]["message"]
    assert line.startswith("From the archive: 4 stored, 1 already in your library, 3 refused. "), line
    assert ".;" not in line and "; " not in line
    counts = AssetsState.computed_vars["upload_counts"].fget(type("Page", (), {"uploads": done.entries})())
    assert counts == {"stored": 5, "duplicate": 1, "error": 3, "missing": 0, "uploading": 0}
