"""fal.ai through its queue API: submit, poll status (queue position, logs), fetch the result, cancel.

`FalClient` runs any fal model endpoint with an arbitrary input dict (image workflows use it for upscaling
or background removal); `FalProvider` is the text-to-image `ImageProvider` built on it.

URL convention (fal docs, "Queue endpoints"): a request is submitted to the full endpoint id
(`fal-ai/flux/dev`), but its status, response and cancel URLs use the app id without the subpath
(`fal-ai/flux/requests/{id}/status`). The submit answer carries those URLs; we use them when they are on
the queue's own origin (they receive our key) and build them ourselves otherwise.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
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
from app.services.generation.remote_checks import check_request, parse_step_progress

if TYPE_CHECKING:
    from app.settings import Settings

DEFAULT_QUEUE_URL = "https://queue.fal.run"
DEFAULT_MODEL = "fal-ai/flux/dev"
MAX_INPUT_BYTES = 1024 * 1024  # a model input is a prompt and a few URLs; refuse to post megabytes of JSON
_NAMESPACES = ("workflows", "comfy")  # ids like "workflows/owner/app/path" keep three parts as the app id
_MODEL_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(?:/[\w.-]+){1,6}$")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
# Text-to-image endpoints whose input schema has `negative_prompt` (FLUX models have none).
_NEGATIVE_PROMPT_MODELS = ("fal-ai/fast-sdxl", "fal-ai/fast-lightning-sdxl", "fal-ai/stable-diffusion",
                           "fal-ai/lora", "fal-ai/hidream")
# fal's request `error_type` (docs: "Request Error Types") → our stable code; others are provider_error.
_ERROR_TYPES = {"request_timeout": "timeout", "startup_timeout": "timeout", "client_cancelled": "canceled",
                "bad_request": "bad_request"}
_STATES = frozenset({"IN_QUEUE", "IN_PROGRESS", "COMPLETED"})


def app_id(model: str) -> str:
    """The app part of a fal endpoint id: "fal-ai/flux/dev" → "fal-ai/flux" (status/result URLs leave out the path)."""
    parts = model.split("/")
    return "/".join(parts[: 3 if parts[0] in _NAMESPACES else 2])


def _detail_text(detail: Any) -> str:
    """fal's `detail`: a string (request errors) or a list of {loc, msg, type} (model validation errors)."""
    if isinstance(detail, str):
        return " ".join(detail.split())[:300]
    if isinstance(detail, list):
        said = []
        for item in detail[:5]:
            if isinstance(item, dict) and isinstance(item.get("msg"), str):
                loc = ".".join(str(p) for p in item.get("loc") or [] if p != "body")
                said.append(f"{loc}: {item['msg']}" if loc else item["msg"])
        return "; ".join(said)[:300]
    return ""


class FalRequestError(ProviderError):
    """The request itself failed on fal's side (bad input, the model crashed or timed out there): final."""


class _FinalHttpError(ProviderError):
    # Raised inside the HTTP layer with code `bad_request`, so the failure is neither retried nor counted
    # by the breaker (fal already retried it on its side); leaves this module as a FalRequestError.
    def __init__(self, message: str, *, final_code: str):
        super().__init__(message, code="bad_request")
        self.final_code = final_code


def _classify(status: int, message: str, data: Any) -> ProviderError | None:
    if status in (401, 403, 429) or not isinstance(data, dict):
        return None
    detail = _detail_text(data.get("detail"))
    error_type = data.get("error_type")
    if isinstance(error_type, str) and error_type:
        return _FinalHttpError(f"fal: {detail or error_type}",
                                final_code=_ERROR_TYPES.get(error_type, "provider_error"))
    if 400 <= status < 500 and detail:
        return _FinalHttpError(f"fal answered HTTP {status}: {detail}",
                                final_code="not_found" if status == 404 else "bad_request")
    return None


def _final(exc: _FinalHttpError) -> FalRequestError:
    return FalRequestError(str(exc), code=exc.final_code)


@dataclass(frozen=True)
class FalStatus:
    state: str  # IN_QUEUE, IN_PROGRESS or COMPLETED
    queue_position: int | None = None
    logs: list[str] = field(default_factory=list)
    error: str = ""  # set on COMPLETED when the request failed
    error_type: str = ""


