"""Shared helpers for remote generation adapters (fal, Replicate, Bedrock) and image workflows' remote steps.

- `fetch_image` downloads a result image a provider points at (or decodes a `data:` URL): a byte cap, a pixel
  cap and a full Pillow decode as the content check; https only, and never to private or link-local addresses
  (http to loopback only when the caller allows it, for the fake servers in tests).
- `decode_image` is that content check on bytes we already hold (Bedrock sends base64 in the answer).
- `check_request` checks a GenerationRequest against a provider's Capabilities with messages a user can act on.
- `send_submit` makes a non-idempotent call (a submit), retrying only what the provider certainly refused.
- `parse_step_progress`, `nearest_aspect_ratio`, `same_origin`: small pure helpers the adapters share.
"""

from __future__ import annotations

import base64
import binascii
import io
import ipaddress
import json
import math
import re
import socket
import time
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from PIL import Image, UnidentifiedImageError

from app.providers.http import RemoteClient
from app.services.generation.base import Capabilities, GenerationRequest, ProviderError

ALLOWED_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
DEFAULT_MAX_IMAGE_BYTES = 32 * 1024 * 1024  # a 4096² PNG is ~25 MB; anything bigger is not a generated image
DEFAULT_MAX_PIXELS = 40_000_000  # above every provider's largest output (Nova Canvas: 4.2 MP, upscalers: ~33 MP)
MAX_PROMPT_CHARS = 4000
MAX_SEED = 2**32 - 1
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})
_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(?:;[\w.+-]+=[^;,]*)*)(?P<b64>;base64)?,",
                       re.I)
# tqdm's default bar: "  45%|████▌     | 9/20 [00:03<00:04,  2.71it/s]"
_TQDM = re.compile(r"^\s*(?P<percent>\d{1,3})%\s*\|[^|]*\|\s*(?P<current>\d+)/(?P<total>\d+)")


@dataclass(frozen=True)
class FetchedImage:
    data: bytes  # the bytes as the provider sent them (not re-encoded)
    mime: str
    width: int
    height: int


def decode_image(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS, source: str = "the provider") -> FetchedImage:
    """The image's type and size after a full decode; `bad_response` for anything that is not a PNG/JPEG/WebP.

    A full `load()` rather than `verify()`: verify passes a JPEG cut off halfway. The pixel count is
    checked from the header before decoding, so a decompression bomb costs nothing.
    """
    if not data:
        raise ProviderError(f"{source} sent an empty file instead of an image", code="bad_response")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(ALLOWED_FORMATS)) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise ProviderError(f"{source} sent a {width}×{height} image; the limit is {max_pixels} pixels",
                                        code="bad_response")
                fmt = image.format or ""
                image.load()
    except ProviderError:
        raise
    except UnidentifiedImageError as exc:
        raise ProviderError(f"{source} sent a file that is not a PNG, JPEG or WebP image", code="bad_response") from exc
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as exc:
        raise ProviderError(f"{source} sent an image that cannot be decoded ({exc})", code="bad_response") from exc
    return FetchedImage(data=data, mime=ALLOWED_FORMATS[fmt], width=width, height=height)


def decode_base64_image(text: Any, *, max_bytes: int = DEFAULT_MAX_IMAGE_BYTES, max_pixels: int = DEFAULT_MAX_PIXELS,
                        source: str = "the provider") -> FetchedImage:
    """A base64 string from an answer (Bedrock, `data:` URLs), size-checked before decoding, then `decode_image`."""
    if not isinstance(text, str) or not text:
        raise ProviderError(f"{source} sent an image that is not a base64 string", code="bad_response")
    if len(text) > (max_bytes // 3 + 1) * 4 + 4:
        raise ProviderError(f"{source} sent an image larger than {max_bytes} bytes", code="bad_response")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ProviderError(f"{source} sent an image that is not valid base64", code="bad_response") from exc
    return decode_image(data, max_pixels=max_pixels, source=source)


def _is_loopback_host(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_public_host(host: str, port: int) -> None:
    """Refuse hosts that are (or resolve to) private, loopback, link-local or reserved addresses.

    A provider answer is outside data: without this, a tampered answer could make the worker fetch
    cloud metadata (169.254.169.254) or internal services. The check resolves the name once, so a
    DNS-rebinding host could still swap addresses before the fetch; the image decode limits what leaks.
    """
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)}
    except OSError as exc:
        raise ProviderError(f"cannot resolve the image host {host!r} ({exc})", code="provider_unavailable",
                            retryable=True) from exc
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not ip.is_global:
            raise ProviderError(f"the provider pointed at an image on a non-public address ({host})",
                                code="bad_response")


