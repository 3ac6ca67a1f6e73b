"""Clients built from a stored connection, one function a capability. Vision and images go through the
provider registry (app/providers/registry.py): the adapter a preset names builds itself with
`from_connection`, the same adapter settings-based providers use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.errors import ValidationFailed
from app.providers import registry
from app.providers.http import HttpOptions
from app.providers.presets import CHAT_PRESETS, PRESETS, chat_base
from app.settings import get_settings


@dataclass(frozen=True)
class Snapshot:
    """A connection as one process uses it: the key already decrypted (kept in memory only)."""

    id: int
    version: int
    preset: str
    name: str
    base_url: str
    api_key: str
    options: dict[str, str]
    enabled: bool
    # With the id and version, tells a connection from a later one that reused a deleted row's id.
    created: str = ""


def _unsupported(conn: Snapshot, capability: str) -> ValidationFailed:
    return ValidationFailed(f"{PRESETS[conn.preset].label} (“{conn.name}”) cannot do {capability}.",
                            code="capability_not_offered")


def vision(conn: Snapshot, model: str) -> Any:
    spec = registry.for_preset("vision", conn.preset)
    if spec is None:
        raise _unsupported(conn, "vision")
    return spec.connect(conn, model)


def text(conn: Snapshot, model: str) -> Any:
    """A slide writer (one per job: it owns a connection pool)."""
    if conn.preset not in CHAT_PRESETS:
        raise _unsupported(conn, "text")
    from app.services.slides.engine.chat import ChatSlideWriter

    settings = get_settings()
    return ChatSlideWriter(chat_base(conn.preset, conn.base_url), conn.api_key, model,
                           http=HttpOptions(read_timeout=settings.slides_timeout_seconds, retries=1),
                           max_concurrency=settings.slides_concurrency,
                           repair_attempts=settings.slides_repair_attempts, name=conn.name)


def moderation(conn: Snapshot, model: str) -> Any:
    if conn.preset not in ("openai", "openai_compatible"):
        raise _unsupported(conn, "moderation")
    from app.services.moderation.ai import OpenAIModeration

    settings = get_settings()
    return OpenAIModeration(conn.base_url, conn.api_key, model=model or "omni-moderation-latest",
                            threshold=settings.moderation_threshold, fail_closed=settings.moderation_fail_closed,
                            name=conn.name, http=HttpOptions(read_timeout=20.0, retries=1))


def images(conn: Snapshot, model: str) -> Any:
    spec = registry.for_preset("images", conn.preset)
    if spec is None:
        raise _unsupported(conn, "images")
    return spec.connect(conn, model)


BUILDERS = {"vision": vision, "text": text, "moderation": moderation, "images": images}
