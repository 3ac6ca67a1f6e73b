"""/api/v1/assets: the upload attack set, de-duplication, ownership, downloads, deletion."""

import io

import pytest
from PIL import Image
from rq import SimpleWorker

from app.queue import get_queue
from app.redis_client import get_redis
from app.storage import get_storage
from tests import images
from tests.integration.test_api_auth import ORIGIN, assert_error, login, register


@pytest.fixture
def signed_in(api, any_db):
    register(api)
    login(api)
    return api


def upload(api, *files):
    return api.post("/api/v1/assets", files=[("files", f) for f in files], headers=ORIGIN)


def run_workers():
    SimpleWorker([get_queue("assets")], connection=get_redis()).work(burst=True)


def test_a_mixed_batch_stores_the_good_and_explains_the_bad(signed_in):
    good = [(f"photo {i}.jpg", images.jpeg(320, 240, seed=i), "image/jpeg") for i in range(3)]
    bad = [
        ("empty.jpg", b"", "image/jpeg"),
        ("page.jpg", b"<html><script>alert(1)</script></html>", "image/jpeg"),
        ("bomb.png", images.pixel_flood_png(), "image/png"),
        ("cut.jpg", images.jpeg(640, 480, seed=9)[:3000], "image/jpeg"),
        ("../../etc/passwd", b"root:x:0:0", "text/plain"),
    ]
    response = upload(signed_in, *good, *bad)
    assert response.status_code == 201, response.text
    body = response.json()
    assert [a["filename"] for a in body["assets"]] == ["photo 0.jpg", "photo 1.jpg", "photo 2.jpg"]
    codes = {e["filename"]: e["code"] for e in body["errors"]}
    # Each error names the file as it was sent (extension included), minus any folders.
    assert codes == {"empty.jpg": "empty_file", "page.jpg": "unsupported_type", "bomb.png": "too_many_pixels",
                     "cut.jpg": "corrupt_image", "passwd": "unsupported_type"}
    assert all(e["message"] for e in body["errors"])
    assert len(body["jobs"]) == 1


def test_type_comes_from_the_bytes_and_originals_are_kept_exactly(signed_in):
    data = images.png(64, 48)
    created = upload(signed_in, ("holiday.jpg", data, "image/jpeg")).json()["assets"][0]
    assert (created["mime"], created["filename"], created["width"], created["height"]) == (
        "image/png", "holiday.png", 64, 48)
    download = signed_in.get(f"/api/v1/assets/{created['id']}/download")
    assert download.status_code == 200 and download.content == data
    assert download.headers["content-type"] == "image/png"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["x-content-type-options"] == "nosniff"


def raw_multipart(parts: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    """Build the body by hand: HTTP clients escape the CR/LF an attacker would send raw."""
    boundary = "atelierboundary"
    body = b""
    for name, data in parts:
        body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"".encode()
                 + name.encode() + b"\"\r\nContent-Type: image/jpeg\r\n\r\n" + data + b"\r\n")
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def test_names_are_sanitised(signed_in):
    names = ["photo\u202egpj.exe", "../../../x.jpg", "C:\\temp\\y.jpg", "tab\tbell\x07.jpg"]
    body, content_type = raw_multipart([(n, images.jpeg(40, 40, seed=i)) for i, n in enumerate(names)])
    response = signed_in.post("/api/v1/assets", content=body, headers={**ORIGIN, "content-type": content_type})
    assert [a["filename"] for a in response.json()["assets"]] == ["photogpj.jpg", "x.jpg", "y.jpg", "tabbell.jpg"]


def test_raw_cr_lf_in_names_cannot_inject(signed_in):
    # A lone CR breaks the part header: the whole request is malformed, and says so.
    body, content_type = raw_multipart([("a\rb.jpg", images.jpeg(40, 40))])
    response = signed_in.post("/api/v1/assets", content=body, headers={**ORIGIN, "content-type": content_type})
    assert_error(response, 422, "bad_multipart")
    # CR LF ends the header line early: the rest is a bogus header, the name is cut and cleaned.
    body, content_type = raw_multipart([("a\r\nX-Evil: 1.jpg", images.jpeg(40, 40, seed=5))])
    response = signed_in.post("/api/v1/assets", content=body, headers={**ORIGIN, "content-type": content_type})
    assert response.json()["assets"][0]["filename"] == "_a.jpg"
    # Browsers send CR/LF in names percent-encoded: that arrives as harmless text.
    escaped = upload(signed_in, ("a\r\nb.jpg", images.jpeg(40, 40, seed=7), "image/jpeg")).json()
    assert "\r" not in escaped["assets"][0]["filename"] and "\n" not in escaped["assets"][0]["filename"]


def test_duplicates_are_stored_once(signed_in):
    data = images.jpeg(100, 100, seed=1)
    first = upload(signed_in, ("a.jpg", data, "image/jpeg"), ("b.jpg", data, "image/jpeg")).json()
    again = upload(signed_in, ("c.jpg", data, "image/jpeg")).json()
    ids = {a["id"] for a in first["assets"] + again["assets"]}
    assert len(ids) == 1 and first["duplicates"] == 1 and again["duplicates"] == 1
    assert signed_in.get("/api/v1/assets").json()["total"] == 1


