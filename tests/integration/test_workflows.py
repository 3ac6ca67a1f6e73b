"""Image workflows end to end on real parts: catalog → run on library images → worker → outputs → ZIP."""

import io
import threading
import time
import zipfile

import pytest
from PIL import Image
from rq import SimpleWorker

from app.db import session_scope
from app.models import Asset
from app.queue import get_queue
from app.redis_client import get_redis
from tests import images
from tests.integration.test_api_auth import ORIGIN, assert_error, login, register


@pytest.fixture
def signed_in(api, any_db):
    register(api)
    login(api)
    return api


def run_jobs():
    SimpleWorker([get_queue("default"), get_queue("assets")], connection=get_redis()).work(burst=True)


def upload(api, count, width=900, height=600):
    files = [("files", (f"photo-{i}.jpg", images.jpeg(width, height, seed=i), "image/jpeg")) for i in range(count)]
    body = api.post("/api/v1/assets", files=files, headers=ORIGIN).json()
    run_jobs()
    return [a["id"] for a in body["assets"]]


def test_catalog_lists_typed_operations(signed_in):
    ops = signed_in.get("/api/v1/workflows").json()["workflows"]
    ids = {op["id"] for op in ops}
    assert {"resize", "social_preset", "upscale", "remove_background", "convert", "strip_metadata", "watermark",
            "adjust", "blur_faces", "palette", "rotate_flip"} <= ids
    for op in ops:
        assert op["name"] and op["description"] and op["category"] and op["schema"]["type"] == "object"
    upscale = signed_in.get("/api/v1/workflows/upscale").json()
    assert upscale["remote"] == {"capability": "upscale", "available": False}  # no fal/Replicate here
    assert upscale["schema"]["properties"]["engine"]["x-enumDisabled"] == ["remote"]
    assert_error(signed_in.get("/api/v1/workflows/nope"), 404, "unknown_operation")


def test_instagram_story_batch_outputs_lineage_and_zip(signed_in):
    sources = upload(signed_in, 3)
    started = signed_in.post("/api/v1/workflows/social_preset/runs", headers=ORIGIN,
                             json={"asset_ids": sources, "params": {"preset": "instagram_story"}})
    assert started.status_code == 202, started.text
    run_id = started.json()["id"]
    run_jobs()
    run = signed_in.get(f"/api/v1/workflow-runs/{run_id}").json()
    assert run["status"] == "succeeded" and run["counts"]["done"] == 3
    for item in run["items"]:
        (output,) = item["output_asset_ids"]
        asset = signed_in.get(f"/api/v1/assets/{output}").json()
        assert (asset["width"], asset["height"]) == (1080, 1920)
        # 900×600 sources fill 1080×1920 from a 338×600 window: the item says how much it was enlarged.
        assert item["info"]["social_preset"]["warnings"][0].startswith("Enlarged 3.2×")
        with session_scope() as session:
            lineage = session.get(Asset, output).meta["lineage"]
        assert lineage["source_asset_id"] == item["source_asset_id"] and lineage["run_id"] == run_id
        assert lineage["steps"][0]["op"] == "social_preset"
        assert lineage["steps"][0]["params"]["preset"] == "instagram_story"
    archive = signed_in.get(f"/api/v1/workflow-runs/{run_id}/download")
    assert archive.status_code == 200
    with zipfile.ZipFile(io.BytesIO(archive.content)) as zf:
        names = zf.namelist()
        assert len(names) == 3
        assert all(Image.open(zf.open(n)).size == (1080, 1920) for n in names)


@pytest.mark.parametrize(("op", "params", "field"), [
    ("resize", {"width": 0, "height": 100}, "width"),
    ("resize", {"width": 100, "height": 100, "fit": "squash"}, "fit"),
    ("convert", {"format": "bmp"}, "format"),
    ("adjust", {"brightness": 99}, "brightness"),
    ("social_preset", {"preset": "instagram_story", "colour": "red"}, "colour"),
])
def test_bad_settings_are_422_naming_the_field(signed_in, op, params, field):
    sources = upload(signed_in, 1)
    response = signed_in.post(f"/api/v1/workflows/{op}/runs", headers=ORIGIN,
                              json={"asset_ids": sources, "params": params})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_params"
    assert any(f["field"] == field for f in error["fields"]), error
    assert field in error["message"]


