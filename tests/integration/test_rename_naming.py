"""Renamer names on photo-like scenes through the real path (API → worker → names → ZIP), issue 17."""

import io
import json
import zipfile

import pyexiv2
import pytest

from app.db import session_scope
from app.models import RenameBatch
from app.services.rename import service as rename
from tests import photos
from tests.integration.test_api_auth import ORIGIN
from tests.integration.test_rename import run_jobs, upload


@pytest.fixture
def signed_in(api, any_db):
    from tests.integration.test_api_auth import login, register

    register(api)
    login(api)
    return api


def batch_of(api, names: list[str], **options) -> dict:
    assets = upload(api, [(name, photos.scene_bytes(name), "image/jpeg") for name in names])
    run_jobs()
    body = {"asset_ids": [a["id"] for a in assets], "options": {"ocr": False, **options}}
    response = api.post("/api/v1/rename/batches", json=body, headers=ORIGIN)
    assert response.status_code == 201, response.text
    run_jobs()
    return api.get(f"/api/v1/rename/batches/{response.json()['id']}").json()


def owner_of(batch: dict) -> int:
    with session_scope() as session:
        return session.get(RenameBatch, batch["id"]).workspace_id


def test_a_name_is_never_worse_than_the_original(signed_in):
    batch = batch_of(signed_in, ["DSC_0412.jpg", "IMG_2001.JPG", "beach-sunset-2.jpg"])
    items = {i["original_name"]: i for i in batch["items"]}
    assert items["DSC_0412.jpg"]["final_name"] == "DSC_0412.jpg"  # not "gray-image-dark.jpg"
    assert items["IMG_2001.jpg"]["final_name"] == "IMG_2001.jpg"
    assert items["beach-sunset-2.jpg"]["final_name"].startswith("beach-sunset")
    assert [items[n]["needs_subject"] for n in items] == [True, True, False]
    assert items["DSC_0412.jpg"]["alt_text"] == "" and items["DSC_0412.jpg"]["confidence"] <= 0.2
    assert "red" in items["DSC_0412.jpg"]["tags"]  # what was measured still goes to the tags


def test_keywords_name_the_rows_without_a_subject_but_never_replace_one(signed_in):
    batch = batch_of(signed_in, ["DSC_0412.jpg", "beach-sunset-2.jpg"], keywords=["Acme"])
    names = [i["final_name"] for i in batch["items"]]
    assert names[0] == "acme.jpg" and names[1].startswith("acme-beach-sunset")
    assert batch["items"][0]["needs_subject"] and not batch["items"][1]["needs_subject"]


def test_add_keyword_reaches_every_name_and_says_so(signed_in):
    batch = batch_of(signed_in, ["DSC_0412.jpg", "beach-sunset-2.jpg", "IMG_2001.JPG"])
    _first, second, third = batch["items"]
    url = f"/api/v1/rename/batches/{batch['id']}/items"
    signed_in.patch(f"{url}/{second['id']}", json={"final_name": "Golden hour"}, headers=ORIGIN)
    signed_in.patch(f"{url}/{third['id']}", json={"final_name": "lawn acme"}, headers=ORIGIN)
    counts = rename.add_keyword(workspace_id=owner_of(batch), batch_id=batch["id"], keyword="Acme")
    assert counts == {"added": 2, "edited": 1, "already": 1, "left": 0}
    after = signed_in.get(f"/api/v1/rename/batches/{batch['id']}").json()["items"]
    # The user's names stay as typed; the keyword goes in front in the batch's case style.
    assert [i["final_name"] for i in after] == ["acme.jpg", "acme-Golden hour.jpg", "lawn acme.jpg"]
    assert after[1]["edited"]


def test_regenerating_with_a_new_keyword_keeps_the_subject_and_the_grid_matches_the_zip(signed_in):
    batch = batch_of(signed_in, ["beach-sunset-2.jpg"])
    item = batch["items"][0]
    owner = owner_of(batch)
    rename.add_keyword(workspace_id=owner, batch_id=batch["id"], keyword="Acme")
    rename.regenerate(workspace_id=owner, batch_id=batch["id"], item_id=item["id"])
    run_jobs()
    after = signed_in.get(f"/api/v1/rename/batches/{batch['id']}").json()["items"][0]
    assert after["fields"]["subject"] == "beach sunset" and after["final_name"].startswith("acme-beach-sunset")
    assert after["confidence"] == item["confidence"] and "acme" not in after["alt_text"].lower()
    archive = zipfile.ZipFile(io.BytesIO(signed_in.get(f"/api/v1/rename/batches/{batch['id']}/download").content))
    assert archive.namelist()[0] == after["final_name"]


def test_exported_files_carry_the_alt_text_in_iptcs_accessibility_field(signed_in):
    batch = batch_of(signed_in, ["beach-sunset-2.jpg", "DSC_0412.jpg"], write_metadata=True)
    archive = zipfile.ZipFile(io.BytesIO(signed_in.get(f"/api/v1/rename/batches/{batch['id']}/download").content))
    described, bare = batch["items"]
    with pyexiv2.ImageData(archive.read(described["final_name"])) as image:
        xmp = image.read_xmp()
    assert xmp["Xmp.iptc.AltTextAccessibility"] == {'lang="x-default"': described["alt_text"]}
    assert xmp["Xmp.dc.description"] == {'lang="x-default"': described["alt_text"]}
    with pyexiv2.ImageData(archive.read(bare["final_name"])) as image:
        assert "Xmp.iptc.AltTextAccessibility" not in image.read_xmp()  # no alt text: none claimed
    manifest = json.loads(archive.read("manifest.json"))["files"]
    assert [m["metadata"] for m in manifest] == ["written", "written"]
