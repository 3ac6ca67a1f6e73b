"""The library's data on real parts: origin and lineage where pictures are made, camera/date/colour from EXIF,
tags and alt text with the search column, collections, bulk actions with Undo and the reaper's purge, the
renamer's apply/undo of names, alt text and tags. Each test runs on SQLite and PostgreSQL."""

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import ExifTags, Image, ImageDraw, ImageFont
from rq import SimpleWorker
from sqlalchemy import text, update
from sqlmodel import col, select

from app.db import session_scope
from app.errors import Conflict, NotFound, ValidationFailed
from app.models import Asset, AssetTag, CollectionAsset, utcnow
from app.queue import get_queue
from app.redis_client import get_redis
from app.services.assets import service as assets
from app.services.library import bulk, collections, tags
from app.storage import get_storage
from tests import images
from tests.integration.test_accounts import register


@pytest.fixture
def ada(any_db):
    return register("ada@example.com")


@pytest.fixture
def grace(ada):
    return register("grace@example.com")


def work() -> None:
    SimpleWorker([get_queue("default"), get_queue("assets")], connection=get_redis()).work(burst=True)


def stored(workspace_id: int, count: int = 1, name: str = "photo") -> list[int]:
    return [assets.store_one(workspace_id=workspace_id, filename=f"{name}-{i}.jpg", data=images.jpeg(200, 150,
                                                                                                     seed=i))[0].id
            for i in range(count)]


def camera_jpeg() -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Canon"
    exif[ExifTags.Base.Model] = "Canon EOS R5"
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = "2024:05:01 10:30:00"
    return images.encode(Image.new("RGB", (300, 200), (30, 70, 220)), "JPEG", quality=90, exif=exif.tobytes())


def row(asset_id: int) -> Asset:
    with session_scope() as session:
        return session.get(Asset, asset_id)


def fts_hits(word: str) -> set[int]:
    """What the full-text index (not the column) finds: FTS5 on SQLite, the GIN-indexed tsvector on PostgreSQL."""
    with session_scope() as session:
        if session.get_bind().dialect.name == "sqlite":
            rows = session.execute(text("SELECT rowid FROM asset_fts WHERE asset_fts MATCH :w"), {"w": word})
        else:
            rows = session.execute(text("SELECT id FROM asset WHERE search_tsv @@ plainto_tsquery('simple', :w)"),
                                   {"w": word})
        return {r[0] for r in rows}


def test_an_upload_gets_its_origin_camera_date_and_colour_from_the_thumbnail_job(ada):
    asset, _ = assets.store_one(workspace_id=ada.workspace_id, filename="beach-sunset.jpg", data=camera_jpeg())
    assert asset.origin == "upload" and asset.source_asset_id is None
    assert "sunset" in asset.search_text and asset.camera == ""  # searchable at once, by its name
    assets.submit_processing(workspace_id=ada.workspace_id, asset_ids=[asset.id])
    work()
    done = row(asset.id)
    assert done.status == "ready"
    assert done.camera == "Canon EOS R5" and done.colour == "blue"
    assert done.taken_at.replace(tzinfo=None).isoformat() == "2024-05-01T10:30:00"
    assert "canon eos r5" in done.search_text and asset.id in fts_hits("canon")


def test_tags_and_alt_text_are_cleaned_owned_and_searchable(ada, grace):
    (asset_id,) = stored(ada.id)
    assert tags.normalise_tags(["  Summer   Sky ", "summer sky", "Été"]) == ["summer sky", "été"]
    for bad, code in ([""], "invalid_tag"), (["   "], "invalid_tag"), (["a\x00b"], "invalid_tag"), \
                     (["x" * 61], "tag_too_long"), ([f"t{i}" for i in range(51)], "too_many_tags"):
        with pytest.raises(ValidationFailed) as refused:
            tags.normalise_tags(bad)
        assert refused.value.code == code
    with session_scope() as session:
        assert tags.set_tags(session=session, workspace_id=ada.workspace_id, asset_id=asset_id, tags=["Lighthouse",
                                                                                                      "coast"]) \
            == ["coast", "lighthouse"]
        assert tags.add_tags(session=session, workspace_id=ada.workspace_id, asset_id=asset_id, tags=["Dusk",
                                                                                                      "coast"]) \
            == ["coast", "dusk", "lighthouse"]
        assert tags.remove_tags(session=session, workspace_id=ada.workspace_id, asset_id=asset_id, tags=["COAST"]) \
            == ["dusk", "lighthouse"]
        assert tags.set_alt_text(session=session, workspace_id=ada.workspace_id, asset_id=asset_id,
                                 text="  A red   lighthouse at dusk ") == "A red lighthouse at dusk"
    assert asset_id in fts_hits("lighthouse") and asset_id not in fts_hits("coast")
    edited = tags.edit_asset(workspace_id=ada.workspace_id, asset_id=asset_id, filename="harbour/night.png",
                             alt_text="",
                             tags=["harbour"])
    assert edited.filename == "night.jpg"  # no folders; the extension stays the file's own
    assert asset_id in fts_hits("night") and asset_id not in fts_hits("lighthouse")
    with pytest.raises(ValidationFailed):
        tags.edit_asset(workspace_id=ada.workspace_id, asset_id=asset_id, alt_text="x" * 301)
    # Someone else's picture reads as missing, and nothing of it changes.
    with pytest.raises(NotFound), session_scope() as session:
        tags.set_tags(session=session, workspace_id=grace.workspace_id, asset_id=asset_id, tags=["mine"])
    with pytest.raises(NotFound):
        tags.edit_asset(workspace_id=grace.workspace_id, asset_id=asset_id, alt_text="mine")
    with session_scope() as session:
        assert tags.tags_of(session=session, asset_id=asset_id) == ["harbour"]
    assert row(asset_id).alt_text == ""


