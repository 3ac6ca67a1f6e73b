"""Shared plumbing for remote vision providers: timeouts, retries, a circuit breaker, stable error codes.

Every failure leaves this module as a `ProviderError` whose code says what went wrong:
timeout, rate_limited, provider_error, provider_unavailable, auth_failed, bad_request,
bad_response, bad_image (and model_cannot_see, raised by a provider's own `classify` hook).
"""

from __future__ import annotations

import io
import json
import re
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import pybreaker
from PIL import Image, ImageOps
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from app.observability import logs, metrics
from app.process_cache import ForkSafeCache
from app.providers.errors import ProviderError
from app.services.assets.images import FORMATS  # also registers the HEIC opener with Pillow

if TYPE_CHECKING:
    from app.settings import Settings

# Failures that say "the provider is down or struggling": retried here, and counted by the breaker.
# rate_limited is retried but not counted: a 429 is the provider working as designed and saying when to come back.
RETRYABLE_CODES = frozenset({"timeout", "rate_limited", "provider_error", "provider_unavailable"})
OUTAGE_CODES = frozenset({"timeout", "provider_error", "provider_unavailable"})
# Outcomes a provider call is counted under (metrics label values stay a fixed set).
ERROR_CODES = RETRYABLE_CODES | {"auth_failed", "bad_request", "bad_response", "bad_image", "model_cannot_see"}

# Optional per-provider hook: (HTTP status, the provider's error message, the parsed body or None) → an error
# that is more precise than the generic mapping (e.g. "this model cannot see images"), or None.
Classifier = Callable[[int, str, Any], ProviderError | None]


@dataclass(frozen=True)
class HttpOptions:
    """Timeouts, retries and breaker thresholds; tests shrink them to keep fast."""

    connect_timeout: float = 5.0
    read_timeout: float = 60.0  # vision models can take a while on big images
    retries: int = 2  # extra attempts after the first, for retryable failures only
    backoff: float = 0.5  # first wait in seconds; doubles per attempt, plus up to the same again as jitter
    backoff_max: float = 8.0
    retry_after_cap: float = 60.0  # the longest we sleep in-process for a Retry-After; longer ones go to the caller
    breaker_fail_max: int = 5  # consecutive failed calls (after their retries) that open the breaker
    breaker_reset_seconds: float = 30.0  # how long an open breaker fails fast before letting one call try
    max_response_bytes: int = 4 * 1024 * 1024  # a provider answer is a few KB; refuse to buffer a runaway body


# An image provider's answer: four big PNGs in base64 fit; a runaway body does not.
IMAGE_RESPONSE_BYTES = 64 * 1024 * 1024


def image_options(settings: Settings, provider: str) -> HttpOptions:
    """HTTP options for an image provider (or a workflow step on one): its IMAGE_TIMEOUTS entry, else
    IMAGE_TIMEOUT_SECONDS, and a body cap sized for images."""
    timeout = settings.image_timeouts.get(provider, settings.image_timeout_seconds)
    return HttpOptions(read_timeout=timeout, max_response_bytes=IMAGE_RESPONSE_BYTES)


def is_loopback(url: str) -> bool:
    """A URL on this machine. Result files may come from the provider's own host; on loopback (a local
    server or a test fake) that is 127.0.0.1, which the download guard otherwise refuses."""
    return (urlsplit(url).hostname or "") in ("127.0.0.1", "localhost", "::1")


# A forked child gets fresh breakers: the parent's provider threads may hold one's lock mid-call.
_breakers = ForkSafeCache()


def _connect_reason(exc: httpx.ConnectError) -> str:
    said = str(exc).lower()
    if "refused" in said:
        return "connection refused: is the server running?"
    if "name or service not known" in said or "nodename nor servname" in said or "getaddrinfo" in said:
        return "no such host name"
    if "ssl" in said or "certificate" in said:
        return f"TLS failed: {str(exc)[:120]}"
    return f"ConnectError: {str(exc)[:120]}"


def _not_an_outage(exc: BaseException) -> bool:
    # Auth, bad-request and bad-answer errors are fast and deterministic: they must not open the breaker.
    return not (isinstance(exc, ProviderError) and exc.code in OUTAGE_CODES)


def get_breaker(name: str, *, fail_max: int, reset_seconds: float) -> pybreaker.CircuitBreaker:
    """The process-wide breaker for a provider name (the first caller's thresholds win)."""
    with _breakers.lock:
        breaker = _breakers.get(name)
        if breaker is None:
            # throw_new_error_on_trip=False: the call that trips the breaker reports its own real error.
            breaker = pybreaker.CircuitBreaker(fail_max=fail_max, reset_timeout=reset_seconds, name=name,
                                               exclude=[_not_an_outage], throw_new_error_on_trip=False)
            _breakers[name] = breaker
        return breaker


