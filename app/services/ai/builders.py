"""Clients built from a stored connection, one function a capability (the adapters are the same ones
settings-based providers use; only where the address, key and model come from differs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.errors import ValidationFailed
from app.providers.http import HttpOptions, image_options, is_loopback
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


def _image_http(provider: str) -> HttpOptions:
    return image_options(get_settings(), provider)


def _unsupported(conn: Snapshot, capability: str) -> ValidationFailed:
    return ValidationFailed(f"{PRESETS[conn.preset].label} (“{conn.name}”) cannot do {capability}.",
                            code="capability_not_offered")


def vision(conn: Snapshot, model: str) -> Any:
    settings = get_settings()
    http = HttpOptions(read_timeout=settings.vision_timeout_seconds)
    if conn.preset in CHAT_PRESETS:
        from app.services.vision.openai_compat import OpenAICompatibleVision

        return OpenAICompatibleVision(chat_base(conn.preset, conn.base_url), conn.api_key, model, name=conn.name,
                                      max_concurrency=settings.vision_openai_concurrency, http=http)
    if conn.preset == "google_vision":
        from app.services.vision.google import GoogleVision

        return GoogleVision(conn.api_key, conn.base_url, http=http)
    raise _unsupported(conn, "vision")


def text(conn: Snapshot, model: str) -> Any:
    """A slide writer (one per job: it owns a connection pool)."""
    if conn.preset not in CHAT_PRESETS:
        raise _unsupported(conn, "text")
    from app.services.slides.chat import ChatSlideWriter

    settings = get_settings()
    return ChatSlideWriter(chat_base(conn.preset, conn.base_url), conn.api_key, model,
                           http=HttpOptions(read_timeout=settings.slides_timeout_seconds, retries=1),
                           max_concurrency=settings.slides_concurrency,
                           repair_attempts=settings.slides_repair_attempts, name=conn.name)


def moderation(conn: Snapshot, model: str) -> Any:
    if conn.preset not in ("openai", "openai_compatible"):
        raise _unsupported(conn, "moderation")
    from app.services.moderation_ai import OpenAIModeration

    settings = get_settings()
    return OpenAIModeration(conn.base_url, conn.api_key, model=model or "omni-moderation-latest",
                            threshold=settings.moderation_threshold, fail_closed=settings.moderation_fail_closed,
                            name=conn.name, http=HttpOptions(read_timeout=20.0, retries=1))


def images(conn: Snapshot, model: str) -> Any:
    preset, url, key = conn.preset, conn.base_url, conn.api_key
    if preset == "openai":
        from app.services.generation.openai_images import OpenAIImages

        return OpenAIImages(url, key, model or "gpt-image-1", http=_image_http("openai"), name=conn.name,
                            label=conn.name)
    if preset == "a1111":
        from app.services.generation.a1111 import A1111

        return A1111(url, key, model, steps=get_settings().image_a1111_steps, http=_image_http("a1111"))
    if preset == "comfyui":
        from app.services.generation.comfyui import ComfyUI
        from app.services.generation.comfyui_workflow import WorkflowError, load_workflow

        try:
            workflow = load_workflow(conn.options.get("workflow") or None)
        except WorkflowError as exc:
            raise ValidationFailed(f"The ComfyUI workflow of “{conn.name}” cannot be used: {exc}",
                                   code="provider_misconfigured") from exc
        return ComfyUI(url, model=model, workflow=workflow, http=_image_http("comfyui"))
    if preset == "fal":
        from app.services.generation.fal import FalProvider

        return FalProvider(key, model=model, base_url=url, http=_image_http("fal"), allow_loopback=is_loopback(url))
    if preset == "replicate":
        from app.services.generation.replicate import ReplicateProvider

        return ReplicateProvider(key, model=model, base_url=url, http=_image_http("replicate"),
                                 allow_loopback=is_loopback(url))
    if preset == "stability":
        from app.services.generation.stability import StabilityImages

        return StabilityImages(url, key, model or "core", http=_image_http("stability"))
    if preset == "bedrock":
        from app.services.generation.bedrock import BedrockProvider

        return BedrockProvider(region=conn.options.get("region", ""), model=model,
                               endpoint_url=conn.options.get("endpoint_url") or None, http=_image_http("bedrock"))
    raise _unsupported(conn, "images")


BUILDERS = {"vision": vision, "text": text, "moderation": moderation, "images": images}
