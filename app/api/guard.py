"""ASGI guard in front of everything: network lists, then the general API rate limit.

Refusals (403 `network_forbidden`), API limits (429 `rate_limited`) and the throttles routes raise
(sign-in, reset…, any 429 below) become security events in the audit log, themselves rate-limited.
Not limited here: /health* and /metrics (outside /api/v1, for probes and scrapers on their own
networks) and webhooks (/api/v1/webhooks/…, Stripe's /api/v1/billing/webhook: signed by the sender, who
retries on 429 and would only delay money); the network lists still apply to them.
"""

from __future__ import annotations

import json

from anyio import to_thread

from app.api import network_lists, rate_limit
from app.api.client_address import address_from_scope
from app.services.auth.sessions import cookie_name
from app.services.security_events import record_security_event

LIMITED_PREFIX = "/api/v1/"
EXEMPT_PREFIXES = ("/api/v1/webhooks/", "/api/v1/billing/webhook")


def is_limited(path: str) -> bool:
    return path.startswith(LIMITED_PREFIX) and not path.startswith(EXEMPT_PREFIXES)


async def _event(kind: str, address: str, target: str, detail: str) -> None:
    # The audit write is a blocking database call: off the event loop.
    await to_thread.run_sync(lambda: record_security_event(kind=kind, ip=address, target=target, detail=detail))


async def _answer(scope, send, status: int, code: str, message: str, headers: list | None = None) -> None:
    if scope["type"] == "websocket":
        # 1008: policy violation; the socket is closed before it is accepted.
        await send({"type": "websocket.close", "code": 1008, "reason": code})
        return
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


class Guard:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        address = address_from_scope(scope)
        why = network_lists.refusal(address=address, path=path)
        if why:
            await _event("network_refused", address, path[:200], why)
            return await _answer(scope, send, 403, "network_forbidden", network_lists.MESSAGES[why])
        if scope["type"] != "http" or not is_limited(path):
            return await self.app(scope, receive, send)
        credential = rate_limit.credential_key(dict(scope.get("headers", [])), cookie_name())
        verdict = await rate_limit.check(address=address, credential=credential,
                                         picture=rate_limit.is_picture(scope.get("method", ""), path))
        if not verdict.allowed:
            detail = f"{verdict.bucket} limit; retry in {verdict.retry_after}s"
            await _event("rate_limited", address, path[:200], detail)
            message = f"Too many requests. Try again in {verdict.retry_after} seconds."
            return await _answer(scope, send, 429, "rate_limited", message,
                                 [(b"retry-after", str(verdict.retry_after).encode())])
        if verdict.auth_epoch is not None:  # read with the counters: the token cache needs no round trip of its own
            scope[rate_limit.AUTH_EPOCH_SCOPE_KEY] = verdict.auth_epoch
        status = 0

        async def watching_send(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, watching_send)
        if status == 429:  # a route's own throttle (sign-in, reset, generate…)
            await _event("throttled", address, path[:200], f"{scope.get('method', '')} answered 429")
