"""Remote engines for workflow steps (super-resolution, background removal) through fal or Replicate.

The operations call `OpContext.remote(op_id, image, params)`; this module builds that hook from
settings with the same provider clients as image generation (retries, backoff, circuit breaker).
"""

from __future__ import annotations

import base64
import io
import math
from typing import Any
from urllib.parse import urlsplit

from PIL import Image

from app.errors import ValidationFailed
from app.providers.http import HttpOptions
from app.services.generation.base import ProviderError
from app.services.generation.providers_config import IMAGE_RESPONSE_BYTES
from app.services.workflows.base import OperationFailed, RemoteHook
from app.services.workflows.codec import encode_image
from app.settings import Settings

CAPABILITIES = ("upscale", "remove_background")
INLINE_OVERHEAD = 1024  # the JSON around the data: URI (keys, the scale, the mime prefix)


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


def available(settings: Settings) -> set[str]:
    return {op for op in CAPABILITIES if engine_for(settings, op)}


def _loopback(url: str) -> bool:
    return (urlsplit(url).hostname or "") in ("127.0.0.1", "localhost", "::1")


def _data_uri(image: bytes) -> str:
    mime = "image/png" if image[:8] == b"\x89PNG\r\n\x1a\n" else "image/jpeg"
    return f"data:{mime};base64,{base64.b64encode(image).decode()}"


def fit_inline(op_id: str, image: bytes, *, limit: int) -> bytes:
    """Image bytes whose data: URI fits a provider's input limit (the clients refuse bigger JSON bodies).

    Background removal only needs a matte, which the operation scales back to the full picture, so a
    big picture is sent smaller. An upscale of a smaller picture is not what was asked for: refused.
    """
    budget = (limit - INLINE_OVERHEAD) * 3 // 4
    if len(image) <= budget:
        return image
    if op_id != "remove_background":
        raise OperationFailed(f"The image is too large to send to the remote engine ({len(image) // 1000} KB "
                              f"encoded; at most {budget // 1000} KB can be sent). Resize it first or choose the "
                              "local engine.", code="remote_input_too_large")
    picture = Image.open(io.BytesIO(image))
    fmt = picture.format or "PNG"
    for _ in range(6):  # each pass aims just under the budget; JPEG sizes do not scale exactly with pixels
        scale = 0.95 * math.sqrt(budget / len(image))
        picture = picture.resize((max(1, int(picture.width * scale)), max(1, int(picture.height * scale))),
                                 Image.Resampling.LANCZOS)
        image = encode_image(picture, fmt, quality=95)
        if len(image) <= budget:
            return image
    raise OperationFailed("The image could not be made small enough to send to the remote engine.",
                          code="remote_input_too_large")


def _first_url(output: Any) -> str:
    """The result image's URL in the shapes fal and Replicate models answer with."""
    if isinstance(output, str):
        return output
    if isinstance(output, list) and output:
        return _first_url(output[0])
    if isinstance(output, dict):
        for key in ("image", "images", "output", "url"):
            if key in output:
                return _first_url(output[key])
    raise OperationFailed("The remote provider's answer holds no image.", code="remote_bad_result")


def _client(settings: Settings, engine: str) -> tuple[Any, int]:
    """The engine's client and the most bytes one request may carry."""
    http = HttpOptions(read_timeout=settings.image_timeouts.get(engine, settings.image_timeout_seconds),
                       max_response_bytes=IMAGE_RESPONSE_BYTES)
    if engine == "fal":
        from app.services.generation import fal

        return fal.FalClient(settings.image_fal_key, base_url=settings.image_fal_base_url, http=http,
                             allow_loopback=_loopback(settings.image_fal_base_url)), fal.MAX_INPUT_BYTES
    from app.services.generation import replicate

    return replicate.ReplicateClient(settings.image_replicate_api_token, base_url=settings.image_replicate_base_url,
                                     http=http, allow_loopback=_loopback(settings.image_replicate_base_url)), \
        replicate.MAX_INPUT_BYTES


def build_hook(settings: Settings) -> RemoteHook | None:
    routes = {op: engine_for(settings, op) for op in CAPABILITIES}
    if not any(routes.values()):
        return None
    clients = {name: _client(settings, name) for name in set(routes.values()) if name}

    def hook(op_id: str, image: bytes, params: dict[str, Any]) -> bytes:
        chosen = routes.get(op_id, "")
        if not chosen:
            raise ValidationFailed(f"No remote model is set for “{op_id}”.", code="remote_not_configured")
        client, limit = clients[chosen]
        model = _models(settings, chosen)[op_id]
        image = fit_inline(op_id, image, limit=limit)
        arguments: dict[str, Any] = {("image_url" if chosen == "fal" else "image"): _data_uri(image)}
        if op_id == "upscale":
            arguments["scale"] = int(params.get("factor", 2))
        try:
            output = client.run(model, arguments, timeout=settings.image_job_deadline_seconds)
            return client.fetch_image(_first_url(output)).data
        except ProviderError as exc:
            raise OperationFailed(f"The remote provider failed: {exc.message}", code=f"remote_{exc.code}") from exc

    return hook
