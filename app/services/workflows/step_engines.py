"""Engines that run workflow steps (upscale, remove background) on another machine, behind one small interface.

An engine takes plain values (a URL, a key, model names, HTTP options), never Settings, so it can be built
from settings (`remote_engines.build_hook`) or from a stored connection. `hook_from_engines` turns a choice
of engine per step into the `RemoteHook` the operations call. The engines:

- `QueueSteps` (steps_queue.py): fal or Replicate models through their queues.
- `A1111Steps` (steps_a1111.py): an AUTOMATIC1111 / Forge web UI started with --api.
- `ComfyUISteps` (steps_comfyui.py): a ComfyUI server running a workflow with a parameter map.

What the operations check on every engine's answer (the size of an upscale, the cut-out's alpha and matte)
lives in the operations, so no engine can skip it.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any, Protocol

from PIL import Image

from app.errors import ValidationFailed
from app.providers.errors import ProviderError
from app.providers.files import decode_image
from app.services.workflows.base import OperationFailed, RemoteHook
from app.services.workflows.codec import encode_image

CAPABILITIES = ("upscale", "remove_background")


class StepEngine(Protocol):
    """Runs some workflow steps remotely; `run` raises OperationFailed with a `remote_*` code."""

    name: str

    def supports(self, op_id: str) -> bool: ...

    def run(self, op_id: str, image: bytes, params: dict[str, Any]) -> bytes: ...


def hook_from_engines(engines: Mapping[str, StepEngine]) -> RemoteHook:
    """The hook operations call, sending each step (op id → engine) to its engine.

    Raises ValueError at once when an engine is given a step it does not support.
    """
    routes = dict(engines)
    for op_id, engine in routes.items():
        if not engine.supports(op_id):
            raise ValueError(f"the {engine.name} engine cannot run the “{op_id}” step")

    def hook(op_id: str, image: bytes, params: dict[str, Any]) -> bytes:
        engine = routes.get(op_id)
        if engine is None:
            raise ValidationFailed(f"No remote model is set for “{op_id}”.", code="remote_not_configured")
        return engine.run(op_id, image, params)

    return hook


def failure(label: str, exc: ProviderError) -> OperationFailed:
    """A provider error as the step's failure: the server named, the code kept (remote_timeout, ...)."""
    return OperationFailed(f"{label} failed: {exc.message}", code=f"remote_{exc.code}")


def exact_upscale(result: bytes, source: bytes, factor: float, *, label: str) -> bytes:
    """`result` at exactly `factor` × the source's size: a server whose model enlarges 4× when 2× was asked
    (or rounds a side) is resized here, so every engine returns the size the step promised."""
    try:
        fetched = decode_image(result, source=label)
    except ProviderError as exc:
        raise OperationFailed(f"{label} returned an unusable image: {exc.message}", code="remote_bad_result") from exc
    with Image.open(io.BytesIO(source)) as original:
        wanted = (round(original.width * factor), round(original.height * factor))
    if (fetched.width, fetched.height) == wanted:
        return result
    with Image.open(io.BytesIO(result)) as image:
        image.load()
        return encode_image(image.resize(wanted, Image.Resampling.LANCZOS), "PNG")
