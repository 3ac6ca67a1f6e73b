"""AI connections through the admin API: keys sealed and never shown, edits, deletes refused while in
use, defaults only from tested models, settings seeded once, and work routed to a stored connection."""

from __future__ import annotations

import logging

import pytest
from sqlmodel import select

from app.db import session_scope
from app.models import AIConnection, AuditEvent, Generation, Job
from app.services.ai import resolve, seed
from tests.integration.test_api_auth import ORIGIN, assert_error, login, register

KEY = "sk-live-Very-Secret-Key-0123456789"
URL = "/api/v1/admin/ai/connections"


@pytest.fixture
def admin(api, any_db):
    register(api)  # the first account is the admin
    login(api)
    return api


def add(api, **fields):
    body = {"preset": "openai", "name": "Studio OpenAI", "api_key": KEY} | fields
    return api.post(URL, json=body, headers=ORIGIN)


def mark_tested(connection_id: int, offers: list[dict]) -> None:
    """What a successful test stores (the probe itself is tested against fake servers elsewhere)."""
    from datetime import UTC, datetime

    with session_scope() as session:
        row = session.get(AIConnection, connection_id)
        row.offers, row.tested_at, row.test_error = offers, datetime.now(UTC), ""
        session.add(row)


def test_a_key_goes_in_sealed_and_never_comes_out(admin, caplog):
    caplog.set_level(logging.DEBUG)
    created = add(admin)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["has_key"] is True and body["base_url"] == "https://api.openai.com/v1"
    assert KEY not in created.text and KEY not in admin.get(URL).text
    with session_scope() as session:
        row = session.get(AIConnection, body["id"])
        assert row.secret and KEY not in row.secret
        assert resolve.snapshot(row.id).api_key == KEY  # sealed, not lost
        details = " ".join(e.detail + e.target for e in session.exec(select(AuditEvent)))
    assert "ai.connection" not in details or KEY not in details
    assert KEY not in caplog.text
    # A replaced key is sealed again; "" keeps the stored one.
    patched = admin.patch(f"{URL}/{body['id']}", json={"api_key": "", "name": "OpenAI"}, headers=ORIGIN)
    assert patched.status_code == 200 and patched.json()["name"] == "OpenAI" and patched.json()["has_key"]
    assert resolve.snapshot(body["id"]).api_key == KEY
    patched = admin.patch(f"{URL}/{body['id']}", json={"api_key": "sk-other-key-42"}, headers=ORIGIN)
    assert resolve.snapshot(body["id"]).api_key == "sk-other-key-42" and "sk-other" not in patched.text


def test_forms_are_validated_per_preset(admin):
    assert_error(add(admin, preset="skynet"), 422, "unknown_preset")
    assert_error(add(admin, api_key=""), 422, "invalid_connection")  # OpenAI needs a key
    assert_error(add(admin, preset="ollama", api_key="x"), 422, "invalid_connection")  # Ollama takes none
    assert_error(add(admin, preset="openai_compatible", api_key=""), 422, "invalid_connection")  # no address
    assert_error(add(admin, preset="ollama", api_key="", base_url="ftp://x"), 422, "invalid_connection")
    assert_error(add(admin, preset="ollama", api_key="", base_url="http://user:pw@host:11434"), 422,
                 "invalid_connection")
    assert_error(add(admin, preset="bedrock", api_key=""), 422, "invalid_connection")  # needs a region
    assert_error(add(admin, preset="ollama", api_key="", options={"colour": "red"}), 422, "invalid_connection")
    assert_error(add(admin, api_key="sk key with spaces"), 422, "invalid_connection")
    assert add(admin, preset="bedrock", name="Bedrock", api_key="", options={"region": "eu-west-1"}).status_code == 201
    assert add(admin, preset="ollama", name="Box", api_key="").json()["base_url"] == "http://127.0.0.1:11434"
    assert_error(add(admin, preset="ollama", name="Box", api_key=""), 409, "name_taken")


def test_only_admins_reach_the_connections(api, any_db):
    register(api)
    register(api, email="grace@example.com")
    login(api, email="grace@example.com")
    for response in (api.get(URL), add(api), api.get("/api/v1/admin/ai/defaults"),
                     api.put("/api/v1/admin/ai/defaults", json={"defaults": []}, headers=ORIGIN),
                     api.post(f"{URL}/1/test", headers=ORIGIN), api.delete(f"{URL}/1", headers=ORIGIN)):
        assert_error(response, 403, "forbidden")
    api.post("/api/v1/auth/logout", headers=ORIGIN)
    assert_error(api.get(URL), 401, "auth_required")


