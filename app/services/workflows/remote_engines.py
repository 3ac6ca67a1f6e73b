"""Remote engines for workflow steps (super-resolution, background removal) from settings: fal or Replicate.

The operations call `OpContext.remote(op_id, image, params)`; this module builds that hook from settings
with the same provider clients as image generation (retries, backoff, circuit breaker). Engines for local
AI servers (A1111, ComfyUI) take plain values and are combined with `step_engines.hook_from_engines`.
"""

from __future__ import annotations

from app.providers.http import image_options
from app.providers.queued import QueuedJobClient
from app.services.workflows.base import RemoteHook
from app.services.workflows.step_engines import CAPABILITIES, hook_from_engines
from app.services.workflows.steps_queue import QueueSteps, fit_inline, queue_client
from app.settings import Settings

__all__ = ["CAPABILITIES", "available", "build_hook", "engine_for", "fit_inline"]


def _models(settings: Settings, engine: str) -> dict[str, str]:
    if engine == "fal":
        return {"upscale": settings.workflow_fal_upscale_model,
                "remove_background": settings.workflow_fal_background_model}
    return {"upscale": settings.workflow_replicate_upscale_model,
            "remove_background": settings.workflow_replicate_background_model}


def _has_key(settings: Settings, engine: str) -> bool:
    return bool(settings.image_fal_key if engine == "fal" else settings.image_replicate_api_token)


def engine_for(settings: Settings, op_id: str) -> str:
    """The engine that runs `op_id`: fal when it has a key and a model for it, else Replicate on the same
    terms; "" when neither can. (With both set up, a step whose fal model is blank goes to Replicate.)"""
    for name in ("fal", "replicate"):
        if _has_key(settings, name) and _models(settings, name).get(op_id):
            return name
    return ""


def _settings_rule() -> bool:
    """Settings pick the step engines only until they were seeded into AI connections."""
    from app.services.ai import seed

    return seed.seeded_ref("image:fal") is None and seed.seeded_ref("image:replicate") is None


def available(settings: Settings) -> set[str]:
    """Steps a remote engine can run: those with a default connection, then those settings configure."""
    from app.services.ai import resolve
    from app.services.ai.steps import STEP_CAPABILITY

    stored = {op for op, capability in STEP_CAPABILITY.items() if resolve.default_ref(capability)}
    if not _settings_rule():
        return stored
    return stored | {op for op in CAPABILITIES if engine_for(settings, op)}


def _client(settings: Settings, engine: str) -> QueuedJobClient:
    if engine == "fal":
        return queue_client("fal", settings.image_fal_key, base_url=settings.image_fal_base_url,
                            http=image_options(settings, engine))
    return queue_client("replicate", settings.image_replicate_api_token, base_url=settings.image_replicate_base_url,
                        http=image_options(settings, engine))


def build_hook(settings: Settings) -> RemoteHook | None:
    """The hook for remote steps: each step on its default AI connection (A1111, ComfyUI, fal, Replicate),
    else — until settings were seeded into connections — on the fal or Replicate model settings give it.
    None when no step has an engine."""
    from app.services.ai.steps import default_engines

    chosen = default_engines()
    routes = {op: engine_for(settings, op) for op in CAPABILITIES if op not in chosen} if _settings_rule() else {}
    engines = {}
    for name in {engine for engine in routes.values() if engine}:
        engines[name] = QueueSteps(name, _client(settings, name), _models(settings, name),
                                   deadline=settings.image_job_deadline_seconds)
    chosen |= {op: engines[name] for op, name in routes.items() if name}
    return hook_from_engines(chosen) if chosen else None
