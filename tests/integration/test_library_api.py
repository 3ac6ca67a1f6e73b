"""The library over HTTP: asset detail and edits, collections, bulk actions with Undo, a ZIP of originals,
and the renamer's apply/undo of names, alt text and tags. Two accounts; each test on SQLite and PostgreSQL."""

import io
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


def work():
    SimpleWorker([get_queue("default"), get_queue("assets")], connection=get_redis()).work(burst=True)


def upload(api, count, name="IMG"):
    files = [("files", (f"{name}_{100 + i}.jpg", images.jpeg(240, 160, seed=i + len(name)), "image/jpeg"))
             for i in range(count)]
    return [a["id"] for a in api.post("/api/v1/assets", files=files, headers=ORIGIN).json()["assets"]]


def as_other(api):
    """The same client signed in as a second user (the cookie is replaced)."""
    register(api, email="grace@example.com", name="Grace")
    login(api, email="grace@example.com")
    return api


def test_detail_and_patch(signed_in):
    (asset_id,) = upload(signed_in, 1)
    work()
    detail = signed_in.get(f"/api/v1/assets/{asset_id}").json()
    assert detail["filename"] == "IMG_100.jpg" and detail["sha256"] and detail["has_thumbnail"]  # kept fields
    assert {k: detail[k] for k in ("alt_text", "tags", "origin", "source_asset_id", "collections", "taken_at",
                                   "camera")} == {"alt_text": "", "tags": [], "origin": "upload",
                                                  "source_asset_id": None, "collections": [], "taken_at": None,
                                                  "camera": ""}
    assert detail["colour"]
    edited = signed_in.patch(f"/api/v1/assets/{asset_id}", headers=ORIGIN,
                             json={"filename": "Harbour at night", "alt_text": " Boats ", "tags": ["Sea", "sea"]})
    assert edited.status_code == 200, edited.text
    assert (edited.json()["filename"], edited.json()["alt_text"], edited.json()["tags"]) == \
        ("Harbour at night.jpg", "Boats", ["sea"])
    assert_error(signed_in.patch(f"/api/v1/assets/{asset_id}", headers=ORIGIN, json={"tags": ["x" * 61]}),
                 422, "tag_too_long")
    assert_error(signed_in.patch(f"/api/v1/assets/{asset_id}", headers=ORIGIN, json={"workspace_id": 2}),
                 422, "validation_failed")
    assert signed_in.get(f"/api/v1/assets/{asset_id}").json()["tags"] == ["sea"]  # the refused edit left it
    other = as_other(signed_in)
    assert_error(other.get(f"/api/v1/assets/{asset_id}"), 404, "not_found")
    assert_error(other.patch(f"/api/v1/assets/{asset_id}", headers=ORIGIN, json={"alt_text": "mine"}),
                 404, "not_found")


