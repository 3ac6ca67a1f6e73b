"""ASGI middleware for every response: security headers and request-body limits."""

from __future__ import annotations

import json

from app.settings import get_settings

# Reflex's compiled pages carry inline bootstrapping scripts and runtime styles, and its event
# loop evaluates server-sent scripts (rx.call_script), hence 'unsafe-inline' and 'unsafe-eval'.
# What the policy still buys: no foreign scripts, frames, plugins, form targets or connections.
CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
       "style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self' ws: wss:; "
       "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def _security_headers() -> list[tuple[bytes, bytes]]:
    headers = {
        "content-security-policy": CSP,
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "strict-origin-when-cross-origin",
        "permissions-policy": "camera=(), microphone=(), geolocation=()",
        "cross-origin-opener-policy": "same-origin",
    }
    if get_settings().is_https:
        headers["strict-transport-security"] = "max-age=63072000; includeSubDomains"
    return [(k.encode(), v.encode()) for k, v in headers.items()]


class SecurityHeaders:
    def __init__(self, app):
        self.app = app
        self.extra = _security_headers()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in self.extra if k not in present
                ]
            await send(message)

        return await self.app(scope, receive, send_with_headers)


class BodyTooLarge(Exception):
    pass


def body_limit_for(path: str) -> int | None:
    """Bytes a request body may carry on this path (None: not limited here)."""
    settings = get_settings()
    if path.rstrip("/") in ("/api/v1/assets", "/api/v1/rename/batches") or path.startswith("/_upload"):
        return settings.max_upload_request_bytes
    if path.rstrip("/") == "/api/v1/rename/undo-manifest":
        return 4 * 1024 * 1024  # a manifest of 2,000 rows
    if path.rstrip("/") in ("/api/v1/assets/bulk", "/api/v1/assets/zip") or (
            path.startswith("/api/v1/collections/") and path.rstrip("/").endswith("/assets")):
        return 1024 * 1024  # 10,000 ids
    if path.rstrip("/") == "/api/v1/slides":
        return 64 * 1024 * 1024  # a source document (20 MB) and a brand template (40 MB) with the fields
    if path.startswith("/api/v1/slides/") and path.rstrip("/").endswith("/outline"):
        return 2 * 1024 * 1024  # 60 slides with speaker notes
    if path.startswith("/api/v1/templates"):
        if path.rstrip("/").endswith(("/versions", "/templates", "/alt-text")):
            return 2 * 1024 * 1024  # a version's content: at most 1 MB of JSON (templates.content.MAX_CONTENT)
        return 128 * 1024  # variables or a sample set (64 KB each) with the other fields
    if path.rstrip("/") == "/api/v1/billing/webhook":
        return 1024 * 1024  # a Stripe event (an invoice with many lines runs past 64 KB)
    if path.startswith("/api/"):
        return settings.max_json_body_bytes
    return None


async def _send_413(send, limit: int) -> None:
    body = json.dumps({"error": {"code": "payload_too_large",
                                 "message": f"The request body is larger than {limit} bytes."}}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuses an oversized body from its Content-Length, before reading any of it,
    and stops a chunked body as soon as it passes the limit."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        limit = body_limit_for(scope.get("path", "")) if scope["type"] == "http" else None
        if limit is None:
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers", []))
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            return await _send_413(send, limit)
        seen = 0
        exceeded = False
        replaced = False

        async def limited_receive():
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message):
            # Frameworks turn a failed body read into their own 400; the client gets our 413.
            nonlocal replaced
            if not exceeded:
                return await send(message)
            if not replaced:
                replaced = True
                await _send_413(send, limit)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except BodyTooLarge:
            if not replaced:
                await _send_413(send, limit)
