"""Slide text from a stored text connection (any OpenAI-compatible chat: Ollama, LM Studio, vLLM…),
chosen per deck or as the text default, instead of the SLIDES_OPENAI_* settings."""

from __future__ import annotations

from datetime import UTC, datetime

from app.db import session_scope
from app.models import AIConnection, AIDefault
from app.providers.http import reset_breakers
from app.services.slides import decks
from tests.fake_chat import FakeChat
from tests.integration.test_ai_connections import URL
from tests.integration.test_api_auth import ORIGIN, assert_error, login, register
from tests.integration.test_slides import create, generate, run_jobs


def test_a_deck_is_written_by_the_text_default_connection(api, any_db):
    reset_breakers()
    register(api)
    login(api)
    with FakeChat() as chat:
        made = api.post(URL, headers=ORIGIN, json={"preset": "openai_compatible", "name": "vLLM box",
                                                   "base_url": chat.base_url, "api_key": chat.api_key}).json()
        ref = f"conn:{made['id']}:gpt-test"
        # The test call is what fills offers; here the chat fake has no /models, so the text model is
        # recorded the way a passing test would record it.
        with session_scope() as session:
            row = session.get(AIConnection, made["id"])
            row.offers = [{"id": "gpt-test", "capabilities": ["text"]}]
            row.tested_at = datetime.now(UTC)
            session.add(AIDefault(capability="text", connection_id=made["id"], model="gpt-test", price=0))
        assert decks.default_text_provider() == ref
        assert [p["name"] for p in decks.text_providers()] == [ref, "local"]
        deck = create(api, topic="Solar for schools", slides=3, provider=ref)
        assert deck["status"] == "outlining"
        run_jobs()
        deck = api.get(f"/api/v1/slides/{deck['id']}").json()
        assert deck["status"] == "idle" and len(deck["outline"]["slides"]) == 3
        done = generate(api, deck["id"])
        assert done["status"] == "ready", done
        assert chat.requests and all(r.headers.get("authorization") == f"Bearer {chat.api_key}"
                                     for r in chat.requests)
    # A disabled connection is refused for new decks with a clear reason.
    api.put("/api/v1/admin/ai/defaults", json={"defaults": [{"capability": "text", "connection_id": None}]},
            headers=ORIGIN)
    assert api.patch(f"{URL}/{made['id']}", json={"enabled": False}, headers=ORIGIN).status_code == 200
    assert_error(api.post("/api/v1/slides", json={"topic": "x", "provider": ref}, headers=ORIGIN), 422,
                 "provider_not_configured")
