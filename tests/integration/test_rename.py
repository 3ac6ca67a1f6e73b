"""The renamer end to end on real parts: batch → worker → names → edits → ZIP → apply/undo."""

import csv
import io
import json
import zipfile

import pytest
from rq import SimpleWorker

from app.queue import get_queue
from app.redis_client import get_redis
from tests import images
from tests.integration.test_api_auth import ORIGIN, assert_error, login, register


@pytest.fixture
def signed_in(api, any_db):
    register(api)
    login(api)
    return api


def upload(api, files):
    return api.post("/api/v1/assets", files=[("files", f) for f in files], headers=ORIGIN).json()["assets"]


def run_jobs():
    SimpleWorker([get_queue("default"), get_queue("assets")], connection=get_redis()).work(burst=True)


def make_batch(api, count=4, **options):
    assets = upload(api, [(f"IMG_{1000 + i}.jpg", images.jpeg(320, 240, seed=i), "image/jpeg")
                          for i in range(count)])
    run_jobs()
    body = {"asset_ids": [a["id"] for a in assets], "options": {"keywords": ["Café Crème"], "ocr": False, **options}}
    response = api.post("/api/v1/rename/batches", json=body, headers=ORIGIN)
    assert response.status_code == 201, response.text
    run_jobs()
    return api.get(f"/api/v1/rename/batches/{response.json()['id']}").json(), assets


def test_batch_names_are_composed_unique_and_ascii(signed_in):
    batch, _ = make_batch(signed_in)
    assert batch["status"] == "ready"
    names = [i["final_name"] for i in batch["items"]]
    assert len(set(n.lower() for n in names)) == len(names)
    for item in batch["items"]:
        assert item["status"] == "done" and item["final_name"].isascii()
        assert item["final_name"].startswith("cafe-creme") and item["final_name"].endswith(".jpg")
        assert len(item["final_name"].rsplit(".", 1)[0]) <= 60 + 3
        assert item["original_name"].startswith("IMG_")
        # Noise pictures with camera names: nothing to describe, so no alt text, and the rows are flagged.
        assert item["alt_text"] == "" and item["needs_subject"]


def test_rerunning_gives_the_same_names(signed_in):
    first, assets = make_batch(signed_in, count=3)
    again = signed_in.post("/api/v1/rename/batches", headers=ORIGIN, json={
        "asset_ids": [a["id"] for a in assets], "options": {"keywords": ["Café Crème"], "ocr": False}}).json()
    run_jobs()
    second = signed_in.get(f"/api/v1/rename/batches/{again['id']}").json()
    assert [i["final_name"] for i in first["items"]] == [i["final_name"] for i in second["items"]]


def test_edit_name_and_alt_text(signed_in):
    batch, _ = make_batch(signed_in, count=2)
    first, second = batch["items"]
    url = f"/api/v1/rename/batches/{batch['id']}/items"
    # The name as typed: its letters, case, spaces and "!" (a JPEG keeps .jpg whatever was typed after it).
    edited = signed_in.patch(f"{url}/{first['id']}", json={"final_name": "Été à Paris!.png", "alt_text": "A café"},
                             headers=ORIGIN).json()
    assert edited["final_name"] == "Été à Paris!.jpg" and edited["edited"] and edited["alt_text"] == "A café"
    clash = signed_in.patch(f"{url}/{second['id']}", json={"final_name": "été à paris!"}, headers=ORIGIN).json()
    assert clash["final_name"] == "été à paris!-2.jpg"  # names differing only in case clash on some systems
    assert_error(signed_in.patch(f"{url}/999999", json={"accepted": False}, headers=ORIGIN), 404, "not_found")
    for refused, words in (("", "cannot be empty"), ("  ", "cannot be empty"), ("con", "Windows keeps"),
                           ("a" * 300, "at most 200")):
        answer = signed_in.patch(f"{url}/{first['id']}", json={"final_name": refused}, headers=ORIGIN)
        assert_error(answer, 422, "validation_failed")
        assert words in answer.json()["error"]["message"]
    assert signed_in.get(f"/api/v1/rename/batches/{batch['id']}").json()["items"][0]["final_name"] == \
        "Été à Paris!.jpg"  # refused, not replaced


