"""Workflow steps on fal or Replicate: a model per step, run through the provider's queued-job client.

The clients are app/providers' (the ones image generation uses: retries, backoff, circuit breaker); the image
goes inline as a `data:` URI, so it must fit the provider's input limit (`fit_inline`).
"""

from __future__ import annotations

import base64
import io
import math
from typing import Any, Literal

from PIL import Image

from app.providers.errors import ProviderError
from app.providers.fal import FalClient
from app.providers.http import HttpOptions, is_loopback
from app.providers.queued import QueuedJobClient
from app.providers.replicate import ReplicateClient
from app.services.workflows.base import OperationFailed
from app.services.workflows.codec import encode_image

INLINE_OVERHEAD = 1024  # the JSON around the data: URI (keys, the scale, the mime prefix)


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


_CLIENTS: dict[str, type[QueuedJobClient]] = {"fal": FalClient, "replicate": ReplicateClient}


def queue_client(engine: str, api_key: str, *, base_url: str, http: HttpOptions,
                 name: str | None = None) -> QueuedJobClient:
    """The fal or Replicate client a step engine runs on; result files may come from loopback only when the
    provider itself is there (a local server or a test fake)."""
    return _CLIENTS[engine](api_key, base_url=base_url, http=http, allow_loopback=is_loopback(base_url),
                            name=name or engine)


class QueueSteps:
    """Steps on fal or Replicate: `models` maps each step it runs to a model ("" or absent = not this one).

    `client` is that provider's queued-job client; `deadline` the seconds a model may take, queue included.
    """

    def __init__(self, engine: Literal["fal", "replicate"], client: QueuedJobClient, models: dict[str, str], *,
                 deadline: float):
        if engine not in _CLIENTS:
            raise ValueError(f"unknown queue engine {engine!r}")
        self.name = engine
        self.client, self.models, self.deadline = client, dict(models), deadline
        self.limit = client.max_input_bytes  # the most bytes one request may carry

    def supports(self, op_id: str) -> bool:
        return bool(self.models.get(op_id))

    def run(self, op_id: str, image: bytes, params: dict[str, Any]) -> bytes:
        model = self.models.get(op_id)
        if not model:
            raise OperationFailed(f"No {self.name} model is set for “{op_id}”.", code="remote_not_configured")
        image = fit_inline(op_id, image, limit=self.limit)
        arguments: dict[str, Any] = {("image_url" if self.name == "fal" else "image"): _data_uri(image)}
        if op_id == "upscale":
            arguments["scale"] = int(params.get("factor", 2))
        try:
            output = self.client.run(model, arguments, timeout=self.deadline)
            return self.client.fetch_image(_first_url(output)).data
        except ProviderError as exc:
            raise OperationFailed(f"The remote provider failed: {exc.message}", code=f"remote_{exc.code}") from exc
