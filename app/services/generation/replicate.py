"""Replicate through its predictions API: create, poll (status, logs with tqdm progress), cancel.

`ReplicateClient` runs any model with an arbitrary input dict (image workflows use it for upscaling or
background removal); `ReplicateProvider` is the text-to-image `ImageProvider` built on it.

Official models ("owner/name") are created at `POST /v1/models/{owner}/{name}/predictions`; community
models pinned to a version ("owner/name:<64 hex>") at `POST /v1/predictions` with `version`. A community
model named without a version (the official endpoint answers 404) runs its latest version, read from
`GET /v1/models/{owner}/{name}` (`latest_version.id`) and remembered for the life of the client. A prediction
is then read at `GET /v1/predictions/{id}` and cancelled at `POST /v1/predictions/{id}/cancel`.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from app.providers.files import DEFAULT_MAX_IMAGE_BYTES, FetchedImage, fetch_image
from app.providers.http import HttpOptions, RemoteClient, image_options, is_loopback
from app.providers.submit import check_input_size, same_origin, send_submit
from app.services.generation.base import (
    Capabilities,
    GeneratedImage,
    GenerationRequest,
    GenerationStatus,
    ProviderError,
)
from app.services.generation.remote_checks import check_request, nearest_aspect_ratio, parse_step_progress

if TYPE_CHECKING:
    from app.settings import Settings

DEFAULT_API_URL = "https://api.replicate.com"
DEFAULT_MODEL = "black-forest-labs/flux-dev"
MAX_INPUT_BYTES = 1024 * 1024
STATUSES = frozenset({"starting", "processing", "succeeded", "failed", "canceled"})
TERMINAL = frozenset({"succeeded", "failed", "canceled"})
_MODEL = re.compile(r"^(?P<owner>[A-Za-z0-9][\w.-]*)/(?P<name>[A-Za-z0-9][\w.-]*)(?::(?P<version>[0-9a-f]{64}))?$")
_PREDICTION_ID = re.compile(r"^[A-Za-z0-9]{1,64}$")
# FLUX on Replicate takes an aspect ratio (the model picks ~1 MP), not a width and height.
FLUX_ASPECT_RATIOS = ("1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21")
_ASPECT_RATIO_MODELS = ("black-forest-labs/flux-dev", "black-forest-labs/flux-schnell", "black-forest-labs/flux-pro",
                        "black-forest-labs/flux-1.1-pro")
_NO_NEGATIVE_PROMPT = ("black-forest-labs/",)


def _is_aspect_ratio_model(model: str) -> bool:
    return model.split(":", 1)[0] in _ASPECT_RATIO_MODELS


def _check_prediction(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ProviderError("Replicate sent a prediction that is not a JSON object", code="bad_response")
    if not isinstance(data.get("id"), str) or not _PREDICTION_ID.match(data["id"]):
        raise ProviderError("Replicate sent a prediction without a usable id", code="bad_response")
    if data.get("status") not in STATUSES:
        raise ProviderError(f"Replicate sent an unknown prediction status {data.get('status')!r}",
                            code="bad_response")
    return data


def _classify(status: int, message: str, data: Any) -> ProviderError | None:
    # A 404 is its own code: on the official-model endpoint it means "a community model: needs a version".
    if status == 404:
        return ProviderError(f"Replicate answered HTTP 404: {message or 'not found'}", code="not_found")
    return None


def output_urls(output: Any) -> list[str]:
    """The file URLs in a prediction's output: a list of URLs or a single URL; bad_response otherwise."""
    urls = [output] if isinstance(output, str) else output
    if not isinstance(urls, list) or not urls or not all(isinstance(url, str) and url for url in urls):
        raise ProviderError("Replicate's output is not an image URL or a list of them", code="bad_response")
    return urls


