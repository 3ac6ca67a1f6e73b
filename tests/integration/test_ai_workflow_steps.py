"""Workflow steps on the admins' default connections: cut-out through A1111's rembg extension and upscale
through ComfyUI's upscale-model workflow, each added, tested and made the default over the API."""

from __future__ import annotations

import pytest

from app.providers.http import reset_breakers
from tests.fake_comfyui import FakeComfyUI
from tests.fake_image_providers import FakeA1111
from tests.integration.test_ai_connections import URL
from tests.integration.test_api_auth import ORIGIN, login, register
from tests.integration.test_workflow_remote import get_run, pixels_of
from tests.integration.test_workflows import run_jobs, upload


@pytest.fixture
def admin(api, any_db):
    reset_breakers()
    register(api)
    login(api)
    yield api
    reset_breakers()


def connect_as_default(api, preset: str, origin: str, capability: str, model: str) -> int:
    made = api.post(URL, json={"preset": preset, "name": f"Studio {preset}", "base_url": origin}, headers=ORIGIN)
    assert made.status_code == 201, made.text
    tested = api.post(f"{URL}/{made.json()['id']}/test", headers=ORIGIN).json()
    assert tested["ok"], tested
    chosen = api.put("/api/v1/admin/ai/defaults", headers=ORIGIN, json={"defaults": [
        {"capability": capability, "connection_id": made.json()["id"], "model": model}]})
    assert chosen.status_code == 200, chosen.text
    return made.json()["id"]


def run(api, op_id: str, sources: list[int], **params) -> dict:
    started = api.post(f"/api/v1/workflows/{op_id}/runs", headers=ORIGIN,
                       json={"asset_ids": sources, "params": {"engine": "remote", **params}})
    assert started.status_code in (201, 202), started.text
    run_jobs()
    return get_run(api, started.json()["id"])


def test_cutout_on_a1111_and_upscale_on_comfyui(admin):
    with FakeA1111() as a1111, FakeComfyUI() as comfy:
        a1111.rembg_installed = True
        # Before: nothing remote is offered.
        assert admin.get("/api/v1/workflows/remove_background").json()["remote"]["available"] is False
        connect_as_default(admin, "a1111", a1111.origin, "cutout", "rembg")
        connect_as_default(admin, "comfyui", comfy.origin, "upscale", "RealESRGAN_x2plus.pth")
        assert admin.get("/api/v1/workflows/remove_background").json()["remote"]["available"] is True

        sources = upload(admin, 1, width=400, height=300)
        cut = run(admin, "remove_background", sources)
        assert cut["status"] == "succeeded", cut
        (item,) = cut["items"]
        picture = pixels_of(admin, item["output_asset_ids"][0])
        assert picture.size == (400, 300) and picture.mode == "RGBA"
        assert any(r.path == "/rembg" for r in a1111.requests)

        big = run(admin, "upscale", sources, factor=2)
        assert big["status"] == "succeeded", big
        assert pixels_of(admin, big["items"][0]["output_asset_ids"][0]).size == (800, 600)
        assert any(r.path == "/upload/image" for r in comfy.requests)


def test_a_wrecked_cutout_fails_the_item_whatever_the_server_said(admin):
    with FakeA1111() as a1111:
        a1111.rembg_installed, a1111.cutout = True, "unchanged"
        connect_as_default(admin, "a1111", a1111.origin, "cutout", "rembg")
        done = run(admin, "remove_background", upload(admin, 1, width=400, height=300))
        assert done["status"] == "failed", done
        assert done["items"][0]["error"]