def test_oversized_request_is_refused_before_the_body_is_read(signed_in, monkeypatch):
    from tests.conftest import clear_caches

    monkeypatch.setenv("MAX_UPLOAD_REQUEST_BYTES", "200000")
    clear_caches()
    response = signed_in.post("/api/v1/assets", content=b"x" * 10,
                              headers={**ORIGIN, "content-type": "multipart/form-data; boundary=x",
                                       "content-length": str(10 * 1024 * 1024)})
    assert_error(response, 413, "payload_too_large")


def test_oversized_file_gets_its_own_error(signed_in, monkeypatch):
    from tests.conftest import clear_caches

    monkeypatch.setenv("MAX_UPLOAD_FILE_BYTES", "50000")
    clear_caches()
    body = upload(signed_in, ("big.jpg", images.jpeg(1200, 900, seed=2), "image/jpeg"),
                  ("small.jpg", images.jpeg(40, 40, seed=3), "image/jpeg")).json()
    assert [e["code"] for e in body["errors"]] == ["file_too_large"]
    assert len(body["assets"]) == 1


def test_no_files_and_wrong_content_type(signed_in):
    assert_error(signed_in.post("/api/v1/assets", json={"files": []}, headers=ORIGIN), 422, "multipart_required")
    assert_error(signed_in.post("/api/v1/assets", data={"x": "1"}, files=[("other", ("a", b"1"))],
                                headers=ORIGIN), 422, "no_files")


def test_workers_make_thumbnails_and_metadata(signed_in):
    data = images.jpeg(800, 400, seed=4, exif=images.exif_with_orientation(6))
    asset = upload(signed_in, ("rotated.jpg", data, "image/jpeg")).json()["assets"][0]
    assert asset["status"] == "processing"
    assert_error(signed_in.get(f"/api/v1/assets/{asset['id']}/thumbnail"), 404, "thumbnail_pending")
    run_workers()
    ready = signed_in.get(f"/api/v1/assets/{asset['id']}").json()
    assert ready["status"] == "ready" and ready["has_thumbnail"]
    assert ready["meta"]["exif"]["Make"] == "Atelier Test Camera Co" and len(ready["meta"]["colours"]) == 5
    thumb = signed_in.get(f"/api/v1/assets/{asset['id']}/thumbnail")
    image = Image.open(io.BytesIO(thumb.content))
    assert image.format == "WEBP" and image.height > image.width


