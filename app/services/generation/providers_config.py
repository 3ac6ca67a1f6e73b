"""Which image providers are set up, and how each is built from settings (only this module reads them)."""

from __future__ import annotations

from urllib.parse import urlsplit

from app.errors import ValidationFailed
from app.providers.http import HttpOptions
from app.services.generation.base import ImageProvider
from app.settings import Settings

IMAGE_RESPONSE_BYTES = 64 * 1024 * 1024  # four big PNGs in base64 fit; a runaway body does not


def _http(settings: Settings, provider: str) -> HttpOptions:
    timeout = settings.image_timeouts.get(provider, settings.image_timeout_seconds)
    return HttpOptions(read_timeout=timeout, max_response_bytes=IMAGE_RESPONSE_BYTES)


def _loopback(url: str) -> bool:
    # Result files may come from the provider's own host; on loopback (a local server or a test
    # fake) that host is 127.0.0.1, which the download guard otherwise refuses.
    return (urlsplit(url).hostname or "") in ("127.0.0.1", "localhost", "::1")


def configured(name: str, settings: Settings) -> bool:
    return {
        "local": True,
        "openai": bool(settings.image_openai_base_url),
        "a1111": bool(settings.image_a1111_url),
        "comfyui": bool(settings.image_comfyui_url),
        "fal": bool(settings.image_fal_key),
        "replicate": bool(settings.image_replicate_api_token),
        "stability": bool(settings.image_stability_api_key),
        "bedrock": bool(settings.image_bedrock_region),
    }[name]


def build_local(settings: Settings) -> ImageProvider:
    from app.services.generation.local_engine import LocalDesignEngine

    return LocalDesignEngine()


def build_openai(settings: Settings) -> ImageProvider:
    from app.services.generation.openai_images import OpenAIImages

    return OpenAIImages(settings.image_openai_base_url, settings.image_openai_api_key, settings.image_openai_model,
                        http=_http(settings, "openai"))


def build_a1111(settings: Settings) -> ImageProvider:
    from app.services.generation.a1111 import A1111

    return A1111(settings.image_a1111_url, settings.image_a1111_auth, steps=settings.image_a1111_steps,
                 http=_http(settings, "a1111"))


def build_comfyui(settings: Settings) -> ImageProvider:
    from app.services.generation.comfyui import ComfyUI
    from app.services.generation.comfyui_workflow import WorkflowError, load_workflow

    try:
        workflow = load_workflow(settings.image_comfyui_workflow or None)
    except WorkflowError as exc:
        raise ValidationFailed(f"The ComfyUI workflow cannot be used: {exc}", code="provider_misconfigured") from exc
    return ComfyUI(settings.image_comfyui_url, model=settings.image_comfyui_checkpoint, workflow=workflow,
                   http=_http(settings, "comfyui"))


def build_fal(settings: Settings) -> ImageProvider:
    from app.services.generation.fal import FalProvider

    return FalProvider(settings.image_fal_key, model=settings.image_fal_model, base_url=settings.image_fal_base_url,
                     http=_http(settings, "fal"), allow_loopback=_loopback(settings.image_fal_base_url))


def build_replicate(settings: Settings) -> ImageProvider:
    from app.services.generation.replicate import ReplicateProvider

    return ReplicateProvider(settings.image_replicate_api_token, model=settings.image_replicate_model,
                           base_url=settings.image_replicate_base_url, http=_http(settings, "replicate"),
                           allow_loopback=_loopback(settings.image_replicate_base_url))


def build_stability(settings: Settings) -> ImageProvider:
    from app.services.generation.stability import StabilityImages

    return StabilityImages(settings.image_stability_base_url, settings.image_stability_api_key,
                           settings.image_stability_model, http=_http(settings, "stability"))


def build_bedrock(settings: Settings) -> ImageProvider:
    from app.services.generation.bedrock import BedrockProvider

    return BedrockProvider(region=settings.image_bedrock_region, model=settings.image_bedrock_model,
                         endpoint_url=settings.image_bedrock_endpoint_url or None, http=_http(settings, "bedrock"))