class ReplicateClient:
    """One Replicate account: run any model with any input, follow the prediction, fetch its files. Thread-safe."""

    def __init__(self, api_token: str, *, base_url: str = DEFAULT_API_URL, http: HttpOptions | None = None,
                 max_connections: int = 4, allow_loopback: bool = False, name: str = "replicate"):
        if not api_token:
            raise ValueError("Replicate needs an API token (REPLICATE_API_TOKEN)")
        if not base_url.startswith(("https://", "http://")):
            raise ValueError("the Replicate API URL must start with https://")
        self.base_url = base_url.rstrip("/")
        self.allow_loopback = allow_loopback
        # Per call, not a client default: output files on replicate.delivery are fetched without it.
        self._auth = {"Authorization": f"Bearer {api_token}"}
        self._remote = RemoteClient(name, options=http or HttpOptions(max_response_bytes=64 * 1024 * 1024),
                                    max_connections=max_connections, classify=_classify)
        self._latest: dict[str, str] = {}  # community "owner/name" → its latest version id

    def close(self) -> None:
        self._remote.close()

    def create_prediction(self, model: str, model_input: dict[str, Any]) -> dict[str, Any]:
        """Start `model` ("owner/name" or "owner/name:version") on `model_input`; the new prediction."""
        match = _MODEL.match(model) if isinstance(model, str) else None
        if not match:
            raise ProviderError(f"{model!r} is not a Replicate model like 'owner/name' or 'owner/name:<version>'",
                                code="bad_request")
        check_input_size(model_input, limit=MAX_INPUT_BYTES, what="Replicate")
        slug = f"{match.group('owner')}/{match.group('name')}"
        version = match.group("version") or self._latest.get(slug)
        if not version:
            url = f"{self.base_url}/v1/models/{slug}/predictions"
            try:
                return _check_prediction(send_submit(self._remote, "POST", url, json={"input": model_input},
                                                     headers=self._auth))
            except ProviderError as exc:
                if exc.code != "not_found":
                    raise
            version = self._latest.setdefault(slug, self._latest_version(slug))
        body = {"version": version, "input": model_input}
        return _check_prediction(send_submit(self._remote, "POST", f"{self.base_url}/v1/predictions", json=body,
                                             headers=self._auth))

    def _latest_version(self, slug: str) -> str:
        """The latest version of a community model; bad_request when Replicate has no such model."""
        try:
            model = self._remote.send("GET", f"{self.base_url}/v1/models/{slug}", headers=self._auth)
        except ProviderError as exc:
            if exc.code == "not_found":
                raise ProviderError(f"Replicate has no model {slug!r}", code="bad_request") from exc
            raise
        latest = model.get("latest_version") if isinstance(model, dict) else None
        version = latest.get("id") if isinstance(latest, dict) else None
        if not isinstance(version, str) or not re.fullmatch(r"[0-9a-f]{64}", version):
            raise ProviderError(f"Replicate's model {slug!r} has no version to run; pin one as "
                                f"'{slug}:<version>'", code="bad_request")
        return version

    def _prediction_url(self, prediction_id: Any) -> str:
        if not isinstance(prediction_id, str) or not _PREDICTION_ID.match(prediction_id):
            raise ProviderError("this is not a Replicate prediction handle made by this server", code="not_found")
        return f"{self.base_url}/v1/predictions/{prediction_id}"

    def get_prediction(self, prediction_id: str) -> dict[str, Any]:
        """The prediction as it is now (status, logs, output or error)."""
        return _check_prediction(self._remote.send("GET", self._prediction_url(prediction_id), headers=self._auth))

    def cancel_prediction(self, prediction_id: str) -> bool:
        """True only when Replicate reports the prediction as canceled after the request."""
        url = self._prediction_url(prediction_id) + "/cancel"
        prediction = _check_prediction(self._remote.send("POST", url, headers=self._auth, retry=False))
        if prediction["status"] not in TERMINAL:  # the answer may predate the worker acknowledging it
            prediction = self.get_prediction(prediction_id)
        return prediction["status"] == "canceled"

    def run(self, model: str, model_input: dict[str, Any], *, poll_interval: float = 1.0, timeout: float = 600.0,
            on_update: Callable[[dict[str, Any]], None] | None = None) -> Any:
        """Create a prediction, wait for it and return its `output` (image workflows' remote steps use this).

        A failed prediction raises `provider_error` with Replicate's message; on `timeout` the prediction is
        cancelled (best effort) and a `timeout` error is raised.
        """
        prediction = self.create_prediction(model, model_input)
        deadline = time.monotonic() + timeout
        while True:
            if on_update:
                on_update(prediction)
            if prediction["status"] == "succeeded":
                return prediction.get("output")
            if prediction["status"] in TERMINAL:
                raise ProviderError(f"Replicate: {prediction.get('error') or prediction['status']}",
                                    code="canceled" if prediction["status"] == "canceled" else "provider_error")
            if time.monotonic() >= deadline:
                with contextlib.suppress(ProviderError):  # best effort: the timeout is what the caller must hear
                    self.cancel_prediction(prediction["id"])
                raise ProviderError(f"Replicate did not finish {model} within {timeout:.0f} s", code="timeout")
            time.sleep(poll_interval)
            prediction = self.get_prediction(prediction["id"])

    def fetch_image(self, url: str, *, max_bytes: int = DEFAULT_MAX_IMAGE_BYTES) -> FetchedImage:
        """One output file, checked by a full decode. The token goes only to Replicate's own API origin
        (its /v1/files URLs need it); CDN URLs such as replicate.delivery get no credentials."""
        headers = self._auth if same_origin(url, self.base_url) else None
        return fetch_image(url, client=self._remote, max_bytes=max_bytes, headers=headers,
                           allow_loopback=self.allow_loopback, source="Replicate")


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
        if not _MODEL.match(model):
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
