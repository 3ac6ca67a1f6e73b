"""Workflow steps (upscale, remove background) on the cut-out and upscale default connections: A1111 /
Forge, ComfyUI, fal or Replicate. One engine a step, built once per process for a connection version."""

from __future__ import annotations

from typing import Any

from app.errors import ValidationFailed
from app.process_cache import ForkSafeCache
from app.providers.http import HttpOptions, image_options
from app.services.ai import resolve
from app.services.ai.builders import Snapshot
from app.settings import get_settings

# A workflow step → the capability whose default runs it.
STEP_CAPABILITY = {"upscale": "upscale", "remove_background": "cutout"}
_engines = ForkSafeCache()


def _http(preset: str) -> HttpOptions:
    return image_options(get_settings(), preset)


def step_engine(conn: Snapshot, op_id: str, model: str) -> Any:
    """A StepEngine (app.services.workflows.step_engines) doing `op_id` with `model` on the connection."""
    deadline = get_settings().image_job_deadline_seconds
    upscale = op_id == "upscale"
    if conn.preset == "a1111":
        from app.services.workflows.steps_a1111 import A1111Steps

        return A1111Steps(conn.base_url, auth=conn.api_key, upscaler=model if upscale else "",
                          rembg_model="" if upscale else (model if model != "rembg" else "u2net"),
                          http=_http("a1111"))
    if conn.preset == "comfyui":
        from app.services.generation.adapters.comfyui_workflow import WorkflowError
        from app.services.workflows.steps_comfyui import ComfyUISteps, load_step_workflow

        key = "upscale_workflow" if upscale else "background_workflow"
        try:
            workflow = load_step_workflow(op_id, conn.options.get(key) or None)
        except WorkflowError as exc:
            raise ValidationFailed(f"The {op_id.replace('_', ' ')} workflow of “{conn.name}” cannot be used: {exc}",
                                   code="provider_misconfigured") from exc
        return ComfyUISteps(conn.base_url, upscale_workflow=workflow if upscale else None,
                            background_workflow=None if upscale else workflow,
                            **({"upscale_model": model} if upscale else {}), http=_http("comfyui"),
                            deadline_seconds=deadline)
    if conn.preset in ("fal", "replicate"):
        from app.services.workflows.steps_queue import QueueSteps, queue_client

        client = queue_client(conn.preset, conn.api_key, base_url=conn.base_url, http=_http(conn.preset),
                              name=conn.name)
        return QueueSteps(conn.preset, client, {op_id: model}, deadline=deadline)
    raise ValidationFailed(f"“{conn.name}” cannot run workflow steps.", code="capability_not_offered")


def default_engines() -> dict[str, Any]:
    """Step → engine, for the steps whose capability has a default connection."""
    found = {}
    for op_id, capability in STEP_CAPABILITY.items():
        ref = resolve.default_ref(capability)
        if not ref:
            continue
        snap = resolve.check(capability, ref)
        model = resolve.parse_ref(ref)[1]
        key = f"{snap.id}|{snap.version}|{snap.created}|{op_id}|{model}"
        with _engines.lock:
            engine = _engines.get(key)
            if engine is None:
                engine = _engines[key] = step_engine(snap, op_id, model)
        found[op_id] = engine
    return found


def forget() -> None:
    with _engines.lock:
        built = list(_engines.values())
        _engines.clear()
    for engine in built:
        close = getattr(engine, "close", None)
        if callable(close):
            close()