def test_generated_images_are_generated(ada):
    from jobs import generate  # noqa: F401  (the job module that calls store_made)

    made = assets.store_made(workspace_id=ada.workspace_id, filename="gen.png", data=images.png(seed=3), meta={},
                             origin="generated")
    assert made.origin == "generated" and made.colour and made.search_text


@pytest.fixture
def signed_in(api, any_db):
    from tests.integration.test_api_auth import login
    from tests.integration.test_api_auth import register as register_api

    register_api(api)
    login(api)
    return api


def test_generation_workflow_and_slide_pictures_say_where_they_came_from(signed_in):
    from tests.integration.test_api_auth import ORIGIN

    generation = signed_in.post("/api/v1/images/generations", json={"prompt": "a calm forest morning", "seed": 4,
                                                                    "size": "512x512"}, headers=ORIGIN).json()
    upload = signed_in.post("/api/v1/assets", headers=ORIGIN, files=[
        ("files", ("source.jpg", images.jpeg(900, 600, seed=1), "image/jpeg"))]).json()["assets"][0]
    run = signed_in.post("/api/v1/workflows/social_preset/runs", headers=ORIGIN,
                         json={"asset_ids": [upload["id"]], "params": {"preset": "instagram_story"}}).json()
    deck = signed_in.post("/api/v1/slides", json={"topic": "City cycling", "slides": 3}, headers=ORIGIN).json()
    outline = deck["outline"]
    outline["slides"][1].update(layout="image_text", image={"prompt": "a quiet street lined with trees"})
    assert signed_in.put(f"/api/v1/slides/{deck['id']}/outline", json=outline, headers=ORIGIN).status_code == 200
    assert signed_in.post(f"/api/v1/slides/{deck['id']}/generate", headers=ORIGIN).status_code == 202
    work()
    image = signed_in.get(f"/api/v1/images/generations/{generation['id']}").json()["images"][0]
    made = signed_in.get(f"/api/v1/assets/{image['asset']['id']}").json()
    assert made["origin"] == "generated" and made["source_asset_id"] is None and made["colour"]
    (output,) = signed_in.get(f"/api/v1/workflow-runs/{run['id']}").json()["items"][0]["output_asset_ids"]
    out = signed_in.get(f"/api/v1/assets/{output}").json()
    assert out["origin"] == "workflow" and out["source_asset_id"] == upload["id"]
    assert signed_in.get(f"/api/v1/assets/{upload['id']}").json()["origin"] == "upload"
    slide = signed_in.get(f"/api/v1/slides/{deck['id']}").json()["outline"]["slides"][1]
    picture = signed_in.get(f"/api/v1/assets/{slide['image']['asset_id']}").json()
    assert picture["origin"] == "slide" and picture["source_asset_id"] is None