def breaker_state(name: str) -> str:
    """This process's breaker for a provider name: closed (also when never used), open or half-open."""
    breaker = _breakers.get(name)
    return str(breaker.current_state) if breaker is not None else "closed"


def reset_breakers() -> None:
    """Forget every breaker (tests, or an admin who fixed a provider and wants to retry at once)."""
    with _breakers.lock:
        _breakers.clear()


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, IndexError):
            return None
    return max(0.0, seconds) if seconds == seconds else None  # NaN guard


def error_message(body: bytes) -> tuple[str, Any]:
    """The provider's own error text (OpenAI, Google, Ollama and vLLM shapes) and the parsed body."""
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    message: Any = None
    if isinstance(data, dict):
        err = data.get("error")
        message = err.get("message") if isinstance(err, dict) else err
        message = message or data.get("message") or data.get("detail")
    if not isinstance(message, str):
        message = body.decode("utf-8", "replace") if data is None else ""
    return re.sub(r"\s+", " ", message).strip()[:300], data


@cache
def tls_context() -> ssl.SSLContext:
    """One TLS context (the CA bundle, or SSL_CERT_FILE / SSL_CERT_DIR) for every provider client.

    Loading the CA bundle costs ~25 ms per client; built once in the worker before it forks, every
    work horse's clients start with it.
    """
    return httpx.create_ssl_context()