def test_collections_over_http(signed_in):
    ids = upload(signed_in, 2)
    trips = signed_in.post("/api/v1/collections", json={"name": "Trips"}, headers=ORIGIN)
    assert trips.status_code == 201, trips.text
    trips = trips.json()
    rome = signed_in.post("/api/v1/collections", json={"name": "Rome", "parent_id": trips["id"]},
                          headers=ORIGIN).json()
    assert_error(signed_in.post("/api/v1/collections", json={"name": "Day", "parent_id": rome["id"]},
                                headers=ORIGIN), 422, "too_deep")
    assert_error(signed_in.post("/api/v1/collections", json={"name": "trips"}, headers=ORIGIN), 409, "name_taken")
    assert_error(signed_in.post("/api/v1/collections", json={"name": ""}, headers=ORIGIN), 422, "invalid_name")
    added = signed_in.post(f"/api/v1/collections/{rome['id']}/assets", json={"asset_ids": ids}, headers=ORIGIN)
    assert added.json() == {"changed": 2}
    tree = signed_in.get("/api/v1/collections").json()["collections"]
    assert tree[0]["name"] == "Trips" and tree[0]["children"][0]["count"] == 2
    assert signed_in.get(f"/api/v1/assets/{ids[0]}").json()["collections"] == [
        {"id": rome["id"], "name": "Rome", "parent_id": trips["id"]}]
    removed = signed_in.request("DELETE", f"/api/v1/collections/{rome['id']}/assets", json={"asset_ids": ids[:1]},
                                headers=ORIGIN)
    assert removed.json() == {"changed": 1}
    renamed = signed_in.patch(f"/api/v1/collections/{rome['id']}", json={"name": "Roma"}, headers=ORIGIN)
    assert renamed.json()["name"] == "Roma"
    other = as_other(signed_in)
    mine = upload(other, 1, name="G")
    assert_error(other.post(f"/api/v1/collections/{rome['id']}/assets", json={"asset_ids": mine}, headers=ORIGIN),
                 404, "not_found")
    assert_error(other.delete(f"/api/v1/collections/{trips['id']}", headers=ORIGIN), 404, "not_found")
    login(other)  # back to the first account
    assert signed_in.delete(f"/api/v1/collections/{trips['id']}", headers=ORIGIN).status_code == 204
    assert signed_in.get("/api/v1/collections").json() == {"collections": []}
    assert signed_in.get(f"/api/v1/assets/{ids[1]}").status_code == 200  # the pictures stay


def test_bulk_delete_undo_and_foreign_ids_over_http(signed_in):
    ids = upload(signed_in, 3)
    tagged = signed_in.post("/api/v1/assets/bulk", json={"action": "tag", "asset_ids": ids, "value": ["trip"]},
                            headers=ORIGIN)
    assert tagged.json() == {"changed": 3, "undo_until": None}
    deleted = signed_in.post("/api/v1/assets/bulk", json={"action": "delete", "asset_ids": ids[:2]}, headers=ORIGIN)
    assert deleted.json()["changed"] == 2 and deleted.json()["undo_until"]
    for path in (f"/api/v1/assets/{ids[0]}", f"/api/v1/assets/{ids[0]}/download"):
        assert_error(signed_in.get(path), 404, "not_found")
    assert_error(signed_in.post("/api/v1/assets/zip", json={"asset_ids": ids}, headers=ORIGIN), 404, "unknown_assets")
    restored = signed_in.post("/api/v1/assets/bulk", json={"action": "restore", "asset_ids": ids[:2]}, headers=ORIGIN)
    assert restored.json()["changed"] == 2
    assert signed_in.get(f"/api/v1/assets/{ids[0]}").json()["tags"] == ["trip"]  # back as it was
    assert_error(signed_in.post("/api/v1/assets/bulk", json={"action": "shred", "asset_ids": ids}, headers=ORIGIN),
                 422, "validation_failed")
    too_many = signed_in.post("/api/v1/assets/bulk", json={"action": "delete", "asset_ids": list(range(1, 10_002))},
                              headers=ORIGIN)
    assert_error(too_many, 422, "validation_failed")
    other = as_other(signed_in)
    theirs = upload(other, 1, name="G")
    refused = other.post("/api/v1/assets/bulk", json={"action": "delete", "asset_ids": [*theirs, ids[2]]},
                         headers=ORIGIN)
    assert_error(refused, 404, "unknown_assets")
    assert other.get(f"/api/v1/assets/{theirs[0]}").status_code == 200  # nothing changed, not even their own
    login(other)
    assert signed_in.get(f"/api/v1/assets/{ids[2]}").status_code == 200


def test_zip_of_originals_over_http(signed_in):
    ids = upload(signed_in, 2)
    response = signed_in.post("/api/v1/assets/zip", json={"asset_ids": ids}, headers=ORIGIN)
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    assert "attachment" in response.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
        assert sorted(zf.namelist()) == ["IMG_100.jpg", "IMG_101.jpg"]
        assert zf.read("IMG_100.jpg") == images.jpeg(240, 160, seed=3)