def test_a_versioned_thumbnail_is_cached_for_good_and_revalidates_with_its_etag(signed_in):
    asset = upload(signed_in, ("cached.jpg", images.jpeg(300, 200, seed=5), "image/jpeg")).json()["assets"][0]
    run_workers()
    path = f"/api/v1/assets/{asset['id']}/thumbnail"
    versioned = signed_in.get(path + "?v=ready")  # as the grid asks (app.routes.asset_thumbnail_url)
    assert versioned.status_code == 200 and Image.open(io.BytesIO(versioned.content)).format == "WEBP"
    assert versioned.headers["cache-control"] == "private, max-age=31536000, immutable"
    assert versioned.headers["content-type"] == "image/webp"
    assert versioned.headers["content-disposition"] == "inline; filename*=UTF-8''cached.webp"
    plain = signed_in.get(path)
    assert plain.headers["cache-control"] == "private, max-age=300" and plain.content == versioned.content
    tag = plain.headers["etag"]
    assert tag == versioned.headers["etag"] and tag.startswith('"')
    again = signed_in.get(path, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
    assert signed_in.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
    # The ETag is no way around the sign-in: without the cookie the right If-None-Match still gets a 401.
    signed_in.cookies.clear()
    assert_error(signed_in.get(path, headers={"If-None-Match": tag}), 401, "auth_required")


def test_a_thumbnail_whose_file_is_gone_is_a_404_that_says_so(signed_in):
    asset = upload(signed_in, ("gone.jpg", images.jpeg(120, 90, seed=6), "image/jpeg")).json()["assets"][0]
    run_workers()
    from app.db import session_scope
    from app.models import Asset

    with session_scope() as session:
        key = session.get(Asset, asset["id"]).thumb_key
    get_storage().delete(key)
    assert_error(signed_in.get(f"/api/v1/assets/{asset['id']}/thumbnail"), 404, "thumbnail_missing")


def test_only_the_owner_sees_an_asset(signed_in):
    from starlette.testclient import TestClient

    asset = upload(signed_in, ("mine.jpg", images.jpeg(50, 50), "image/jpeg")).json()["assets"][0]
    other = TestClient(signed_in.app, base_url="http://localhost:3000")
    register(other, email="grace@example.com")
    login(other, email="grace@example.com")
    for path in ("", "/download", "/thumbnail"):
        assert_error(other.get(f"/api/v1/assets/{asset['id']}{path}"), 404, "not_found")
    assert_error(other.delete(f"/api/v1/assets/{asset['id']}", headers=ORIGIN), 404, "not_found")
    assert other.get("/api/v1/assets").json()["total"] == 0
    # The same bytes uploaded by someone else are their own asset.
    theirs = upload(other, ("copy.jpg", images.jpeg(50, 50), "image/jpeg")).json()["assets"][0]
    assert theirs["id"] != asset["id"]
    signed_in.cookies.clear()
    assert_error(signed_in.get(f"/api/v1/assets/{asset['id']}"), 401, "auth_required")


def test_delete_removes_the_files(signed_in):
    asset = upload(signed_in, ("gone.jpg", images.jpeg(60, 60), "image/jpeg")).json()["assets"][0]
    run_workers()
    keys = [f"assets/1/{asset['sha256'][:2]}/{asset['sha256']}.jpg", f"thumbs/1/{asset['sha256']}.webp"]
    assert all(get_storage().exists(k) for k in keys)
    assert signed_in.delete(f"/api/v1/assets/{asset['id']}", headers=ORIGIN).status_code == 204
    assert not any(get_storage().exists(k) for k in keys)
    assert_error(signed_in.get(f"/api/v1/assets/{asset['id']}"), 404, "not_found")


def test_list_search_filter_and_paginate(signed_in):
    upload(signed_in, *[(f"beach {i}.jpg", images.jpeg(30, 30, seed=i), "image/jpeg") for i in range(5)],
           ("logo.png", images.png(30, 30), "image/png"))
    page = signed_in.get("/api/v1/assets", params={"limit": 4}).json()
    assert page["total"] == 6 and len(page["assets"]) == 4
    rest = signed_in.get("/api/v1/assets", params={"limit": 4, "offset": 4}).json()
    assert len(rest["assets"]) == 2
    assert signed_in.get("/api/v1/assets", params={"q": "beach"}).json()["total"] == 5
    assert signed_in.get("/api/v1/assets", params={"q": "png"}).json()["total"] == 1
    assert signed_in.get("/api/v1/assets", params={"status": "ready"}).json()["total"] == 0
    assert_error(signed_in.get("/api/v1/assets", params={"status": "weird"}), 422, "invalid_status")


def test_a_zip_upload_stores_its_images_and_reports_its_bad_entries(signed_in):
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("shoot/one.jpg", images.jpeg(50, 50, seed=11))
        archive.writestr("shoot/two.png", images.png(30, 30, seed=12))
        archive.writestr("../escape.jpg", images.jpeg(20, 20, seed=13))
        archive.writestr("notes.txt", b"just text")
    body = upload(signed_in, ("shoot.zip", out.getvalue(), "application/zip")).json()
    assert sorted(a["filename"] for a in body["assets"]) == ["one.jpg", "two.png"]
    assert sorted(e["code"] for e in body["errors"]) == ["unsafe_path", "unsupported_type"]


def test_an_image_made_by_a_job_is_stored_ready_in_one_go(signed_in):
    """store_made: checked, thumbnailed and recorded with its extra rows at once; same bytes kept once."""
    from sqlmodel import select

    from app.db import session_scope
    from app.models import Asset, AuditEvent
    from app.services.assets import service as assets

    calls = []

    def beside(session, asset):
        calls.append(asset.id)
        session.add(AuditEvent(action="test.made", target=f"asset:{asset.id}"))

    data = images.png(300, 200, seed=9)
    first = assets.store_made(workspace_id=1, filename="made.png", data=data, meta={"made": {"by": "test"}},
                              with_asset=beside)
    again = assets.store_made(workspace_id=1, filename="again.png", data=data, meta={"again": True}, with_asset=beside)
    assert first.id == again.id and calls == [first.id, first.id]
    shown = signed_in.get(f"/api/v1/assets/{first.id}").json()
    assert shown["status"] == "ready" and shown["has_thumbnail"] and (shown["width"], shown["height"]) == (300, 200)
    assert shown["meta"]["made"] == {"by": "test"} and shown["meta"]["again"] is True
    assert len(shown["meta"]["colours"]) >= 1 and shown["meta"]["format"] == "PNG"
    thumb = signed_in.get(f"/api/v1/assets/{first.id}/thumbnail")
    assert Image.open(io.BytesIO(thumb.content)).format == "WEBP"
    assert get_queue("assets").count == 0  # no thumbnail job was needed

    with pytest.raises(assets.AppError) as refused:
        assets.store_made(workspace_id=1, filename="broken.png", data=data[: len(data) // 2], meta={},
                          with_asset=beside)
    assert refused.value.code == "corrupt_image"
    with session_scope() as session:
        assert len(session.exec(select(Asset)).all()) == 1
        assert len(session.exec(select(AuditEvent).where(AuditEvent.action == "test.made")).all()) == 2
    assert calls == [first.id, first.id]  # nothing was added beside the refused image
