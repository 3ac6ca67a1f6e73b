"""Result images a provider sends or points at, checked before anything keeps them.

- `fetch_image` downloads one (or decodes a `data:` URL): a byte cap, a pixel cap and a full Pillow decode as
  the content check; https only, and never to private or link-local addresses (http to loopback only when the
  caller allows it, for the fake servers in tests).
- `decode_image` is that content check on bytes we already hold; `decode_base64_image` on base64 text
  (Bedrock and A1111 send images inside the answer).
"""

from __future__ import annotations

import base64
import binascii
import io
import ipaddress
import re
import socket
import warnings
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from PIL import Image, UnidentifiedImageError

from app.providers.errors import ProviderError
from app.providers.http import RemoteClient

ALLOWED_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
DEFAULT_MAX_IMAGE_BYTES = 32 * 1024 * 1024  # a 4096² PNG is ~25 MB; anything bigger is not a generated image
DEFAULT_MAX_PIXELS = 40_000_000  # above every provider's largest output (Nova Canvas: 4.2 MP, upscalers: ~33 MP)
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})
_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(?:;[\w.+-]+=[^;,]*)*)(?P<b64>;base64)?,",
                       re.I)


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