class FalClient:
    """One fal account's queue: submit any endpoint with any input, follow it, fetch its output. Thread-safe."""

    def __init__(self, api_key: str, *, base_url: str = DEFAULT_QUEUE_URL, http: HttpOptions | None = None,
                 max_connections: int = 4, allow_loopback: bool = False, name: str = "fal"):
        if not api_key:
            raise ValueError("fal needs an API key (FAL_KEY)")
        if not base_url.startswith(("https://", "http://")):
            raise ValueError("the fal queue URL must start with https://")
        self.base_url = base_url.rstrip("/")
        self.allow_loopback = allow_loopback
        # Sent per call, never as a client default: image downloads use the same client and must not carry it.
        self._auth = {"Authorization": f"Key {api_key}"}
        self._remote = RemoteClient(name, options=http or HttpOptions(max_response_bytes=64 * 1024 * 1024),
                                    max_connections=max_connections, classify=_classify)

    def close(self) -> None:
        self._remote.close()

    def submit(self, model: str, arguments: dict[str, Any]) -> dict[str, str]:
        """Queue one request to `model` (e.g. "fal-ai/flux/dev") with its input; returns a JSON-safe handle."""
        if not isinstance(model, str) or not _MODEL_ID.match(model):
            raise ProviderError(f"{model!r} is not a fal endpoint id like 'fal-ai/flux/dev'", code="bad_request")
        check_input_size(arguments, limit=MAX_INPUT_BYTES, what="fal")
        try:
            data = send_submit(self._remote, "POST", f"{self.base_url}/{model}", json=arguments, headers=self._auth)
        except _FinalHttpError as exc:
            raise _final(exc) from exc
        request_id = data.get("request_id") if isinstance(data, dict) else None
        if not isinstance(request_id, str) or not _REQUEST_ID.match(request_id):
            raise ProviderError("fal accepted the request but sent no usable request_id", code="bad_response")
        base = f"{self.base_url}/{app_id(model)}/requests/{request_id}"
        given = {key: data.get(key) for key in ("status_url", "response_url", "cancel_url")}
        built = {"status_url": base + "/status", "response_url": base, "cancel_url": base + "/cancel"}
        urls = {key: given[key] if same_origin(given[key], self.base_url) else built[key] for key in built}
        return {"model": model, "request_id": request_id, **urls}

    def _url(self, handle: dict[str, Any], key: str) -> str:
        url = handle.get(key)
        if not same_origin(url, self.base_url) or not _REQUEST_ID.match(str(handle.get("request_id", ""))):
            raise ProviderError("this is not a fal request handle made by this server", code="not_found")
        return str(url)

    def _get(self, url: str, **kwargs: Any) -> Any:
        try:
            return self._remote.send("GET", url, headers=self._auth, **kwargs)
        except _FinalHttpError as exc:
            raise _final(exc) from exc

    def status(self, handle: dict[str, Any]) -> FalStatus:
        """Where the request is: queued (with its position), in progress (with log lines) or completed."""
        data = self._get(self._url(handle, "status_url"), params={"logs": "1"})
        state = data.get("status") if isinstance(data, dict) else None
        if state not in _STATES:
            raise ProviderError(f"fal sent an unknown request status {state!r}", code="bad_response")
        position = data.get("queue_position")
        position = position if isinstance(position, int) and not isinstance(position, bool) and position >= 0 else None
        logs = [str(entry["message"]) for entry in data.get("logs") or []
                if isinstance(entry, dict) and isinstance(entry.get("message"), str)]
        error, error_type = data.get("error"), data.get("error_type")
        return FalStatus(state, position, logs[-200:], error if isinstance(error, str) else "",
                         error_type if isinstance(error_type, str) else "")

    def output(self, handle: dict[str, Any]) -> dict[str, Any]:
        """The model's output JSON for a completed request; the request's own failure as a ProviderError."""
        data = self._get(self._url(handle, "response_url"))
        if not isinstance(data, dict):
            raise ProviderError("fal sent an output that is not a JSON object", code="bad_response")
        return data

    def cancel(self, handle: dict[str, Any]) -> bool:
        """True only when fal confirmed the request will not run (or stopped); see the docstring of FalProvider."""
        before = self.status(handle)
        if before.state == "COMPLETED":
            return self._ended_cancelled(handle, before)
        try:
            self._remote.send("PUT", self._url(handle, "cancel_url"), headers=self._auth, retry=False)
        except ProviderError as exc:
            if exc.code in ("bad_request", "not_found"):  # 400 ALREADY_COMPLETED, 404 NOT_FOUND: nothing stopped
                return False
            raise
        after = self.status(handle)
        if after.state == "COMPLETED":
            return self._ended_cancelled(handle, after)
        # fal removes a queued request from the queue; a running one only gets a signal the model may ignore.
        return before.state == "IN_QUEUE" and after.state == "IN_QUEUE"

    def _ended_cancelled(self, handle: dict[str, Any], completed: FalStatus) -> bool:
        if completed.error_type or completed.error:
            return completed.error_type == "client_cancelled"
        try:  # a status without error fields: the output says how the request ended
            self.output(handle)
        except FalRequestError as exc:
            return exc.code == "canceled"
        return False

    def run(self, model: str, arguments: dict[str, Any], *, poll_interval: float = 1.0, timeout: float = 600.0,
            on_status: Callable[[FalStatus], None] | None = None) -> dict[str, Any]:
        """Submit, wait for completion and return the output JSON (image workflows' remote steps use this).

        On `timeout` the request is cancelled (best effort) and a `timeout` error is raised.
        """
        handle = self.submit(model, arguments)
        deadline = time.monotonic() + timeout
        while True:
            current = self.status(handle)
            if on_status:
                on_status(current)
            if current.state == "COMPLETED":
                if current.error or current.error_type:
                    raise ProviderError(f"fal: {current.error or current.error_type}",
                                        code=_ERROR_TYPES.get(current.error_type, "provider_error"))
                return self.output(handle)
            if time.monotonic() >= deadline:
                with contextlib.suppress(ProviderError):  # best effort: the timeout is what the caller must hear
                    self.cancel(handle)
                raise ProviderError(f"fal did not finish {model} within {timeout:.0f} s", code="timeout")
            time.sleep(poll_interval)

    def fetch_image(self, url: str, *, max_bytes: int = DEFAULT_MAX_IMAGE_BYTES) -> FetchedImage:
        """One output image (fal CDN URL or data: URI), checked by a full decode; no credentials are sent."""
        return fetch_image(url, client=self._remote, max_bytes=max_bytes, allow_loopback=self.allow_loopback,
                           source="fal")


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
        if not _MODEL_ID.match(model):
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
                                    error_code=_ERROR_TYPES.get(current.error_type, "provider_error"))
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
