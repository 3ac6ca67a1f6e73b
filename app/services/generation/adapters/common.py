"""Pieces shared by the OpenAI Images, A1111, ComfyUI and Stability adapters.

Image decoding and downloads (app/providers/files.py), `send_submit` (a call that starts paid or long work,
retried only after a 429; app/providers/submit.py) and request checks (`remote_checks`) are shared with the
fal/Replicate/Bedrock adapters. Here:

- `image_http_options`: HTTP defaults sized for image answers.
- `generated_image`: a checked `GeneratedImage` with its real pixel size in extras.
- `CallAwareProvider`: a `SyncCallProvider` whose work function knows its call id, reports "queued" while it
  waits for a pool thread, and refuses `result` for canceled or unfinished calls instead of losing them.
"""

from __future__ import annotations

import uuid
from abc import abstractmethod
from dataclasses import replace
from typing import Any

from app.providers.files import FetchedImage, decode_image
from app.providers.http import IMAGE_RESPONSE_BYTES, HttpOptions
from app.services.generation.base import (
    GeneratedImage,
    GenerationRequest,
    GenerationStatus,
    ProviderError,
    SyncCallProvider,
)

PROMPT_MAX = 10_000  # A1111, ComfyUI and Stability take long prompts; OpenAI's limits are per model


def image_http_options(http: HttpOptions | None, *, read_timeout: float) -> HttpOptions:
    """The caller's options, or defaults sized for image answers (big bodies, slow generations).

    The body cap never goes below IMAGE_RESPONSE_BYTES: the shared default (4 MB, sized for vision JSON)
    would turn every large PNG into a bad_response.
    """
    if http is None:
        return HttpOptions(read_timeout=read_timeout, max_response_bytes=IMAGE_RESPONSE_BYTES)
    return replace(http, max_response_bytes=max(http.max_response_bytes, IMAGE_RESPONSE_BYTES))


def generated_image(data: bytes, *, provider: str, seed: int | None = None,
                    extras: dict[str, Any] | None = None) -> GeneratedImage:
    """A checked `GeneratedImage` (full decode, pixel cap); its real size goes into extras."""
    return as_generated(decode_image(data, source=provider), seed=seed, extras=extras)


def as_generated(image: FetchedImage, *, seed: int | None = None,
                 extras: dict[str, Any] | None = None) -> GeneratedImage:
    """A `GeneratedImage` from an image `app.providers.files` already checked."""
    return GeneratedImage(data=image.data, mime=image.mime, seed=seed,
                          extras={"width": image.width, "height": image.height, **(extras or {})})


class CallAwareProvider(SyncCallProvider):
    """SyncCallProvider whose work function receives its call id.

    Subclasses implement `check(request)` (raise bad_request early) and `run(request, call_id)`. The call id
    lets a run made of several paid calls stop between them after a cancel (`cancel_requested`), or name
    the job on the provider (A1111's task id).
    """

    @abstractmethod
    def check(self, request: GenerationRequest) -> None:
        """Raise bad_request when the provider cannot do `request`, before anything is sent."""

    @abstractmethod
    def run(self, request: GenerationRequest, call_id: str) -> list[GeneratedImage]:
        """Make the images; `call_id` names this call (cancel checks, the provider's task id)."""

    def generate(self, request: GenerationRequest) -> list[GeneratedImage]:
        """The whole generation as one blocking call (scripts and benchmarks)."""
        self.check(request)
        return self.run(request, uuid.uuid4().hex)

    def submit(self, request: GenerationRequest) -> dict[str, Any]:
        self.check(request)
        call_id = uuid.uuid4().hex
        with self._lock:
            self._calls[call_id] = self._pool.submit(self.run, request, call_id)
        return {"call": call_id}

    def cancel_requested(self, call_id: str) -> bool:
        with self._lock:
            return call_id in self._canceled

    def status(self, handle: dict[str, Any]) -> GenerationStatus:
        future = self._future(handle)
        if not future.done() and not future.running() and not self.cancel_requested(str(handle.get("call"))):
            return GenerationStatus("queued", f"waiting for a free {self.label} slot")
        return super().status(handle)

    def result(self, handle: dict[str, Any]) -> list[GeneratedImage]:
        future = self._future(handle)
        if self.cancel_requested(str(handle.get("call"))):
            raise ProviderError("this request was canceled; its images are discarded", code="canceled")
        if not future.done():
            # Not an error of the provider: the caller asked too early. The call stays known.
            raise ProviderError(f"{self.label} has not finished this request yet", code="bad_request")
        return super().result(handle)
