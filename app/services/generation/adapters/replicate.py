"""Text-to-image on Replicate (FLUX dev by default): the `ImageProvider` on app/providers/replicate.py's client."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from app.providers.files import DEFAULT_MAX_IMAGE_BYTES
from app.providers.http import HttpOptions, image_options, is_loopback
from app.providers.replicate import DEFAULT_API_URL, MODEL, ReplicateClient, output_urls
from app.services.generation.adapters.checks import check_request, nearest_aspect_ratio, parse_step_progress
from app.services.generation.base import (
    Capabilities,
    GeneratedImage,
    GenerationRequest,
    GenerationStatus,
    ProviderError,
)
from app.settings import get_settings

if TYPE_CHECKING:
    from app.services.ai.builders import Snapshot
    from app.settings import Settings

DEFAULT_MODEL = "black-forest-labs/flux-dev"
# FLUX on Replicate takes an aspect ratio (the model picks ~1 MP), not a width and height.
FLUX_ASPECT_RATIOS = ("1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21")
_ASPECT_RATIO_MODELS = ("black-forest-labs/flux-dev", "black-forest-labs/flux-schnell", "black-forest-labs/flux-pro",
                        "black-forest-labs/flux-1.1-pro")
_NO_NEGATIVE_PROMPT = ("black-forest-labs/",)


def _is_aspect_ratio_model(model: str) -> bool:
    return model.split(":", 1)[0] in _ASPECT_RATIO_MODELS


class ReplicateProvider:
    """Text-to-image on Replicate (FLUX dev by default). Thread-safe; handles are plain JSON.

    FLUX models get the nearest aspect ratio (they choose the pixel size); SDXL-style models get the
    exact width and height. Cancel answers True only when Replicate reports the prediction canceled.
    """

    name = "replicate"
    label = "Replicate"

    def __init__(self, api_token: str, *, model: str = DEFAULT_MODEL, models: tuple[str, ...] = (),
                 base_url: str = DEFAULT_API_URL, max_concurrency: int = 4, http: HttpOptions | None = None,
                 extra_input: dict[str, Any] | None = None, max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES,
                 allow_loopback: bool = False, client: ReplicateClient | None = None):
        if not MODEL.match(model):
            raise ValueError(f"{model!r} is not a Replicate model like 'owner/name' or 'owner/name:<version>'")
        self.model = model
        self.max_concurrency = max(1, max_concurrency)
        self.client = client or ReplicateClient(api_token, base_url=base_url, http=http,
                                                max_connections=self.max_concurrency, allow_loopback=allow_loopback)
        self._extra = dict(extra_input or {})
        self._max_image_bytes = max_image_bytes
        self.capabilities = Capabilities(
            negative_prompt=not model.startswith(_NO_NEGATIVE_PROMPT), seed=True, max_n=4, min_side=256,
            max_side=2048, size_multiple=8, steps=True, queue_position=False, cancel=True,
            models=tuple(dict.fromkeys((model, *models))))

    def close(self) -> None:
        self.client.close()

    def build_input(self, request: GenerationRequest, model: str) -> dict[str, Any]:
        """The model input: FLUX's documented `aspect_ratio`/`num_outputs`, or SDXL's `width`/`height`."""
        model_input: dict[str, Any] = {**self._extra, "prompt": request.prompt, "num_outputs": request.n,
                                       "seed": request.seed}
        if _is_aspect_ratio_model(model):
            model_input["aspect_ratio"] = nearest_aspect_ratio(request.width, request.height, FLUX_ASPECT_RATIOS)
            model_input.setdefault("output_format", "png")
        else:
            model_input.update(width=request.width, height=request.height)
        if request.negative_prompt:
            model_input["negative_prompt"] = request.negative_prompt
        return model_input

    def submit(self, request: GenerationRequest) -> dict[str, Any]:
        model = request.model or self.model
        capabilities = replace(self.capabilities, negative_prompt=not model.startswith(_NO_NEGATIVE_PROMPT))
        check_request(request, capabilities, label=self.label)
        prediction = self.client.create_prediction(model, self.build_input(request, model))
        return {"prediction_id": prediction["id"], "model": model, "n": request.n, "seed": request.seed}

    def status(self, handle: dict[str, Any]) -> GenerationStatus:
        prediction = self.client.get_prediction(handle.get("prediction_id"))
        state = prediction["status"]
        if state == "starting":
            return GenerationStatus("queued", "starting (Replicate is booting a worker or queueing)")
        if state == "processing":
            logs = prediction.get("logs") if isinstance(prediction.get("logs"), str) else ""
            progress = parse_step_progress(logs)
            step, steps = progress if progress else (None, None)
            return GenerationStatus("running", "generating on Replicate", step=step, steps=steps)
        if state == "canceled":
            return GenerationStatus("canceled", "canceled on Replicate")
        if state == "failed":
            error = prediction.get("error")
            said = " ".join(str(error).split())[:300] if error else "the prediction failed"
            return GenerationStatus("failed", f"Replicate: {said}", error_code="provider_error")
        try:
            output_urls(prediction.get("output"))
        except ProviderError as exc:
            return GenerationStatus("failed", str(exc), error_code=exc.code)
        return GenerationStatus("succeeded", "done")

    def result(self, handle: dict[str, Any]) -> list[GeneratedImage]:
        prediction = self.client.get_prediction(handle.get("prediction_id"))
        if prediction["status"] != "succeeded":
            raise ProviderError(f"the Replicate prediction is {prediction['status']}, not succeeded",
                                code="provider_error" if prediction["status"] == "failed" else "bad_request")
        urls = output_urls(prediction.get("output"))[: max(1, min(int(handle.get("n") or 1), 8))]
        seed = handle.get("seed") if isinstance(handle.get("seed"), int) else None
        images = []
        for index, url in enumerate(urls):
            fetched = self.client.fetch_image(url, max_bytes=self._max_image_bytes)
            images.append(GeneratedImage(fetched.data, fetched.mime, seed=seed, extras={
                "model": handle.get("model"), "prediction_id": prediction["id"], "batch_index": index,
                "width": fetched.width, "height": fetched.height}))
        return images

    def cancel(self, handle: dict[str, Any]) -> bool:
        return self.client.cancel_prediction(handle.get("prediction_id"))


def from_settings(settings: Settings) -> ReplicateProvider:
    """The registry's builder (app/providers/registry.py), from IMAGE_REPLICATE_*."""
    return ReplicateProvider(settings.image_replicate_api_token, model=settings.image_replicate_model,
                             base_url=settings.image_replicate_base_url, http=image_options(settings, "replicate"),
                             allow_loopback=is_loopback(settings.image_replicate_base_url))


def settings_connection(settings: Settings) -> tuple[str, str, str, dict[str, str]]:
    """(base URL, key, model, options) of the AI connection `make run` seeds from these settings once."""
    return (settings.image_replicate_base_url, settings.image_replicate_api_token, settings.image_replicate_model,
            {})

def from_connection(conn: Snapshot, model: str) -> ReplicateProvider:
    """The registry's builder for a stored AI connection (app/services/ai/builders.py) running `model`."""
    return ReplicateProvider(conn.api_key, model=model, base_url=conn.base_url,
                             http=image_options(get_settings(), "replicate"), allow_loopback=is_loopback(conn.base_url))