def test_zip_holds_the_renamed_originals_and_a_matching_manifest(signed_in):
    batch, _assets = make_batch(signed_in, count=3)
    signed_in.patch(f"/api/v1/rename/batches/{batch['id']}/items/{batch['items'][2]['id']}",
                    json={"accepted": False}, headers=ORIGIN)
    response = signed_in.get(f"/api/v1/rename/batches/{batch['id']}/download")
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.testzip() is None
    kept = batch["items"][:2]
    assert archive.namelist() == [i["final_name"] for i in kept] + ["manifest.csv", "manifest.json"]
    for item in kept:
        info = archive.getinfo(item["final_name"])
        assert info.compress_type == zipfile.ZIP_STORED
        original = signed_in.get(f"/api/v1/assets/{item['asset_id']}/download").content
        assert archive.read(item["final_name"]) == original
    manifest = json.loads(archive.read("manifest.json"))["files"]
    rows = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode())))
    assert [m["new_name"] for m in manifest] == [r["new_name"] for r in rows] == [i["final_name"] for i in kept]
    assert [m["original_name"] for m in manifest] == [i["original_name"] for i in kept]
    assert all(len(m["sha256"]) == 64 for m in manifest)
    assert [m["alt_text"] for m in manifest] == [i["alt_text"] for i in kept]


def test_apply_to_library_and_undo(signed_in):
    batch, _assets = make_batch(signed_in, count=2)
    assert signed_in.post(f"/api/v1/rename/batches/{batch['id']}/apply", headers=ORIGIN).json() == {"renamed": 2}
    names = {a["filename"] for a in signed_in.get("/api/v1/assets").json()["assets"]}
    assert names == {i["final_name"] for i in batch["items"]}
    assert signed_in.post(f"/api/v1/rename/batches/{batch['id']}/undo", headers=ORIGIN).json() == {"restored": 2}
    names = {a["filename"] for a in signed_in.get("/api/v1/assets").json()["assets"]}
    assert names == {i["original_name"] for i in batch["items"]}


def test_quota_refuses_a_batch_up_front(signed_in, monkeypatch):
    from tests.conftest import clear_caches

    monkeypatch.setenv("RENAME_MONTHLY_IMAGES", "3")
    clear_caches()
    assets = upload(signed_in, [(f"q{i}.jpg", images.jpeg(60, 60, seed=i), "image/jpeg") for i in range(4)])
    response = signed_in.post("/api/v1/rename/batches", headers=ORIGIN,
                              json={"asset_ids": [a["id"] for a in assets]})
    assert_error(response, 403, "quota_exceeded")
    assert "3" in response.json()["error"]["message"]
    assert signed_in.get("/api/v1/rename/batches").json()["batches"] == []
    assert signed_in.get("/api/v1/jobs").json()["total"] == 1  # only the thumbnail job


def test_bad_options_and_foreign_assets_are_refused(signed_in):
    from starlette.testclient import TestClient

    mine = upload(signed_in, [("mine.jpg", images.jpeg(60, 60), "image/jpeg")])[0]
    for options in ({"template": "{nope}"}, {"case": "upper"}, {"max_length": 5}, {"provider": "nobody"}):
        response = signed_in.post("/api/v1/rename/batches", headers=ORIGIN,
                                  json={"asset_ids": [mine["id"]], "options": options})
        assert response.status_code == 422, response.text
        assert response.json()["error"]["message"]
    assert signed_in.get("/api/v1/rename/batches").json()["batches"] == []
    other = TestClient(signed_in.app, base_url="http://localhost:3000")
    register(other, email="grace@example.com")
    login(other, email="grace@example.com")
    assert_error(other.post("/api/v1/rename/batches", headers=ORIGIN, json={"asset_ids": [mine["id"]]}),
                 404, "unknown_assets")


def test_multipart_batch_with_a_bad_file(signed_in):
    response = signed_in.post("/api/v1/rename/batches", headers=ORIGIN, data={"options": json.dumps({"ocr": False})},
                              files=[("files", ("a.jpg", images.jpeg(80, 60), "image/jpeg")),
                                     ("files", ("b.jpg", b"not an image", "image/jpeg"))])
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["image_count"] == 1 and [e["code"] for e in body["errors"]] == ["unsupported_type"]


