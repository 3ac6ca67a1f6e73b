"""Calls that start paid or long work at a provider, and the checks before them."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlsplit

from app.providers.errors import ProviderError
from app.providers.http import RemoteClient


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
