"""One-off HTTP calls for connection tests, with failures mapped to what an admin can fix.

Deliberately not `RemoteClient`: a test makes one attempt (no retries, no backoff) so a dead server
answers in about `timeout` seconds, and it must neither open nor consult the breakers that guard real
calls. It shares their TLS context and error-text parser.
"""

from __future__ import annotations

import json
import re
import socket
import ssl
import time
from typing import Any
from urllib.parse import urlsplit

import httpx

from app.providers.http import error_message, tls_context
from app.providers.probes.base import ProbeFailed

DEFAULT_MAX_BYTES = 4 * 1024 * 1024  # a model list is a few hundred KB at most
_DNS_TEXT = re.compile(r"name or service not known|nodename nor servname|name resolution|getaddrinfo|"
                       r"no address associated", re.I)


def origin_of(url: str) -> str:
    """scheme://host[:port] without user info, path or query: safe to show (keys can ride in a query)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def check_base_url(url: str, *, service: str) -> str:
    """The base URL without a trailing slash; bad_config unless it is http(s) with a host."""
    text = (url or "").strip()
    if not text:
        raise ProbeFailed(f"{service} needs a base URL (e.g. http://host:port).", code="bad_config")
    parts = urlsplit(text)
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ProbeFailed(f"The base URL for {service} has a port that is not a number.", code="bad_config") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ProbeFailed(f"The base URL for {service} must start with http:// or https:// and name a host.",
                          code="bad_config")
    if parts.query or parts.fragment or parts.username or parts.password:
        # Not echoed: a query or user info is where people paste keys.
        raise ProbeFailed(f"The base URL for {service} must not carry a query, a #fragment or user:password@ "
                          "(put credentials in the key field).", code="bad_config")
    return text.rstrip("/")


def _causes(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _clean(text: str, limit: int = 160) -> str:
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ProbeSession:
    """An httpx client for one connection test. Every ProbeFailed it raises has the secrets scrubbed out."""

    def __init__(self, *, service: str, base_url: str, timeout: float, looks_like: str, refused_hint: str = "",
                 headers: dict[str, str] | None = None, auth: httpx.Auth | None = None,
                 secrets: tuple[str, ...] = (), credential: str = "key", max_bytes: int = DEFAULT_MAX_BYTES,
                 verify_tls: bool = True):
        self.service = service
        self.base = check_base_url(base_url, service=service)
        self.origin = origin_of(self.base)
        self.host = urlsplit(self.base).hostname or ""
        self.timeout = timeout
        self.looks_like = looks_like  # "an Ollama server": completes "This does not look like …"
        self.refused_hint = refused_hint
        self.credential = credential
        self.max_bytes = max_bytes
        self.latencies: list[int] = []
        self._secrets = tuple(s for s in secrets if s and len(s) >= 3)
        self._client = httpx.Client(timeout=httpx.Timeout(timeout), headers=headers, auth=auth,
                                    follow_redirects=False, verify=tls_context() if verify_tls else False)

    def __enter__(self) -> ProbeSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self._client.close()

    @property
    def latency_ms(self) -> int:
        return min(self.latencies) if self.latencies else 0

    def fail(self, message: str, code: str) -> ProbeFailed:
        for secret in self._secrets:
            message = message.replace(secret, "[redacted]")
        return ProbeFailed(message, code=code)

    def wrong_shape(self, what: str, missing: str) -> ProbeFailed:
        return self.fail(f"This does not look like {self.looks_like}: {what} answered JSON without {missing}.",
                         "wrong_api")

    def call(self, method: str, path: str, *, json_body: Any = None, params: Any = None,
             headers: dict[str, str] | None = None, what: str = "", not_found: str = "") -> Any:
        """The decoded JSON of a 2xx answer to `{base}{path}` (or an absolute URL); else a ProbeFailed.

        `what` names the call in messages ("GET /api/tags"); `not_found`, when given, is the message
        for a 404 (code not_found) instead of "this does not look like …" (code wrong_api).
        """
        url = path if path.startswith(("http://", "https://")) else self.base + path
        what = what or f"{method} {urlsplit(url).path}"
        started = time.perf_counter()
        try:
            with self._client.stream(method, url, json=json_body, params=params, headers=headers) as response:
                body = self._read_capped(response, what)
        except httpx.HTTPError as exc:
            raise self._transport_failure(exc, url, what) from None
        # Any answer counts: a 404 that proves a key works (fal) is as much a round trip as a 200.
        self.latencies.append(round((time.perf_counter() - started) * 1000))
        if not 200 <= response.status_code < 300:
            raise self._status_failure(response, body, what, not_found)
        try:
            return json.loads(body)
        except ValueError:
            kind = response.headers.get("content-type", "").split(";")[0] or "no content type"
            raise self.fail(f"This does not look like {self.looks_like}: {what} answered with something that is "
                            f"not JSON ({kind}).", "wrong_api") from None

    def _read_capped(self, response: httpx.Response, what: str) -> bytes:
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise self.fail(f"{what} answered with more than {self.max_bytes // (1024 * 1024)} MB; "
                                f"this does not look like {self.looks_like}.", "wrong_api")
            chunks.append(chunk)
        return b"".join(chunks)

    def _transport_failure(self, exc: httpx.HTTPError, url: str, what: str) -> ProbeFailed:
        origin = origin_of(url)
        host = urlsplit(url).hostname or self.host
        if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
            return self.fail(f"Could not connect to {origin} within {self.timeout:g} s (timeout). Is the address "
                             "right, and is a firewall dropping the traffic?", "timeout")
        if isinstance(exc, httpx.TimeoutException):
            return self.fail(f"{origin} accepted the connection but {what} did not answer within "
                             f"{self.timeout:g} s (timeout).", "timeout")
        chain = _causes(exc)
        text = " ".join(str(e) for e in chain)
        if any(isinstance(e, socket.gaierror) for e in chain) or _DNS_TEXT.search(text):
            return self.fail(f"The host name {host!r} cannot be resolved (DNS). Check the spelling of the address.",
                             "dns")
        tls = next((e for e in chain if isinstance(e, ssl.SSLError)), None)
        if tls is not None or "SSL" in text or "CERTIFICATE" in text.upper():
            reason = getattr(tls, "verify_message", None) or getattr(tls, "reason", None) or _clean(text, 120)
            return self.fail(f"The TLS handshake with {origin} failed ({reason}). Does this server speak https "
                             "(or only http), and is its certificate valid for this host?", "tls")
        if any(isinstance(e, ConnectionRefusedError) for e in chain) or "refused" in text.lower():
            hint = f" {self.refused_hint}" if self.refused_hint else ""
            return self.fail(f"Nothing answers at {origin} (connection refused).{hint}", "refused")
        if isinstance(exc, httpx.RemoteProtocolError):
            return self.fail(f"{origin} closed the connection without a proper HTTP answer to {what}. If it is an "
                             "https:// server, use https:// in the address.", "http_error")
        return self.fail(f"Cannot reach {origin} ({type(exc).__name__}: {_clean(str(exc), 120)}).", "http_error")

    def _status_failure(self, response: httpx.Response, body: bytes, what: str, not_found: str) -> ProbeFailed:
        status = response.status_code
        said, _ = error_message(body)
        said = _clean(said)
        quoted = f" {self.service} said: {said}" if said else ""
        if 300 <= status < 400:
            where = response.headers.get("location", "")
            target = origin_of(where) + urlsplit(where).path if "://" in where else urlsplit(where).path
            return self.fail(f"{what} answered {status}, a redirect to {target or 'elsewhere'}; use that address "
                             "as the base URL.", "http_error")
        if status == 401:
            if self._secrets:
                return self.fail(f"The {self.credential} was refused (401).{quoted}", "unauthorized")
            return self.fail(f"The server wants credentials (401) and none were given.{quoted}", "unauthorized")
        if status == 403:
            return self.fail(f"Access was denied (403): the {self.credential} is valid but not allowed to do "
                             f"this, or the account is blocked.{quoted}", "forbidden")
        if status == 404:
            if not_found:
                return self.fail(not_found, "not_found")
            return self.fail(f"This does not look like {self.looks_like}: {what} answered 404.", "wrong_api")
        return self.fail(f"{what} answered HTTP {status}.{quoted}", "http_error")
