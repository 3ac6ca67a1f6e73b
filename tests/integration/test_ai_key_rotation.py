"""AI connection keys: sealed with the current secret, readable through a rotation, then only with the new one."""

from __future__ import annotations

import pytest

from app.db import session_scope
from app.models import AIConnection
from app.providers import keybox
from app.services.ai import resolve
from app.services.ai.connections import ConnectionInput, create_connection
from app.services.ai.rotate import rotate_keys
from app.settings import get_settings

OLD, NEW = "old-secret-" + "o" * 32, "new-secret-" + "n" * 32


def test_rotating_the_secret_keeps_every_key(env, monkeypatch):
    monkeypatch.setenv("AI_KEYS_SECRET", OLD)
    get_settings.cache_clear()
    conn = create_connection(actor_id=None, data=ConnectionInput(preset="openai", name="OpenAI", api_key="sk-abc123"))
    with session_scope() as session:
        sealed_before = session.get(AIConnection, conn.id).secret
    # A new secret alone cannot read the old keys, and says so.
    monkeypatch.setenv("AI_KEYS_SECRET", NEW)
    get_settings.cache_clear()
    with pytest.raises(keybox.KeyUnreadable, match="AI_KEYS_PREVIOUS"):
        keybox.open_key(sealed_before)
    assert rotate_keys() == (0, ["OpenAI"])
    # With the old one listed, both read; rotation re-encrypts with the new one.
    monkeypatch.setenv("AI_KEYS_PREVIOUS", OLD)
    get_settings.cache_clear()
    assert keybox.open_key(sealed_before) == "sk-abc123"
    assert rotate_keys() == (1, [])
    monkeypatch.delenv("AI_KEYS_PREVIOUS")
    get_settings.cache_clear()
    resolve.forget()
    with session_scope() as session:
        sealed_after = session.get(AIConnection, conn.id).secret
    assert sealed_after != sealed_before and keybox.open_key(sealed_after) == "sk-abc123"
    assert resolve.snapshot(conn.id).api_key == "sk-abc123"


def test_the_default_secret_is_derived_not_used_raw(env):
    sealed = keybox.seal("sk-xyz")
    assert sealed != "sk-xyz" and "sk-xyz" not in sealed and keybox.open_key(sealed) == "sk-xyz"
    assert keybox.seal("") == "" and keybox.open_key("") == ""