class RemoteClient:
    """POSTs JSON to one provider with timeouts, retries and the provider's circuit breaker.

    Thread-safe: one instance serves every worker thread of a provider (httpx pools the connections).
    """

    def __init__(self, name: str, *, options: HttpOptions | None = None, headers: dict[str, str] | None = None,
                 max_connections: int = 4, classify: Classifier | None = None):
        self.name = name
        self.options = opts = options or HttpOptions()
        self._classify = classify
        self._client = httpx.Client(
            timeout=httpx.Timeout(opts.read_timeout, connect=opts.connect_timeout),
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            headers=headers, follow_redirects=False, verify=tls_context())
        self._breaker = get_breaker(name, fail_max=opts.breaker_fail_max, reset_seconds=opts.breaker_reset_seconds)
        # The provider's concurrency limit, held only while a request is on the wire: callers may
        # run more threads, so preparing the next images overlaps with waiting for answers, and a
        # retry's backoff sleep does not keep a slot.
        self._in_flight = threading.BoundedSemaphore(max_connections)
        self._backoff = wait_exponential_jitter(multiplier=opts.backoff, max=opts.backoff_max, jitter=opts.backoff)

    def close(self) -> None:
        self._client.close()

    def post_json(self, url: str, payload: Any, *, params: dict[str, str] | None = None) -> Any:
        """The decoded JSON answer of a 2xx response; otherwise a ProviderError with a stable code."""
        return self.send("POST", url, json=payload, params=params)

    def send(self, method: str, url: str, *, json: Any = None, data: dict[str, Any] | None = None,
             files: dict[str, Any] | None = None, params: dict[str, str] | None = None,
             headers: dict[str, str] | None = None, expect: str = "json", retry: bool = True) -> Any:
        """One call with the breaker, retries and in-flight limit.

        `expect="json"` returns the decoded JSON of a 2xx answer, `expect="bytes"` returns
        `(body, content_type)`. `retry=False` makes one attempt only: for calls that must not be
        repeated blindly (a cancel, or a submit the provider would run twice).
        """
        request_id = logs.current("request_id")
        if request_id:  # the provider's logs can be matched with ours
            headers = {**(headers or {}), "X-Request-ID": request_id}
        request = (method, url, json, data, files, params, headers, expect)
        started, outcome = time.monotonic(), "ok"
        try:
            # `calling()` rather than `call()`: pybreaker's call() holds the breaker's lock for the whole
            # call, which would let only one request per provider run at a time.
            with self._breaker.calling():
                if not retry:
                    return self._attempt(*request)
                return Retrying(stop=stop_after_attempt(self.options.retries + 1), wait=self._wait,
                                retry=retry_if_exception(self._should_retry), reraise=True,
                                )(self._attempt, *request)
        except pybreaker.CircuitBreakerError as exc:
            outcome = "circuit_open"
            raise ProviderError(f"{self.name} is failing; not calling it for a while (circuit open)",
                              code="provider_unavailable", retryable=True,
                              retry_after=self.options.breaker_reset_seconds, unreachable=True) from exc
        except ProviderError as exc:
            outcome = exc.code if exc.code in ERROR_CODES else "other"
            raise
        except Exception:
            outcome = "other"
            raise
        finally:
            metrics.observe_provider(provider=self.name, outcome=outcome, seconds=time.monotonic() - started,
                                     breaker_open=self._breaker.current_state != pybreaker.STATE_CLOSED)

    def _should_retry(self, exc: BaseException) -> bool:
        if not isinstance(exc, ProviderError) or exc.code not in RETRYABLE_CODES:
            return False
        # A provider asking for a longer pause than we will sleep: hand the wait to the caller (job retry).
        return exc.retry_after is None or exc.retry_after <= self.options.retry_after_cap

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, ProviderError) and exc.retry_after is not None:
            return min(exc.retry_after, self.options.retry_after_cap)
        return self._backoff(state)

    def _attempt(self, method: str, url: str, payload: Any, data: dict[str, Any] | None,
                 files: dict[str, Any] | None, params: dict[str, str] | None,
                 headers: dict[str, str] | None, expect: str) -> Any:
        # Messages never include the URL: some providers (Google) carry the API key in the query string.
        try:
            with self._in_flight, self._client.stream(method, url, json=payload, data=data, files=files,
                                                      params=params, headers=headers) as response:
                body = self._read_capped(response)
        except httpx.TimeoutException as exc:
            raise ProviderError(f"{self.name} did not answer in time ({type(exc).__name__})",
                              code="timeout", retryable=True) from exc
        except httpx.ConnectError as exc:
            raise ProviderError(f"cannot reach {self.name} ({_connect_reason(exc)})",
                              code="provider_unavailable", retryable=True, unreachable=True) from exc
        except httpx.TransportError as exc:
            raise ProviderError(f"cannot reach {self.name} ({type(exc).__name__}: {exc})",
                              code="provider_unavailable", retryable=True) from exc
        if 200 <= response.status_code < 300:
            if expect == "bytes":
                return body, response.headers.get("content-type", "")
            try:
                return json.loads(body)
            except ValueError as exc:
                raise ProviderError(f"{self.name} answered with something that is not JSON",
                                  code="bad_response") from exc
        raise self._http_error(response, body)

    def _read_capped(self, response: httpx.Response) -> bytes:
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self.options.max_response_bytes:
                raise ProviderError(f"{self.name} sent an answer larger than {self.options.max_response_bytes} bytes",
                                  code="bad_response")
            chunks.append(chunk)
        return b"".join(chunks)

    def _http_error(self, response: httpx.Response, body: bytes) -> ProviderError:
        status = response.status_code
        message, data = error_message(body)
        if self._classify and (special := self._classify(status, message, data)) is not None:
            return special
        said = f"{self.name} answered HTTP {status}" + (f": {message}" if message else "")
        if status in (401, 403):
            return ProviderError(f"{said} (check the API key)", code="auth_failed")
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        if status == 429:
            # Without a header we still give callers a figure: the longest backoff we would have used.
            wait = retry_after if retry_after is not None else self.options.backoff_max
            return ProviderError(said, code="rate_limited", retryable=True, retry_after=wait)
        if status >= 500:
            return ProviderError(said, code="provider_error", retryable=True,
                               retry_after=retry_after if status == 503 else None)
        return ProviderError(said, code="bad_request")


def downscale_jpeg(data: bytes, *, max_side: int, quality: int = 85) -> bytes:
    """The image as an upright RGB JPEG at most `max_side` px on its long side.

    Re-encoding always (not only for big images) keeps uploads small and predictable and strips EXIF,
    so GPS positions and camera serials are not sent to a third party.
    """
    try:
        with Image.open(io.BytesIO(data), formats=list(FORMATS)) as image:
            if image.format == "JPEG":
                image.draft("RGB", (max_side, max_side))  # decode at a reduced scale: far less work
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
            if upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info):
                rgba = upright.convert("RGBA")
                flat = Image.new("RGB", rgba.size, (255, 255, 255))  # JPEG has no alpha: flatten on white
                flat.paste(rgba, mask=rgba.getchannel("A"))
                upright = flat
            elif upright.mode != "RGB":
                upright = upright.convert("RGB")
            out = io.BytesIO()
            upright.save(out, format="JPEG", quality=quality, optimize=True)
            return out.getvalue()
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
        raise ProviderError(f"the image cannot be decoded ({exc})", code="bad_image") from exc