def test_rename_apply_stores_alt_text_and_tags_and_undo_restores_all_three(signed_in):
    ids = upload(signed_in, 2)
    work()
    # What the designer had before: undo must come back to exactly this, not to blanks.
    signed_in.patch(f"/api/v1/assets/{ids[0]}", headers=ORIGIN, json={"alt_text": "Mine", "tags": ["kept"]})
    batch = signed_in.post("/api/v1/rename/batches", headers=ORIGIN, json={
        "asset_ids": ids, "options": {"keywords": ["Harbour"], "ocr": False}}).json()
    work()
    items = signed_in.get(f"/api/v1/rename/batches/{batch['id']}").json()["items"]
    url = f"/api/v1/rename/batches/{batch['id']}/items"
    signed_in.patch(f"{url}/{items[0]['id']}", json={"alt_text": "Boats in a harbour at night"}, headers=ORIGIN)
    assert signed_in.post(f"/api/v1/rename/batches/{batch['id']}/apply", headers=ORIGIN).json() == {"renamed": 2}
    applied = signed_in.get(f"/api/v1/assets/{ids[0]}").json()
    assert applied["filename"] == items[0]["final_name"]
    assert applied["alt_text"] == "Boats in a harbour at night"
    assert "harbour" in applied["tags"] and "kept" in applied["tags"]
    second = signed_in.get(f"/api/v1/assets/{ids[1]}").json()
    assert second["alt_text"] == "" and "harbour" in second["tags"]  # no alt text found wipes nothing
    # Applying twice changes nothing and keeps the first "before" for Undo.
    assert signed_in.post(f"/api/v1/rename/batches/{batch['id']}/apply", headers=ORIGIN).json() == {"renamed": 0}
    assert signed_in.post(f"/api/v1/rename/batches/{batch['id']}/undo", headers=ORIGIN).json() == {"restored": 2}
    undone = signed_in.get(f"/api/v1/assets/{ids[0]}").json()
    assert (undone["filename"], undone["alt_text"], undone["tags"]) == ("IMG_100.jpg", "Mine", ["kept"])
    assert signed_in.get(f"/api/v1/assets/{ids[1]}").json()["tags"] == []


def test_patch_touches_only_what_it_sends_and_can_refuse_a_stale_edit(signed_in):
    (asset_id,) = upload(signed_in, 1)
    url = f"/api/v1/assets/{asset_id}"
    signed_in.patch(url, headers=ORIGIN, json={"filename": "Harbour", "alt_text": "Boats"})
    assert signed_in.patch(url, headers=ORIGIN, json={"tags": ["sea"]}).json()["filename"] == "Harbour.jpg"
    # A client that read the alt text as "" before someone wrote "Boats": refused, and nothing changes.
    stale = signed_in.patch(url, headers=ORIGIN, json={"alt_text": "Night", "tags": ["port"],
                                                      "expected": {"alt_text": "", "tags": ["sea"]}})
    assert_error(stale, 409, "edit_conflict")
    assert stale.json()["error"]["details"] == {"current": {"alt_text": "Boats"}}
    now = signed_in.get(url).json()
    assert (now["alt_text"], now["tags"]) == ("Boats", ["sea"])
    # What it read is still what is stored: the edit goes through (tags compare as a set, any case).
    fresh = signed_in.patch(url, headers=ORIGIN, json={"alt_text": "Night", "tags": ["port"],
                                                      "expected": {"alt_text": "Boats", "tags": ["Sea"]}})
    assert fresh.status_code == 200, fresh.text
    assert (fresh.json()["alt_text"], fresh.json()["tags"]) == ("Night", ["port"])
    assert_error(signed_in.patch(url, headers=ORIGIN, json={"filename": " "}), 422, "invalid_filename")
