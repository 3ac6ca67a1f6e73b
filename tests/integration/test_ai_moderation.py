"""Prompt moderation through the moderation default connection (OpenAI's /moderations or a compatible one)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.db import session_scope
from app.errors import ModerationRejected
from app.models import AIConnection, AIDefault
from app.providers.http import reset_breakers
from app.services.ai.connections import ConnectionInput, create_connection
from app.services.moderation import policy as content_policy
from tests.fake_moderation import FakeModeration


def test_prompts_go_to_the_moderation_default(env):
    reset_breakers()
    assert content_policy.ai_checker() is None  # nothing configured: the denylist alone
    with FakeModeration() as fake:
        conn = create_connection(actor_id=None, data=ConnectionInput(
            preset="openai_compatible", name="Moderation box", base_url=fake.base_url, api_key=fake.api_key))
        with session_scope() as session:
            row = session.get(AIConnection, conn.id)
            row.offers = [{"id": "omni-moderation-latest", "capabilities": ["moderation"]}]
            row.tested_at = datetime.now(UTC)
            session.add(AIDefault(capability="moderation", connection_id=conn.id, model="omni-moderation-latest"))
        checker = content_policy.ai_checker()
        assert checker is not None and content_policy.ai_checker() is checker  # built once
        content_policy.enforce_prompt(workspace_id=None, text="a calm lake at dawn")
        with pytest.raises(ModerationRejected):
            content_policy.enforce_prompt(workspace_id=None, text="an attack on the village")
        assert len(fake.requests) == 2
    reset_breakers()