def test_collections_nest_once_have_unique_names_and_hold_only_the_owners_pictures(ada, grace):
    mine, theirs = stored(ada.id, 3), stored(grace.id, 1, name="g")
    trips = collections.create(workspace_id=ada.workspace_id, name="  Trips ")
    rome = collections.create(workspace_id=ada.workspace_id, name="Rome", parent_id=trips.id)
    assert trips.name == "Trips"
    with pytest.raises(ValidationFailed) as deep:
        collections.create(workspace_id=ada.workspace_id, name="Day 1", parent_id=rome.id)
    assert deep.value.code == "too_deep"
    for taken in (dict(name="trips"), dict(name="ROME", parent_id=trips.id)):
        with pytest.raises(Conflict) as twin:
            collections.create(workspace_id=ada.workspace_id, **taken)
        assert twin.value.code == "name_taken"
    collections.create(workspace_id=ada.workspace_id, name="Rome")  # the same name elsewhere in the tree is fine
    collections.create(workspace_id=grace.workspace_id, name="Trips")  # and another owner's names are theirs
    for bad in ("", "   ", "x" * 81):
        with pytest.raises(ValidationFailed):
            collections.create(workspace_id=ada.workspace_id, name=bad)
    with pytest.raises(NotFound):  # a parent of someone else's
        collections.create(workspace_id=grace.workspace_id, name="Mine", parent_id=trips.id)
    assert collections.add_assets(workspace_id=ada.workspace_id, collection_id=rome.id, asset_ids=mine) == 3
    assert collections.add_assets(workspace_id=ada.workspace_id, collection_id=rome.id,
                                  asset_ids=mine[:2]) == 0  # idempotent
    for foreign in ([*mine, theirs[0]], [10**9]):
        with pytest.raises(NotFound) as refused:
            collections.add_assets(workspace_id=ada.workspace_id, collection_id=trips.id, asset_ids=foreign)
        assert str(theirs[0]) not in refused.value.message
    with pytest.raises(NotFound):
        collections.add_assets(workspace_id=grace.workspace_id, collection_id=rome.id, asset_ids=theirs)
    assert collections.remove_assets(workspace_id=ada.workspace_id, collection_id=rome.id, asset_ids=[mine[0]]) == 1
    with session_scope() as session:
        tree = collections.list_collections(session=session, workspace_id=ada.workspace_id)
        assert [(c["name"], c["count"], [k["name"] for k in c["children"]]) for c in tree] == \
            [("Rome", 0, []), ("Trips", 0, ["Rome"])]
        assert tree[1]["children"][0]["count"] == 2
        assert [c.name for c in collections.collections_of(session=session, asset_id=mine[1])] == ["Rome"]
    renamed = collections.rename(workspace_id=ada.workspace_id, collection_id=rome.id, name="Roma")
    assert renamed.name == "Roma"
    assert collections.delete_collection(workspace_id=ada.workspace_id, collection_id=trips.id) == 2
    with session_scope() as session:
        assert [c["name"] for c in collections.list_collections(session=session,
                                                                workspace_id=ada.workspace_id)] == ["Rome"]
        assert session.exec(select(CollectionAsset)).all() == []
        assert len(session.exec(select(Asset).where(col(Asset.id).in_(mine))).all()) == 3  # pictures stay


def test_bulk_refuses_a_foreign_id_as_a_whole_and_changes_nothing(ada, grace):
    mine, theirs = stored(ada.id, 3), stored(grace.id, 1, name="g")
    album = collections.create(workspace_id=ada.workspace_id, name="Album")
    other = collections.create(workspace_id=grace.workspace_id, name="Other")
    for action, value in (("tag", "x"), ("untag", "x"), ("collect", album.id), ("uncollect", album.id),
                          ("delete", None), ("restore", None)):
        with pytest.raises(NotFound):
            bulk.bulk(workspace_id=ada.workspace_id, action=action, asset_ids=[*mine, theirs[0]], value=value)
    with pytest.raises(NotFound):  # someone else's collection
        bulk.bulk(workspace_id=ada.workspace_id, action="collect", asset_ids=mine, value=other.id)
    with pytest.raises(ValidationFailed):
        bulk.bulk(workspace_id=ada.workspace_id, action="delete", asset_ids=list(range(1, 10_002)))
    with pytest.raises(ValidationFailed):
        bulk.bulk(workspace_id=ada.workspace_id, action="burn", asset_ids=mine)
    with pytest.raises(ValidationFailed):
        bulk.bulk(workspace_id=ada.workspace_id, action="tag", asset_ids=mine, value=7)
    with session_scope() as session:
        assert session.exec(select(AssetTag)).all() == [] and session.exec(select(CollectionAsset)).all() == []
        assert all(a.deleted_at is None for a in session.exec(select(Asset)).all())
    assert bulk.bulk(workspace_id=ada.workspace_id, action="tag", asset_ids=mine, value=["Trip", "sea"]).changed == 3
    assert bulk.bulk(workspace_id=ada.workspace_id, action="tag", asset_ids=mine, value="trip").changed == 0
    assert bulk.bulk(workspace_id=ada.workspace_id, action="untag", asset_ids=mine[:1], value="sea").changed == 1
    assert mine[0] in fts_hits("trip") and fts_hits("sea") == set(mine[1:])
    assert bulk.bulk(workspace_id=ada.workspace_id, action="collect", asset_ids=mine, value=album.id).changed == 3
    assert bulk.bulk(workspace_id=ada.workspace_id, action="uncollect", asset_ids=mine[:2], value=album.id).changed == 2