def test_recipes_crud_run_and_field_paths(signed_in):
    recipe = {"name": "Shop thumbnails", "steps": [
        {"id": "fit", "op": "resize", "params": {"width": 400, "height": 400, "fit": "cover"}},
        {"id": "pop", "op": "adjust", "input": "fit", "params": {"saturation": 1.2}},
        {"id": "web", "op": "convert", "input": "pop", "params": {"format": "webp", "quality": 80}}]}
    bad = {**recipe, "steps": [*recipe["steps"][:2], {"id": "web", "op": "convert", "input": "pop",
                                                       "params": {"format": "webp", "quality": 500}}]}
    error = signed_in.post("/api/v1/recipes", json=bad, headers=ORIGIN).json()["error"]
    assert error["code"] == "invalid_params" and error["fields"][0]["field"] == "steps[2].params.quality"
    created = signed_in.post("/api/v1/recipes", json=recipe, headers=ORIGIN)
    assert created.status_code == 201, created.text
    recipe_id = created.json()["id"]
    assert_error(signed_in.post("/api/v1/recipes", json=recipe, headers=ORIGIN), 409, "recipe_exists")
    assert [r["name"] for r in signed_in.get("/api/v1/recipes").json()["recipes"]] == ["Shop thumbnails"]
    sources = upload(signed_in, 2, width=1200, height=700)
    run = signed_in.post(f"/api/v1/recipes/{recipe_id}/runs", json={"asset_ids": sources}, headers=ORIGIN).json()
    run_jobs()
    done = signed_in.get(f"/api/v1/workflow-runs/{run['id']}").json()
    assert done["status"] == "succeeded" and done["recipe_id"] == recipe_id
    for item in done["items"]:
        asset = signed_in.get(f"/api/v1/assets/{item['output_asset_ids'][0]}").json()
        assert (asset["width"], asset["height"], asset["mime"]) == (400, 400, "image/webp")
    renamed = {**recipe, "name": "Shop thumbs"}
    assert signed_in.put(f"/api/v1/recipes/{recipe_id}", json=renamed, headers=ORIGIN).json()["name"] == "Shop thumbs"
    assert signed_in.delete(f"/api/v1/recipes/{recipe_id}", headers=ORIGIN).status_code == 204
    assert signed_in.get(f"/api/v1/recipes/{recipe_id}").status_code == 404


def test_one_bad_item_fails_alone_and_can_be_retried(signed_in):
    sources = upload(signed_in, 3)
    run = signed_in.post("/api/v1/workflows/rotate_flip/runs", headers=ORIGIN,
                         json={"asset_ids": sources, "params": {"angle": 90}}).json()
    # The middle source leaves the library before the worker reaches it.
    assert signed_in.delete(f"/api/v1/assets/{sources[1]}", headers=ORIGIN).status_code == 204
    run_jobs()
    done = signed_in.get(f"/api/v1/workflow-runs/{run['id']}").json()
    assert [i["status"] for i in done["items"]] == ["done", "failed", "done"]
    # One of three failed: the run says so rather than "succeeded".
    assert "deleted" in done["items"][1]["error"] and done["status"] == "partial"
    first = signed_in.get(f"/api/v1/assets/{done['items'][0]['output_asset_ids'][0]}").json()
    assert (first["width"], first["height"]) == (600, 900)
    again = signed_in.post(f"/api/v1/workflow-runs/{run['id']}/retry", headers=ORIGIN)
    assert again.status_code == 202 and again.json()["job_id"] != run["job_id"]
    run_jobs()
    after = signed_in.get(f"/api/v1/workflow-runs/{run['id']}").json()
    assert [i["status"] for i in after["items"]] == ["done", "failed", "done"]  # done items are not redone
    assert after["status"] == "partial"


def test_a_run_whose_every_item_failed_is_failed(signed_in):
    sources = upload(signed_in, 2)
    run = signed_in.post("/api/v1/workflows/rotate_flip/runs", headers=ORIGIN,
                         json={"asset_ids": sources, "params": {"angle": 90}}).json()
    for source in sources:
        assert signed_in.delete(f"/api/v1/assets/{source}", headers=ORIGIN).status_code == 204
    run_jobs()
    done = signed_in.get(f"/api/v1/workflow-runs/{run['id']}").json()
    assert done["status"] == "failed" and done["counts"]["failed"] == 2


def test_cancel_before_start_removes_every_item(signed_in):
    sources = upload(signed_in, 4)
    run = signed_in.post("/api/v1/workflows/adjust/runs", headers=ORIGIN,
                         json={"asset_ids": sources, "params": {"brightness": 1.1}}).json()
    assert signed_in.post(f"/api/v1/workflow-runs/{run['id']}/cancel", headers=ORIGIN).json() == {
        "outcome": "removed"}
    done = signed_in.get(f"/api/v1/workflow-runs/{run['id']}").json()
    assert done["status"] == "canceled" and done["counts"]["canceled"] == 4