def test_defaults_come_only_from_tested_models_and_list_first(admin):
    conn = add(admin).json()
    item = {"capability": "vision", "connection_id": conn["id"], "model": "gpt-4o", "price": 2}
    assert_error(admin.put("/api/v1/admin/ai/defaults", json={"defaults": [item]}, headers=ORIGIN), 422,
                 "connection_not_tested")
    mark_tested(conn["id"], [{"id": "gpt-4o", "capabilities": ["vision", "text"]},
                             {"id": "gpt-4o-mini", "capabilities": ["vision", "text"]}])
    assert_error(admin.put("/api/v1/admin/ai/defaults", json={"defaults": [item | {"model": "gpt-9"}]},
                           headers=ORIGIN), 422, "unknown_model")
    assert_error(admin.put("/api/v1/admin/ai/defaults", json={"defaults": [item | {"capability": "cutout"}]},
                           headers=ORIGIN), 422, "capability_not_offered")
    answer = admin.put("/api/v1/admin/ai/defaults", json={"defaults": [item | {"model": "gpt-4o-mini"}]},
                       headers=ORIGIN)
    assert answer.status_code == 200, answer.text
    vision = next(d for d in answer.json()["defaults"] if d["capability"] == "vision")
    assert vision == {"capability": "vision", "connection_id": conn["id"], "connection_name": "Studio OpenAI",
                      "model": "gpt-4o-mini", "price": 2}
    choices = resolve.choices("vision")
    assert [c["model"] for c in choices] == ["gpt-4o-mini", "gpt-4o"] and choices[0]["default"]
    from app.services.rename.vision.registry import available_providers

    listed = [p["name"] for p in available_providers() if p["configured"]]
    assert listed[0] == f"conn:{conn['id']}:gpt-4o-mini" and "local" in listed
    assert resolve.price_of("vision", listed[0], 10) == 20
    # The default cannot be disabled or deleted from under the pages; clearing it first works.
    assert_error(admin.patch(f"{URL}/{conn['id']}", json={"enabled": False}, headers=ORIGIN), 409,
                 "connection_is_default")
    cleared = admin.put("/api/v1/admin/ai/defaults",
                        json={"defaults": [{"capability": "vision", "connection_id": None}]}, headers=ORIGIN)
    assert next(d for d in cleared.json()["defaults"] if d["capability"] == "vision")["connection_id"] is None
    assert admin.patch(f"{URL}/{conn['id']}", json={"enabled": False}, headers=ORIGIN).json()["enabled"] is False
    assert resolve.choices("vision") == []


def test_delete_is_refused_while_running_work_uses_it(admin):
    conn = add(admin).json()
    ref = f"conn:{conn['id']}:gpt-image-1"
    with session_scope() as session:
        session.add(Job(id="j-running", kind="generate.images", workspace_id=1, status="running", params={}))
        session.add(Generation(workspace_id=1, job_id="j-running", prompt="a fox", provider=ref, width=64, height=64))
    assert_error(admin.delete(f"{URL}/{conn['id']}", headers=ORIGIN), 409, "connection_in_use")
    with session_scope() as session:
        session.get(Job, "j-running").status = "succeeded"
    assert admin.delete(f"{URL}/{conn['id']}", headers=ORIGIN).status_code == 204
    assert admin.get(URL).json()["connections"] == []
    assert_error(admin.delete(f"{URL}/{conn['id']}", headers=ORIGIN), 404, "not_found")


def test_an_edit_is_seen_by_the_next_client_built(admin):
    conn = add(admin, preset="ollama", api_key="", name="Box").json()
    ref = f"conn:{conn['id']}:llava"
    mark_tested(conn["id"], [{"id": "llava", "capabilities": ["vision", "text"]}])
    first = resolve.client("vision", ref)
    assert resolve.client("vision", ref) is first  # built once per process, not per item
    assert first.url.startswith("http://127.0.0.1:11434/v1")
    admin.patch(f"{URL}/{conn['id']}", json={"base_url": "http://10.0.0.7:11434"}, headers=ORIGIN)
    second = resolve.client("vision", ref)
    assert second is not first and second.url.startswith("http://10.0.0.7:11434/v1")


def test_settings_seed_connections_once_and_then_the_stored_one_wins(env, monkeypatch):
    from app.settings import get_settings

    monkeypatch.setenv("VISION_OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")
    monkeypatch.setenv("VISION_OPENAI_MODEL", "llava:13b")
    monkeypatch.setenv("IMAGE_FAL_KEY", "fal-secret-key")
    monkeypatch.setenv("IMAGE_DEFAULT_PROVIDER", "fal")
    get_settings.cache_clear()
    from app.services.generation import registry as images
    from app.services.rename.vision import registry as vision

    assert vision.connection_ref("openai") is None  # before seeding, settings rule
    assert sorted(seed.seed_from_settings()) == ["image:fal", "vision:openai"]
    assert seed.seed_from_settings() == []
    with session_scope() as session:
        rows = {r.seeded_from: r for r in session.exec(select(AIConnection))}
        assert rows["vision:openai"].preset == "ollama" and rows["vision:openai"].base_url == "http://127.0.0.1:11434"
        assert "fal-secret-key" not in rows["image:fal"].secret
        fal_id = rows["image:fal"].id
    assert vision.connection_ref("openai") == f"conn:{rows['vision:openai'].id}:llava:13b"
    assert images.default_name() == f"conn:{fal_id}:fal-ai/flux/dev"
    assert resolve.default_ref("cutout") == f"conn:{fal_id}:fal-ai/imageutils/rembg"
    # Deleted by an admin: it stays deleted, and the old name no longer reaches the settings' server.
    with session_scope() as session:
        from app.models import AIDefault

        for d in session.exec(select(AIDefault)):
            session.delete(d)
        session.delete(session.get(AIConnection, rows["vision:openai"].id))
    assert seed.seed_from_settings() == []
    from app.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        vision.get_provider("openai")
    assert "openai" not in [p["name"] for p in vision.available_providers()]
