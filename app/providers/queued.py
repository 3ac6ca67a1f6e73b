"""The queued-job client base: providers that take a model and an input, queue the work and answer later.

fal's queue and Replicate's predictions have the same shape: submit (one call, never repeated blindly),
poll until the job ends, read its result, fetch its files, cancel. This base owns what they share — the
key and base URL checks, the authorization header sent per call (never to a CDN), one `RemoteClient`
(timeouts, retries, breaker, body cap), the wait loop with its deadline, and result-file downloads — so
an adapter writes only its own URLs and answer shapes.
"""

from __future__ import annotations

import contextlib
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from app.providers.errors import ProviderError
from app.providers.files import DEFAULT_MAX_IMAGE_BYTES, FetchedImage, fetch_image
from app.providers.http import Classifier, HttpOptions, RemoteClient
from app.providers.submit import same_origin

# A queued model's answer carries URLs or small JSON; generous, but a runaway body is refused.
QUEUE_RESPONSE_BYTES = 64 * 1024 * 1024
MAX_INPUT_BYTES = 1024 * 1024  # a model input is a prompt and a few URLs; refuse to post megabytes of JSON


class QueuedJobClient(ABC):
    """One account at a queued provider. Thread-safe: one instance serves every worker thread.

    A subclass sets the class attributes and implements `_submit`, `_poll`, `_finished`, `_result` and
    `_cancel`; `run` and `fetch_image` come from here.
    """

    name: str  # breaker and metrics name by default ("fal", "replicate")
    label: str  # how messages name the provider ("fal", "Replicate")
    auth_scheme: str  # the Authorization scheme: "Key", "Bearer"
    missing_key: str  # the error for an empty key, naming the setting
    bad_url: str  # the error for a base URL that is not http(s)
    # Whether result files on the provider's own API origin need the key (Replicate's /v1/files do).
    key_for_own_files: bool = False
    max_input_bytes: int = MAX_INPUT_BYTES

    def __init__(self, api_key: str, *, base_url: str, http: HttpOptions | None = None, max_connections: int = 4,
                 allow_loopback: bool = False, name: str | None = None, classify: Classifier | None = None):
        if not api_key:
            raise ValueError(self.missing_key)
        if not base_url.startswith(("https://", "http://")):
            raise ValueError(self.bad_url)
        self.base_url = base_url.rstrip("/")
        self.allow_loopback = allow_loopback
        # Sent per call, never as a client default: result downloads use the same client and must not carry it.
        self._auth = {"Authorization": f"{self.auth_scheme} {api_key}"}
        self._remote = RemoteClient(name or self.name,
                                    options=http or HttpOptions(max_response_bytes=QUEUE_RESPONSE_BYTES),
                                    max_connections=max_connections, classify=classify)

    def close(self) -> None:
        self._remote.close()

    @abstractmethod
    def _submit(self, model: str, arguments: dict[str, Any]) -> tuple[Any, Any]:
        """Queue the job; (the handle to follow it by, its first update or None when none came back)."""

    @abstractmethod
    def _poll(self, handle: Any) -> Any:
        """The job's state now (the provider's own status object)."""

    @abstractmethod
    def _finished(self, update: Any) -> bool:
        """True when the job ended well, False while it runs; a ProviderError when it failed or was canceled."""

    @abstractmethod
    def _result(self, handle: Any, update: Any) -> Any:
        """The output of a job that ended well."""

    @abstractmethod
    def _cancel(self, handle: Any) -> bool:
        """Ask the provider to stop the job; True only when it confirmed."""

    def run(self, model: str, arguments: dict[str, Any], *, poll_interval: float = 1.0, timeout: float = 600.0,
            on_update: Callable[[Any], None] | None = None) -> Any:
        """Submit, wait for the job to end and return its output (image workflows' remote steps use this).

        `on_update` sees every state polled. On `timeout` the job is cancelled (best effort) and a
        `timeout` error is raised; a failed job raises its own error.
        """
        handle, update = self._submit(model, arguments)
        deadline = time.monotonic() + timeout
        while True:
            if update is None:
                update = self._poll(handle)
            if on_update:
                on_update(update)
            if self._finished(update):
                return self._result(handle, update)
            if time.monotonic() >= deadline:
                with contextlib.suppress(ProviderError):  # best effort: the timeout is what the caller must hear
                    self._cancel(handle)
                raise ProviderError(f"{self.label} did not finish {model} within {timeout:.0f} s", code="timeout")
            time.sleep(poll_interval)
            update = None

    def fetch_image(self, url: str, *, max_bytes: int = DEFAULT_MAX_IMAGE_BYTES) -> FetchedImage:
        """One result file, checked by a full decode. The key goes only to the provider's own API origin, and
        only when `key_for_own_files`; CDN URLs get no credentials."""
        headers = self._auth if self.key_for_own_files and same_origin(url, self.base_url) else None
        return fetch_image(url, client=self._remote, max_bytes=max_bytes, headers=headers,
                           allow_loopback=self.allow_loopback, source=self.label)