def test_bulk_delete_hides_restore_brings_back_and_the_reaper_purges_after_the_window(ada):
    from jobs import periodic

    keep, gone = stored(ada.id, 2)
    bulk.bulk(workspace_id=ada.workspace_id, action="tag", asset_ids=[keep, gone], value="x")
    deleted = bulk.bulk(workspace_id=ada.workspace_id, action="delete", asset_ids=[keep, gone])
    assert deleted.changed == 2 and deleted.undo_until > utcnow() + timedelta(seconds=100)
    with session_scope() as session, pytest.raises(NotFound):
        assets.get_asset(session=session, workspace_id=ada.workspace_id, asset_id=keep)
    with pytest.raises(NotFound):  # nothing else can act on it either
        bulk.bulk(workspace_id=ada.workspace_id, action="tag", asset_ids=[keep], value="y")
    # Uploading the same bytes again while it waits for Undo brings it back rather than hiding the upload.
    again, created = assets.store_one(workspace_id=ada.workspace_id, filename="again.jpg", data=images.jpeg(200, 150,
                                                                                                            seed=0))
    assert (again.id, created, row(again.id).deleted_at) == (keep, False, None)
    bulk.bulk(workspace_id=ada.workspace_id, action="delete", asset_ids=[keep])
    assert bulk.bulk(workspace_id=ada.workspace_id, action="restore", asset_ids=[keep]).changed == 1
    with session_scope() as session:
        assert assets.get_asset(session=session, workspace_id=ada.workspace_id, asset_id=keep).deleted_at is None
        # The window passes for the other one: it cannot come back, and the reaper removes it for good.
        session.execute(update(Asset).where(col(Asset.id) == gone).values(deleted_at=utcnow() - timedelta(hours=1)))
        files = [k for k in (session.get(Asset, gone).storage_key, session.get(Asset, gone).thumb_key) if k]
    assert files and all(get_storage().exists(k) for k in files)
    with pytest.raises(NotFound):
        bulk.bulk(workspace_id=ada.workspace_id, action="restore", asset_ids=[gone])
    done = periodic.run_due(tuple(t for t in periodic.PERIODIC if t.name == "library-purge"))
    assert done == {"library-purge": [gone]}
    with session_scope() as session:
        assert session.get(Asset, gone) is None and session.get(Asset, keep) is not None
        assert session.exec(select(AssetTag.asset_id)).all() == [keep]
    assert not any(get_storage().exists(k) for k in files)


def test_zip_of_originals_has_unique_names_and_refuses_foreign_ids(ada, grace):
    import io
    import zipfile

    first = stored(ada.id, 2, name="same")
    for asset_id in first:
        tags.edit_asset(workspace_id=ada.workspace_id, asset_id=asset_id, filename="same.jpg")
    chunks, name = bulk.zip_of(workspace_id=ada.workspace_id, asset_ids=first)
    with zipfile.ZipFile(io.BytesIO(b"".join(chunks))) as zf:
        assert sorted(zf.namelist()) == ["same-2.jpg", "same.jpg"]
        assert zf.read("same.jpg") == images.jpeg(200, 150, seed=0)
    assert name.endswith(".zip")
    with pytest.raises(NotFound):
        bulk.zip_of(workspace_id=grace.workspace_id, asset_ids=first)


needs_tesseract = pytest.mark.skipif(not shutil.which("tesseract"), reason="tesseract-ocr is not installed")


@needs_tesseract
def test_words_the_local_analyzer_reads_become_ocr_text(signed_in):
    from tests.integration.test_api_auth import ORIGIN

    sign = Image.new("RGB", (1400, 500), (250, 245, 235))
    path = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
    font = ImageFont.truetype(path, 220) if Path(path).exists() else ImageFont.load_default(size=220)
    ImageDraw.Draw(sign).text((80, 130), "BAKERY", fill=(20, 20, 20), font=font)
    asset = signed_in.post("/api/v1/assets", headers=ORIGIN, files=[
        ("files", ("IMG_2041.png", images.encode(sign, "PNG"), "image/png"))]).json()["assets"][0]
    work()
    batch = signed_in.post("/api/v1/rename/batches", headers=ORIGIN,
                           json={"asset_ids": [asset["id"]], "options": {"ocr": True}})
    assert batch.status_code == 201, batch.text
    work()
    assert "BAKERY" in row(asset["id"]).ocr_text and asset["id"] in fts_hits("bakery")