def test_cancel_mid_batch_stops_between_items(signed_in, monkeypatch):
    monkeypatch.setenv("WORKFLOW_THREADS", "1")
    from tests.conftest import clear_caches

    clear_caches()
    sources = upload(signed_in, 8, width=1600, height=1200)
    run = signed_in.post("/api/v1/workflows/upscale/runs", headers=ORIGIN,
                         json={"asset_ids": sources, "params": {"factor": 2}}).json()
    outcome: list[str] = []

    def cancel_after_first_item() -> None:  # what a user clicking "Cancel" does, while the worker runs
        from app.models import WorkflowItem
        from app.services.workflows import runs as workflow_runs

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with session_scope() as session:
                if session.query(WorkflowItem).filter_by(run_id=run["id"], status="done").count():
                    break
            time.sleep(0.05)
        outcome.append(workflow_runs.cancel_run(workspace_id=run_owner, run_id=run["id"]))

    run_owner = signed_in.get("/api/v1/me").json()["id"]
    canceller = threading.Thread(target=cancel_after_first_item)
    canceller.start()
    run_jobs()  # the worker runs here, in the main thread (RQ needs its signals)
    canceller.join(10)
    assert outcome == ["stopping"]
    done = signed_in.get(f"/api/v1/workflow-runs/{run['id']}").json()
    statuses = [i["status"] for i in done["items"]]
    assert done["status"] == "canceled", done
    assert 1 <= statuses.count("done") < 8 and statuses.count("canceled") == 8 - statuses.count("done")
    assert "running" not in statuses and "queued" not in statuses
    # The outputs made before the cancel still get their thumbnails (the worker ran the asset queue too).
    outputs = [a for i in done["items"] for a in i["output_asset_ids"]]
    assert len(outputs) == statuses.count("done")
    for output in outputs:
        asset = signed_in.get(f"/api/v1/assets/{output}").json()
        assert asset["status"] == "ready" and asset["has_thumbnail"], asset


def test_other_users_cannot_see_or_use(signed_in, api):
    sources = upload(signed_in, 1)
    run = signed_in.post("/api/v1/workflows/adjust/runs", headers=ORIGIN,
                         json={"asset_ids": sources, "params": {}}).json()
    signed_in.post("/api/v1/auth/logout", headers=ORIGIN)
    register(api, email="eve@example.com")
    login(api, email="eve@example.com")
    assert api.get(f"/api/v1/workflow-runs/{run['id']}").status_code == 404
    assert api.get(f"/api/v1/workflow-runs/{run['id']}/download").status_code == 404
    assert api.post(f"/api/v1/workflow-runs/{run['id']}/cancel", headers=ORIGIN).status_code == 404
    stolen = api.post("/api/v1/workflows/adjust/runs", headers=ORIGIN, json={"asset_ids": sources, "params": {}})
    assert_error(stolen, 404, "asset_not_found")


def test_the_page_after_a_cancel_shows_it_in_the_list_and_an_honest_bar(signed_in):
    """The recent-runs list said "queued" after a cancel, and the canceled run's bar was drawn full."""
    import types
    from types import SimpleNamespace

    from state.workflows import WorkflowsState

    sources = upload(signed_in, 4)
    run = signed_in.post("/api/v1/workflows/adjust/runs", headers=ORIGIN,
                         json={"asset_ids": sources, "params": {"brightness": 1.1}}).json()
    signed_in.post(f"/api/v1/workflow-runs/{run['id']}/cancel", headers=ORIGIN)
    owner = signed_in.get("/api/v1/me").json()["id"]
    page = SimpleNamespace(run={"id": str(run["id"])}, items=[],
                           runs=[{"id": str(run["id"]), "name": run["name"], "status": "queued"}])
    page._show_run = types.MethodType(WorkflowsState._show_run, page)
    WorkflowsState._reload_run(page, owner)
    assert page.run["status"] == "canceled" and page.runs[0]["status"] == "canceled"
    percent = WorkflowsState.computed_vars["run_percent"].fget(page)
    assert percent == 0  # nothing ran


