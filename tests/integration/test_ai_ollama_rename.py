"""An admin connects Ollama from the API, tests it, makes its vision model the default; a designer's
camera-named photos get the model's subject in names and alt text. Ollama stops: health says so, and
the next batch fails image by image with a reason that points at the offline analyzer."""

from __future__ import annotations

import pytest

from app.providers import http
from tests import images
from tests.fake_ollama import FakeOllama
from tests.integration.test_ai_connections import URL
from tests.integration.test_api_auth import ORIGIN, assert_error, login, register
from tests.integration.test_rename import run_jobs, upload


@pytest.fixture
def ollama():
    fake = FakeOllama().start()
    yield fake
    fake.stop()


def connect(api, fake: FakeOllama) -> dict:
    created = api.post(URL, json={"preset": "ollama", "name": "Studio Ollama", "base_url": fake.base_url},
                       headers=ORIGIN)
    assert created.status_code == 201, created.text
    tested = api.post(f"{URL}/{created.json()['id']}/test", headers=ORIGIN)
    assert tested.status_code == 200, tested.text
    return tested.json()


def batch(api, names, provider=None):
    # Seeds from the names: other bytes, other pictures (the same bytes would come from the description cache).
    assets = upload(api, [(name, images.jpeg(320, 240, seed=int(name[4:8])), "image/jpeg") for name in names])
    run_jobs()
    options = {"ocr": False} | ({"provider": provider} if provider else {})
    made = api.post("/api/v1/rename/batches", json={"asset_ids": [a["id"] for a in assets], "options": options},
                    headers=ORIGIN)
    assert made.status_code == 201, made.text
    run_jobs()
    return api.get(f"/api/v1/rename/batches/{made.json()['id']}").json()


def test_ollama_names_photos_and_its_outage_fails_each_image_with_a_way_out(api, env, ollama):
    http.reset_breakers()
    register(api)
    login(api)
    tested = connect(api, ollama)
    assert tested["ok"] and tested["code"] == "ok" and tested["latency_ms"] is not None
    offers = {o["id"]: set(o["capabilities"]) for o in tested["offers"]}
    assert offers["llava:7b"] == {"vision", "text"} and offers["llama3.2:3b"] == {"text"}
    conn_id = tested["connection"]["id"]
    # Only a tested vision model can be the vision default.
    assert_error(api.put("/api/v1/admin/ai/defaults", json={"defaults": [
        {"capability": "vision", "connection_id": conn_id, "model": "llama3.2:3b"}]}, headers=ORIGIN),
        422, "unknown_model")
    assert api.put("/api/v1/admin/ai/defaults", json={"defaults": [
        {"capability": "vision", "connection_id": conn_id, "model": "llava:7b"}]}, headers=ORIGIN).status_code == 200

    ref = f"conn:{conn_id}:llava:7b"
    done = batch(api, ["DSC_4100.jpg", "DSC_4101.jpg"], provider=ref)
    assert done["status"] == "ready"
    for item in done["items"]:
        assert item["status"] == "done", item
        assert item["proposed_name"].startswith("tabby-cat"), item["proposed_name"]
        assert "tabby cat" in item["alt_text"].lower()
    assert len(ollama.images_seen) == 2

    ollama.stop()
    health = api.get("/health/ready").json()
    entry = next(c for c in health["connections"] if c["name"] == "Studio Ollama")
    assert entry["state"] == "down" and "refused" in entry["error"].lower()
    assert "127.0.0.1" not in str(health["checks"])  # readiness is not made to depend on it
    failed = batch(api, ["DSC_4102.jpg", "DSC_4103.jpg", "DSC_4104.jpg"], provider=ref)
    assert failed["status"] == "ready"
    for item in failed["items"]:
        assert item["status"] == "failed"
        assert "Studio Ollama" in item["error"] and "offline analyzer" in item["error"], item["error"]
    # The way out: the offline analyzer describes them (and the batch remembers it was switched).
    again = api.post(f"/api/v1/rename/batches/{failed['id']}/retry-failed", json={}, headers=ORIGIN)
    assert again.status_code == 202, again.text
    run_jobs()
    rescued = api.get(f"/api/v1/rename/batches/{failed['id']}").json()
    assert [i["status"] for i in rescued["items"]] == ["done"] * 3
    assert rescued["options"]["provider"] == "local"
    assert_error(api.post(f"/api/v1/rename/batches/{failed['id']}/retry-failed", json={}, headers=ORIGIN), 422,
                 "nothing_failed")
