"""Text-to-image on fal.ai's queue (FLUX by default): the `ImageProvider` on app/providers/fal.py's client."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from app.providers.fal import DEFAULT_QUEUE_URL, ERROR_TYPES, MODEL_ID, FalClient, FalRequestError
from app.providers.files import DEFAULT_MAX_IMAGE_BYTES
from app.providers.http import HttpOptions, image_options, is_loopback
from app.services.generation.adapters.checks import check_request, parse_step_progress
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

DEFAULT_MODEL = "fal-ai/flux/dev"
# Text-to-image endpoints whose input schema has `negative_prompt` (FLUX models have none).
_NEGATIVE_PROMPT_MODELS = ("fal-ai/fast-sdxl", "fal-ai/fast-lightning-sdxl", "fal-ai/stable-diffusion",
                           "fal-ai/lora", "fal-ai/hidream")


class FalProvider:
    """Text-to-image on fal's queue (FLUX by default). Thread-safe; handles are plain JSON.

    Cancel is honest: True when fal removed the request from its queue before a runner took it, or when
    the status afterwards shows it ended cancelled. For a running request fal only forwards a signal the
    model may ignore, so cancel answers False and `status` reports "canceled" if the runner does stop.
    """

    name = "fal"
    label = "fal.ai"

    def __init__(self, api_key: str, *, model: str = DEFAULT_MODEL, models: tuple[str, ...] = (),
                 base_url: str = DEFAULT_QUEUE_URL, max_concurrency: int = 4, http: HttpOptions | None = None,
                 extra_input: dict[str, Any] | None = None, negative_prompt: bool | None = None,
                 max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES, allow_loopback: bool = False,
                 client: FalClient | None = None):
        if not MODEL_ID.match(model):
            raise ValueError(f"{model!r} is not a fal endpoint id like 'fal-ai/flux/dev'")
        self.model = model
        self.max_concurrency = max(1, max_concurrency)
        self.client = client or FalClient(api_key, base_url=base_url, http=http,
                                          max_connections=self.max_concurrency, allow_loopback=allow_loopback)
        self._negative_override = negative_prompt
        self._extra = dict(extra_input or {})
        self._max_image_bytes = max_image_bytes
        self.capabilities = Capabilities(
            negative_prompt=self._takes_negative(model), seed=True, max_n=4, min_side=256, max_side=2048,
            size_multiple=8, steps=False, queue_position=True, cancel=True,
            models=tuple(dict.fromkeys((model, *models))))

    def close(self) -> None:
        self.client.close()

    def _takes_negative(self, model: str) -> bool:
        if self._negative_override is not None:
            return self._negative_override
        return model.startswith(_NEGATIVE_PROMPT_MODELS)

    def build_input(self, request: GenerationRequest, model: str) -> dict[str, Any]:
        """The text-to-image input as fal's FLUX/SDXL endpoints document it (`extra_input` adds model options)."""
        arguments: dict[str, Any] = {**self._extra, "prompt": request.prompt,
                                     "image_size": {"width": request.width, "height": request.height},
                                     "num_images": request.n, "seed": request.seed}
        if request.negative_prompt:
            arguments["negative_prompt"] = request.negative_prompt
        return arguments

    def submit(self, request: GenerationRequest) -> dict[str, Any]:
        model = request.model or self.model
        check_request(request, replace(self.capabilities, negative_prompt=self._takes_negative(model)),
                      label=self.label)
        handle = self.client.submit(model, self.build_input(request, model))
        return {**handle, "n": request.n}

    def status(self, handle: dict[str, Any]) -> GenerationStatus:
        current = self.client.status(handle)
        if current.state == "IN_QUEUE":
            position = current.queue_position
            where = f" ({position} ahead)" if position is not None else ""
            return GenerationStatus("queued", f"waiting in fal's queue{where}", queue_position=position)
        if current.state == "IN_PROGRESS":
            progress = parse_step_progress("\n".join(current.logs))
            step, steps = progress if progress else (None, None)
            return GenerationStatus("running", "generating on fal", step=step, steps=steps)
        if current.error_type == "client_cancelled":
            return GenerationStatus("canceled", "canceled on fal")
        if current.error or current.error_type:
            return GenerationStatus("failed", f"fal: {current.error or current.error_type}",
                                    error_code=ERROR_TYPES.get(current.error_type, "provider_error"))
        # COMPLETED does not say whether the model succeeded: fal reports a model's failure when the
        # output is fetched, so look at it now (it is small JSON; the images are URLs).
        try:
            self._image_entries(self.client.output(handle))
        except FalRequestError as exc:
            if exc.code == "canceled":
                return GenerationStatus("canceled", "canceled on fal")
            return GenerationStatus("failed", str(exc), error_code=exc.code)
        except ProviderError as exc:
            if exc.code != "bad_response":
                raise  # we could not look (outage, rate limit); the request may well have succeeded
            return GenerationStatus("failed", str(exc), error_code=exc.code)
        return GenerationStatus("succeeded", "done")

    @staticmethod
    def _image_entries(output: dict[str, Any]) -> list[dict[str, Any]]:
        images = output.get("images")
        if images is None and isinstance(output.get("image"), dict):
            images = [output["image"]]  # single-image endpoints (upscalers, background removal)
        if not isinstance(images, list) or not images:
            raise ProviderError("fal's output has no images", code="bad_response")
        if not all(isinstance(item, dict) and isinstance(item.get("url"), str) for item in images):
            raise ProviderError("fal's output lists an image without a URL", code="bad_response")
        return images

    def result(self, handle: dict[str, Any]) -> list[GeneratedImage]:
        output = self.client.output(handle)
        entries = self._image_entries(output)[: max(1, min(int(handle.get("n") or 1), 8))]
        seed = output.get("seed") if isinstance(output.get("seed"), int) else None
        flags = output.get("has_nsfw_concepts") if isinstance(output.get("has_nsfw_concepts"), list) else []
        images = []
        for index, entry in enumerate(entries):
            fetched = self.client.fetch_image(entry["url"], max_bytes=self._max_image_bytes)
            extras: dict[str, Any] = {"model": handle.get("model"), "request_id": handle.get("request_id"),
                                      "batch_index": index, "width": fetched.width, "height": fetched.height}
            if index < len(flags) and flags[index] is True:
                extras["nsfw_filtered"] = True  # fal's safety checker blanks such images
            images.append(GeneratedImage(fetched.data, fetched.mime, seed=seed, extras=extras))
        return images

    def cancel(self, handle: dict[str, Any]) -> bool:
        return self.client.cancel(handle)


def from_settings(settings: Settings) -> FalProvider:
    """The registry's builder (app/providers/registry.py), from IMAGE_FAL_*."""
    return FalProvider(settings.image_fal_key, model=settings.image_fal_model, base_url=settings.image_fal_base_url,
                       http=image_options(settings, "fal"), allow_loopback=is_loopback(settings.image_fal_base_url))


def settings_connection(settings: Settings) -> tuple[str, str, str, dict[str, str]]:
    """(base URL, key, model, options) of the AI connection `make run` seeds from these settings once."""
    return settings.image_fal_base_url, settings.image_fal_key, settings.image_fal_model, {}

def from_connection(conn: Snapshot, model: str) -> FalProvider:
    """The registry's builder for a stored AI connection (app/services/ai/builders.py) running `model`."""
    return FalProvider(conn.api_key, model=model, base_url=conn.base_url, http=image_options(get_settings(), "fal"),
                       allow_loopback=is_loopback(conn.base_url))