@pytest.mark.parametrize(("op", "params"), [("strip_metadata", {}), ("rotate_flip", {"angle": 0})])
def test_an_output_identical_to_its_source_is_not_the_source(signed_in, op, params):
    (source,) = upload(signed_in, 1)  # a JPEG without EXIF: nothing to strip, nothing to turn
    original = signed_in.get(f"/api/v1/assets/{source}").json()
    run = signed_in.post(f"/api/v1/workflows/{op}/runs", headers=ORIGIN,
                         json={"asset_ids": [source], "params": params}).json()
    run_jobs()
    done = signed_in.get(f"/api/v1/workflow-runs/{run['id']}").json()
    (item,) = done["items"]
    assert done["status"] == "succeeded" and item["status"] == "done"
    # Recorded as unchanged, pointing at the original, which is not listed as an output of its own.
    assert source not in item["output_asset_ids"]
    assert item["unchanged_asset_ids"] == [source]
    with session_scope() as session:
        assert "lineage" not in session.get(Asset, source).meta  # not "made from itself"
    # The results ZIP still holds the image: the user asked for this batch's files.
    with zipfile.ZipFile(io.BytesIO(signed_in.get(f"/api/v1/workflow-runs/{run['id']}/download").content)) as zf:
        assert len(zf.namelist()) == 1
    # Deleting every output of the run leaves the original where it was.
    for output in item["output_asset_ids"]:
        signed_in.delete(f"/api/v1/assets/{output}", headers=ORIGIN)
    assert signed_in.get(f"/api/v1/assets/{source}").json()["sha256"] == original["sha256"]


def test_the_same_output_twice_is_one_output_of_both_runs_and_never_an_upload(signed_in):
    (source, other) = upload(signed_in, 2)
    body = {"asset_ids": [source], "params": {"angle": 90}}
    first = signed_in.post("/api/v1/workflows/rotate_flip/runs", headers=ORIGIN, json=body).json()
    run_jobs()
    second = signed_in.post("/api/v1/workflows/rotate_flip/runs", headers=ORIGIN, json=body).json()
    run_jobs()
    (one,) = signed_in.get(f"/api/v1/workflow-runs/{first['id']}").json()["items"]
    (two,) = signed_in.get(f"/api/v1/workflow-runs/{second['id']}").json()["items"]
    assert one["output_asset_ids"] == two["output_asset_ids"] and source not in one["output_asset_ids"]
    # An upload whose bytes a run happens to make is the user's original: never claimed as an output.
    turned = signed_in.get(f"/api/v1/assets/{one['output_asset_ids'][0]}/download").content
    signed_in.delete(f"/api/v1/assets/{one['output_asset_ids'][0]}", headers=ORIGIN)
    uploaded = signed_in.post("/api/v1/assets", headers=ORIGIN,
                              files=[("files", ("mine.jpg", turned, "image/jpeg"))]).json()["assets"][0]["id"]
    run_jobs()
    third = signed_in.post("/api/v1/workflows/rotate_flip/runs", headers=ORIGIN, json=body).json()
    run_jobs()
    (three,) = signed_in.get(f"/api/v1/workflow-runs/{third['id']}").json()["items"]
    assert three["output_asset_ids"] == [] and three["unchanged_asset_ids"] == []
    assert three["existing_asset_ids"] == [uploaded]
    with session_scope() as session:
        assert "lineage" not in session.get(Asset, uploaded).meta
    assert other != uploaded


def _redis_goes_down(monkeypatch):
    """Point the app at a port nobody listens on: every Redis call meets a real connection refusal."""
    import socket

    from tests.conftest import clear_caches

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{port}/0")
    clear_caches()


def _rows(table):
    with session_scope() as session:
        return session.query(table).all()


def test_a_run_started_while_redis_is_down_answers_503_and_leaves_nothing(signed_in, monkeypatch):
    from app.models import WorkflowItem, WorkflowRun

    sources = upload(signed_in, 2)
    _redis_goes_down(monkeypatch)
    response = signed_in.post("/api/v1/workflows/adjust/runs", headers=ORIGIN,
                              json={"asset_ids": sources, "params": {"brightness": 1.1}})
    assert_error(response, 503, "service_unavailable")
    # No run stuck "queued" with no job behind it: the run and its items are gone, the job row is closed.
    assert _rows(WorkflowRun) == [] and _rows(WorkflowItem) == []
    from app.models import Job

    assert all(j.status in ("succeeded", "failed") for j in _rows(Job))


def test_a_retry_while_redis_is_down_answers_503_and_changes_nothing(signed_in, monkeypatch):
    sources = upload(signed_in, 2)
    run = signed_in.post("/api/v1/workflows/rotate_flip/runs", headers=ORIGIN,
                         json={"asset_ids": sources, "params": {"angle": 90}}).json()
    assert signed_in.delete(f"/api/v1/assets/{sources[1]}", headers=ORIGIN).status_code == 204
    run_jobs()
    before = signed_in.get(f"/api/v1/workflow-runs/{run['id']}").json()
    _redis_goes_down(monkeypatch)
    assert_error(signed_in.post(f"/api/v1/workflow-runs/{run['id']}/retry", headers=ORIGIN), 503,
                 "service_unavailable")
    after = signed_in.get(f"/api/v1/workflow-runs/{run['id']}").json()
    assert (after["status"], after["job_id"], after["items"]) == (before["status"], before["job_id"], before["items"])
