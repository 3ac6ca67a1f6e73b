"""The one interface every image-generation provider implements: submit, status, result, cancel.

A provider turns a `GenerationRequest` into a `handle` (a small JSON-serialisable dict that says
where the work is: a remote request id, a prompt id…), reports a `GenerationStatus` for that
handle, returns the images once it has succeeded, and can be asked to cancel it.

Providers whose HTTP API answers in one long call (OpenAI Images, Stability, Bedrock) run that
call on a thread inside `submit` and report it through the same four methods; `SyncCallProvider`
does that part once for all of them.

Every failure is a `ProviderError` (the same class the vision providers raise) with a stable code:
timeout, rate_limited, provider_error, provider_unavailable, auth_failed, bad_request,
bad_response, canceled, not_found.
"""

from __future__ import annotations

import concurrent.futures
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from app.providers.errors import ProviderError

__all__ = [
    "Capabilities",
    "GeneratedImage",
    "GenerationRequest",
    "GenerationStatus",
    "ImageProvider",
    "ProviderError",
    "State",
    "SyncCallProvider",
]

State = Literal["queued", "running", "succeeded", "failed", "canceled"]


@dataclass(frozen=True)
class Capabilities:
    """What a provider can do; the Generate page shows only the controls that apply."""

    negative_prompt: bool = False
    seed: bool = False  # the provider honours a seed (same seed + prompt → same image)
    max_n: int = 4  # images per request
    sizes: tuple[str, ...] = ()  # allowed "WxH" sizes; empty = any size within min_side..max_side
    min_side: int = 256
    max_side: int = 2048
    size_multiple: int = 8  # width and height must be multiples of this
    steps: bool = False  # status reports step N of M
    queue_position: bool = False  # status reports a queue position
    cancel: bool = False  # cancel stops the work on the provider's side (not just stops waiting)
    transparency: bool = False
    models: tuple[str, ...] = ()  # models to offer; the first is the default
    # Style presets (keys) the provider cannot honour, e.g. "photo" for a procedural engine: not offered.
    styles_unsupported: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"negative_prompt": self.negative_prompt, "seed": self.seed, "max_n": self.max_n,
                "sizes": list(self.sizes), "min_side": self.min_side, "max_side": self.max_side,
                "size_multiple": self.size_multiple, "steps": self.steps,
                "queue_position": self.queue_position, "cancel": self.cancel,
                "transparency": self.transparency, "models": list(self.models),
                "styles_unsupported": list(self.styles_unsupported)}


@dataclass(frozen=True)
class GenerationRequest:
    prompt: str  # the final prompt, with the style template already applied
    width: int
    height: int
    n: int = 1
    seed: int = 0  # 0..2**32-1; providers without seeds ignore it
    negative_prompt: str = ""
    model: str = ""  # "" = the provider's default model


@dataclass
class GeneratedImage:
    data: bytes  # encoded image (PNG, JPEG or WebP), as the provider sent it or as we encoded it
    mime: str
    seed: int | None = None  # the seed this image was made with, when the provider says
    extras: dict[str, Any] = field(default_factory=dict)  # e.g. revised_prompt


@dataclass
class GenerationStatus:
    state: State
    message: str = ""
    queue_position: int | None = None
    step: int | None = None
    steps: int | None = None
    error_code: str = ""  # set when state == "failed"


class ImageProvider(Protocol):
    name: str  # registry name: "local", "openai", "a1111", "comfyui", "fal", "replicate", "stability", "bedrock"
    label: str
    capabilities: Capabilities
    max_concurrency: int

    def submit(self, request: GenerationRequest) -> dict[str, Any]: ...

    def status(self, handle: dict[str, Any]) -> GenerationStatus: ...

    def result(self, handle: dict[str, Any]) -> list[GeneratedImage]: ...

    def cancel(self, handle: dict[str, Any]) -> bool:
        """True when the provider confirmed it stopped (or never started) the work."""
        ...

    # Optional: `wait(handle, timeout)` blocks until the work may have moved on; providers without
    # it are polled with a growing sleep.


class SyncCallProvider(ABC):
    """Submit/status/result/cancel for an API that answers in one blocking call.

    Subclasses implement `generate(request) -> list[GeneratedImage]`. `submit` runs it on a small
    thread pool and returns a handle naming the call; cancel cannot stop a request already on the
    wire, so it answers False (honestly) and the result is thrown away when it arrives.
    Handles are only meaningful inside the process that made them.
    """

    name = "sync"
    label = "sync"
    capabilities = Capabilities()
    max_concurrency = 2

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max(1, self.max_concurrency), thread_name_prefix=self.name)
        self._calls: dict[str, Future] = {}
        self._canceled: set[str] = set()
        self._lock = threading.Lock()

    @abstractmethod
    def generate(self, request: GenerationRequest) -> list[GeneratedImage]:
        """The whole generation as one blocking call; runs on the pool."""

    def submit(self, request: GenerationRequest) -> dict[str, Any]:
        call_id = uuid.uuid4().hex
        with self._lock:
            self._calls[call_id] = self._pool.submit(self.generate, request)
        return {"call": call_id}

    def _future(self, handle: dict[str, Any]) -> Future:
        with self._lock:
            future = self._calls.get(str(handle.get("call", "")))
        if future is None:
            raise ProviderError(f"{self.label} has no request {handle.get('call')!r} in this process",
                                code="not_found")
        return future

    def status(self, handle: dict[str, Any]) -> GenerationStatus:
        future = self._future(handle)
        if handle.get("call") in self._canceled:
            return GenerationStatus("canceled", "canceled; the provider's answer will be discarded")
        if not future.done():
            return GenerationStatus("running", f"waiting for {self.label}")
        exc = future.exception()
        if exc is None:
            return GenerationStatus("succeeded")
        code = exc.code if isinstance(exc, ProviderError) else "provider_error"
        return GenerationStatus("failed", str(exc), error_code=code)

    def result(self, handle: dict[str, Any]) -> list[GeneratedImage]:
        future = self._future(handle)
        try:
            return future.result(timeout=0)
        finally:
            self._forget(handle)

    def wait(self, handle: dict[str, Any], timeout: float) -> None:
        """Block until the call ends or `timeout` passes: the job learns of the answer at once
        instead of at its next poll."""
        concurrent.futures.wait([self._future(handle)], timeout=timeout)

    def cancel(self, handle: dict[str, Any]) -> bool:
        future = self._future(handle)
        if future.cancel():  # still waiting for a pool thread: it will never run
            self._forget(handle)
            return True
        with self._lock:
            self._canceled.add(str(handle.get("call")))
        future.add_done_callback(lambda _f: self._forget(handle))
        return False

    def _forget(self, handle: dict[str, Any]) -> None:
        with self._lock:
            self._calls.pop(str(handle.get("call", "")), None)
            self._canceled.discard(str(handle.get("call", "")))


ProgressCallback = Callable[[GenerationStatus], None]
