"""Image generation through Stability AI's Stable Image API (v2beta): Core, Ultra and SD 3.5.

`POST /v2beta/stable-image/generate/{core|ultra|sd3}` takes multipart/form-data and answers in one
blocking call with one image, so this is a `SyncCallProvider` that makes n calls for n images, one after
the other so that a cancel stops the ones not yet sent (the call on the wire cannot be stopped: cancel
answers False). We ask for `Accept: application/json`, whose answer carries the image, the seed and the
finish reason in one body (`CONTENT_FILTERED` → code content_filtered).

The API takes an aspect ratio, not a size: we send the supported ratio nearest to the requested size, and
the image's real size is in its extras.

Retries: a generation call is retried only after a 429 (refused, so not billed). After a timeout or a
5xx Stability may have made and billed the image; those go back to the caller.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from app.providers.files import decode_base64_image
from app.providers.http import HttpOptions, RemoteClient, image_options
from app.providers.submit import send_submit
from app.services.generation.adapters.checks import check_request, nearest_aspect_ratio
from app.services.generation.adapters.common import (
    PROMPT_MAX,
    CallAwareProvider,
    as_generated,
    image_http_options,
)
from app.services.generation.base import Capabilities, GeneratedImage, GenerationRequest, ProviderError
from app.settings import get_settings

if TYPE_CHECKING:
    from app.services.ai.builders import Snapshot
    from app.settings import Settings

ASPECT_RATIOS = ("16:9", "1:1", "21:9", "2:3", "3:2", "4:5", "5:4", "9:16", "9:21")
SEED_LIMIT = 4_294_967_295  # Stability takes seeds 0..4294967294 (0 = random)
MAX_N = 4
MODELS = ("core", "ultra", "sd3.5-large", "sd3.5-large-turbo", "sd3.5-medium", "sd3.5-flash")
OUTPUT_FORMATS = {"png": ("core", "ultra", "sd3"), "jpeg": ("core", "ultra", "sd3"), "webp": ("core", "ultra")}


def endpoint_for(model: str) -> tuple[str, str | None]:
    """(endpoint, the form's `model` field) for a model name: "core", "ultra" or an "sd3…" model."""
    if model in ("core", "stable-image-core"):
        return "core", None
    if model in ("ultra", "stable-image-ultra"):
        return "ultra", None
    if model.startswith("sd3"):
        return "sd3", model
    raise ProviderError(f"Stability has no model {model!r}; use core, ultra or an sd3.5 model", code="bad_request")


def capabilities_for(model: str, models: tuple[str, ...] = MODELS) -> Capabilities:
    # Stability's turbo models ignore negative prompts, so the page hides the field for them.
    return Capabilities(negative_prompt="turbo" not in model, seed=True, max_n=MAX_N, min_side=256,
                        max_side=2048, size_multiple=8, cancel=False,
                        models=tuple(dict.fromkeys((model, *models))))


def _classify(status: int, message: str, data: Any) -> ProviderError | None:
    """Stability's error bodies are `{"id", "name", "errors": [...]}`; a 403 may be its content filter."""
    name = data.get("name") if isinstance(data, dict) else None
    errors = data.get("errors") if isinstance(data, dict) else None
    text = "; ".join(e for e in errors if isinstance(e, str)) if isinstance(errors, list) else ""
    text = (text or message or str(name or ""))[:300]
    if status == 403 and name == "content_moderation":
        return ProviderError(f"Stability's content filter refused the request: {text}", code="content_filtered")
    if status == 402:
        return ProviderError(f"the Stability account is out of credits: {text}", code="bad_request")
    if status in (400, 404, 413, 422):
        return ProviderError(f"Stability refused the request (HTTP {status}): {text}", code="bad_request")
    return None  # 401/403, 429 and 5xx keep the shared mapping (auth_failed, Retry-After, breaker)


class StabilityImages(CallAwareProvider):
    """Stability AI's Stable Image generate endpoints with a Bearer API key."""

    name = "stability"
    label = "Stability AI"

    def __init__(self, base_url: str = "https://api.stability.ai", api_key: str = "", model: str = "core", *,
                 output_format: str = "png", http: HttpOptions | None = None, max_concurrency: int = 2):
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("the Stability base URL must start with http:// or https://")
        try:
            endpoint, _ = endpoint_for(model)
        except ProviderError as exc:
            raise ValueError(str(exc)) from exc
        if endpoint not in OUTPUT_FORMATS.get(output_format, ()):
            raise ValueError(f"Stability's {endpoint} endpoint cannot write {output_format!r}; "
                             f"use {', '.join(f for f, e in OUTPUT_FORMATS.items() if endpoint in e)}")
        self.max_concurrency = max(1, max_concurrency)
        super().__init__()
        self.base = base_url.rstrip("/")
        self.model, self.output_format = model, output_format
        self.capabilities = capabilities_for(model)
        self._headers = {"Accept": "application/json", **({"Authorization": f"Bearer {api_key}"} if api_key else {})}
        self.client = RemoteClient(self.name, options=image_http_options(http, read_timeout=120.0),
                                   max_connections=self.max_concurrency, classify=_classify)

    def close(self) -> None:
        self.client.close()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def check(self, request: GenerationRequest) -> None:
        model = request.model or self.model
        endpoint, _ = endpoint_for(model)
        if endpoint not in OUTPUT_FORMATS[self.output_format]:
            raise ProviderError(f"Stability's {endpoint} endpoint cannot write {self.output_format}",
                                code="bad_request")
        caps = replace(capabilities_for(model), models=self.capabilities.models)
        check_request(request, caps, label=f"{self.label} ({model})", max_prompt_chars=PROMPT_MAX)

    def run(self, request: GenerationRequest, call_id: str) -> list[GeneratedImage]:
        model = request.model or self.model
        endpoint, form_model = endpoint_for(model)
        ratio = nearest_aspect_ratio(request.width, request.height, ASPECT_RATIOS)
        images: list[GeneratedImage] = []
        for index in range(request.n):
            if self.cancel_requested(call_id):  # stop before paying for the calls not yet made
                raise ProviderError("canceled before every image was made", code="canceled")
            fields = {"prompt": request.prompt, "aspect_ratio": ratio, "output_format": self.output_format,
                      # One image per call: consecutive seeds keep a batch reproducible from the first seed.
                      "seed": str((request.seed + index) % SEED_LIMIT)}
            if request.negative_prompt:
                fields["negative_prompt"] = request.negative_prompt
            if form_model:
                fields |= {"model": form_model, "mode": "text-to-image"}
            # Every field as a (no filename, value) part: the API wants multipart/form-data, not a urlencoded form.
            answer = send_submit(self.client, "POST", f"{self.base}/v2beta/stable-image/generate/{endpoint}",
                                 files={key: (None, value) for key, value in fields.items()}, headers=self._headers)
            images.append(self._image(answer, model=model, ratio=ratio))
        return images

    def _image(self, answer: Any, *, model: str, ratio: str) -> GeneratedImage:
        if not isinstance(answer, dict):
            raise ProviderError(f"{self.label} answered with something that is not an object", code="bad_response")
        reason = answer.get("finish_reason")
        if reason == "CONTENT_FILTERED":
            raise ProviderError("Stability's content filter blocked the image; try another prompt",
                                code="content_filtered")
        if reason != "SUCCESS":
            raise ProviderError(f"{self.label} answered with finish_reason {reason!r}", code="bad_response")
        seed = answer.get("seed")
        try:
            seed = int(seed) if seed is not None and not isinstance(seed, bool) else None
        except (TypeError, ValueError):
            seed = None
        image = decode_base64_image(answer.get("image"), source=self.label)
        return as_generated(image, seed=seed, extras={"model": model, "aspect_ratio": ratio})


def from_settings(settings: Settings) -> StabilityImages:
    """The registry's builder (app/providers/registry.py), from IMAGE_STABILITY_*."""
    return StabilityImages(settings.image_stability_base_url, settings.image_stability_api_key,
                           settings.image_stability_model, http=image_options(settings, "stability"))


def settings_connection(settings: Settings) -> tuple[str, str, str, dict[str, str]]:
    """(base URL, key, model, options) of the AI connection `make run` seeds from these settings once."""
    return settings.image_stability_base_url, settings.image_stability_api_key, settings.image_stability_model, {}

def from_connection(conn: Snapshot, model: str) -> StabilityImages:
    """The registry's builder for a stored AI connection (app/services/ai/builders.py) running `model`."""
    return StabilityImages(conn.base_url, conn.api_key, model or "core",
                           http=image_options(get_settings(), "stability"))