def fetch_image(url: str, *, client: RemoteClient, max_bytes: int = DEFAULT_MAX_IMAGE_BYTES,
                max_pixels: int = DEFAULT_MAX_PIXELS, headers: dict[str, str] | None = None,
                allow_loopback: bool = False, source: str = "the provider") -> FetchedImage:
    """Download one result image (or decode a `data:` URL) and check it is a real image within the limits.

    Goes through the provider's `client` (timeouts, retries, breaker). `headers` are sent only as given:
    pass credentials only for URLs on the provider's own API origin. `allow_loopback` permits
    http://127.0.0.1 URLs, for tests against fake servers.
    """
    if not isinstance(url, str) or not url:
        raise ProviderError(f"{source} gave no image URL", code="bad_response")
    if url[:5].lower() == "data:":
        match = _DATA_URL.match(url)
        if not match or not match.group("b64"):
            raise ProviderError(f"{source} sent a data: URL that is not base64 data", code="bad_response")
        return decode_base64_image(url[match.end():], max_bytes=max_bytes, max_pixels=max_pixels, source=source)
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise ProviderError(f"{source} sent an image URL with a bad port", code="bad_response") from exc
    if not host or parts.username or parts.password:
        raise ProviderError(f"{source} sent an image URL without a plain host", code="bad_response")
    loopback_ok = allow_loopback and _is_loopback_host(host)
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback_ok):
        raise ProviderError(f"{source} sent an image URL that is not https", code="bad_response")
    if not loopback_ok:
        _check_public_host(host, port)
    body, _content_type = client.send("GET", url, headers=headers, expect="bytes")
    if len(body) > max_bytes:
        raise ProviderError(f"{source} sent an image larger than {max_bytes} bytes", code="bad_response")
    return decode_image(body, max_pixels=max_pixels, source=source)


def check_input_size(value: Any, *, limit: int, what: str) -> None:
    """`bad_request` unless `value` is a JSON object (dict) whose JSON text is at most `limit` bytes."""
    try:
        size = len(json.dumps(value).encode()) if isinstance(value, dict) else -1
    except (TypeError, ValueError) as exc:
        raise ProviderError(f"the {what} input is not plain JSON ({exc})", code="bad_request") from exc
    if not 0 <= size <= limit:
        raise ProviderError(f"the {what} input must be a JSON object of at most {limit} bytes", code="bad_request")


def same_origin(url: Any, base: str) -> bool:
    """True when `url` is on the same scheme, host and port as `base`: only then may it receive our credentials."""
    if not isinstance(url, str):
        return False
    a, b = urlsplit(url), urlsplit(base)
    try:
        return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port) and bool(a.hostname)
    except ValueError:
        return False


def send_submit(client: RemoteClient, method: str, url: str, **kwargs: Any) -> Any:
    """A call that must not run twice (creating a prediction): retried only after a 429.

    A 429 means the provider refused the request, so sending it again cannot double the work (or
    the bill); a timeout or 5xx might mean it was accepted, so those go back to the caller.
    """
    retries = client.options.retries
    for attempt in range(retries + 1):
        try:
            return client.send(method, url, retry=False, **kwargs)
        except ProviderError as exc:
            wait = exc.retry_after if exc.retry_after is not None else client.options.backoff
            if exc.code != "rate_limited" or attempt == retries or wait > client.options.retry_after_cap:
                raise
            time.sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def check_request(request: GenerationRequest, capabilities: Capabilities, *, label: str,
                  max_prompt_chars: int = MAX_PROMPT_CHARS, max_seed: int = MAX_SEED) -> None:
    """Raise `bad_request` with an actionable message when `request` is outside what the provider can do."""
    def refuse(message: str) -> None:
        raise ProviderError(message, code="bad_request")

    if not request.prompt or not request.prompt.strip():
        refuse("The prompt is empty: describe the image you want.")
    if len(request.prompt) > max_prompt_chars:
        refuse(f"The prompt is {len(request.prompt)} characters; {label} takes at most {max_prompt_chars}.")
    if request.negative_prompt:
        if not capabilities.negative_prompt:
            refuse(f"{label} does not take a negative prompt with this model; leave it empty.")
        if len(request.negative_prompt) > max_prompt_chars:
            refuse(f"The negative prompt is too long; {label} takes at most {max_prompt_chars} characters.")
    if not 1 <= request.n <= capabilities.max_n:
        refuse(f"{label} makes 1 to {capabilities.max_n} images per request, not {request.n}.")
    if not 0 <= request.seed <= max_seed:
        refuse(f"The seed must be between 0 and {max_seed}.")
    if capabilities.models and request.model and request.model not in capabilities.models:
        refuse(f"{label} does not offer the model {request.model!r}; choose one of: {', '.join(capabilities.models)}.")
    size = f"{request.width}x{request.height}"
    if capabilities.sizes:
        if size not in capabilities.sizes:
            refuse(f"{label} makes only these sizes: {', '.join(capabilities.sizes)} (not {size}).")
        return
    low, high, step = capabilities.min_side, capabilities.max_side, max(1, capabilities.size_multiple)
    if not (low <= request.width <= high and low <= request.height <= high):
        refuse(f"Width and height must be between {low} and {high} pixels for {label} (not {size}).")
    if request.width % step or request.height % step:
        refuse(f"Width and height must be multiples of {step} for {label} (not {size}).")


def parse_step_progress(logs: str | None) -> tuple[int, int] | None:
    """(step, steps) from the last tqdm-like progress line in `logs`, e.g. "45%|████▌ | 9/20" → (9, 20)."""
    if not logs:
        return None
    for line in reversed(re.split(r"[\r\n]+", logs[-20_000:])):  # tqdm redraws with \r; only the tail matters
        match = _TQDM.match(line)
        if match:
            current, total = int(match.group("current")), int(match.group("total"))
            if 0 < total <= 100_000 and 0 <= current <= total:
                return current, total
    return None


def nearest_aspect_ratio(width: int, height: int, choices: Iterable[str]) -> str:
    """The "W:H" choice closest to width:height (compared on a log scale, so 2:1 and 1:2 are equally far from 1:1)."""
    wanted = math.log(width / height)

    def distance(choice: str) -> float:
        w, h = (int(x) for x in choice.split(":"))
        return abs(math.log(w / h) - wanted)

    return min(choices, key=distance)