def test_batches_are_private(signed_in):
    from starlette.testclient import TestClient

    batch, _ = make_batch(signed_in, count=1)
    other = TestClient(signed_in.app, base_url="http://localhost:3000")
    register(other, email="grace@example.com")
    login(other, email="grace@example.com")
    for path in ("", "/download"):
        assert_error(other.get(f"/api/v1/rename/batches/{batch['id']}{path}"), 404, "not_found")
    assert_error(other.post(f"/api/v1/rename/batches/{batch['id']}/apply", headers=ORIGIN), 404, "not_found")


def test_the_manifest_alone_can_undo_a_rename(signed_in):
    batch, _ = make_batch(signed_in, count=2)
    archive = zipfile.ZipFile(io.BytesIO(signed_in.get(f"/api/v1/rename/batches/{batch['id']}/download").content))
    manifest = json.loads(archive.read("manifest.json"))
    signed_in.post(f"/api/v1/rename/batches/{batch['id']}/apply", headers=ORIGIN)
    tampered = manifest["files"] + [{"asset_id": 99999, "new_name": "x.jpg", "original_name": "y.jpg"}, {"bad": 1}]
    answer = signed_in.post("/api/v1/rename/undo-manifest", json={"files": tampered}, headers=ORIGIN)
    assert answer.json() == {"restored": 2}
    names = {a["filename"] for a in signed_in.get("/api/v1/assets").json()["assets"]}
    assert names == {i["original_name"] for i in batch["items"]}


def test_image_descriptions_are_reused_until_they_are_too_old_then_forgotten(signed_in, monkeypatch):
    from datetime import timedelta

    from sqlmodel import select

    from app.db import session_scope
    from app.models import VisionCache, utcnow
    from jobs.worker import reap_once
    from tests.conftest import clear_caches

    def rows() -> dict[str, object]:
        with session_scope() as session:
            return {r.key: r.created_at for r in session.exec(select(VisionCache)).all()}

    def age(key: str, days: int) -> None:
        with session_scope() as session:
            row = session.get(VisionCache, key)
            row.created_at = utcnow() - timedelta(days=days)
            session.add(row)

    _, assets = make_batch(signed_in, count=3)
    first = rows()
    stale, kept, purged = sorted(first)
    age(stale, 91)
    again = signed_in.post("/api/v1/rename/batches", headers=ORIGIN, json={
        "asset_ids": [a["id"] for a in assets], "options": {"keywords": ["Café Crème"], "ocr": False}})
    assert again.status_code == 201
    run_jobs()
    second = rows()
    assert set(second) == set(first)
    assert second[kept] == first[kept] and second[purged] == first[purged]  # reused as they were
    assert second[stale] > first[stale]  # described again and stored afresh
    age(purged, 200)
    reap_once()  # the worker's reaper pass deletes what is past VISION_CACHE_DAYS
    assert set(rows()) == {stale, kept}

    monkeypatch.setenv("VISION_CACHE_DAYS", "0")  # keep forever: however old, reused and not purged
    clear_caches()
    age(kept, 5000)
    before = rows()
    signed_in.post("/api/v1/rename/batches", headers=ORIGIN, json={
        "asset_ids": [a["id"] for a in assets], "options": {"keywords": ["Café Crème"], "ocr": False}})
    run_jobs()
    get_redis().delete("atelier:reaper", "atelier:vision-cache-purge")  # a pass that would purge, now
    reap_once()
    assert rows()[kept] == before[kept] and len(rows()) == 3  # the third image was described afresh


def test_regenerating_a_row_points_the_batch_at_the_new_job(signed_in):
    from app.db import session_scope
    from app.models import Job, RenameBatch
    from app.services.rename import service as rename

    batch, _ = make_batch(signed_in, count=2)
    workspace_id = signed_in.get("/api/v1/me").json()["id"]
    item_id = batch["items"][1]["id"]
    job_id = rename.regenerate(workspace_id=workspace_id, batch_id=batch["id"], item_id=item_id)
    with session_scope() as session:
        # The grid follows batch.job_id: it must be the job doing the work now, not the finished first one.
        assert session.get(RenameBatch, batch["id"]).job_id == job_id != batch["job_id"]
        assert session.get(Job, job_id).status == "queued"
    run_jobs()
    again = signed_in.get(f"/api/v1/rename/batches/{batch['id']}").json()
    assert again["status"] == "ready" and again["job_id"] == job_id
    assert [i["status"] for i in again["items"]] == ["done", "done"]
