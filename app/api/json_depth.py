"""Refuses JSON nested deeper than MAX_DEPTH with a 422, before any parser recurses into it.

`[` × 5,000 made json.loads raise RecursionError (a text 500). The check runs in C-speed passes:
strings are cut out (brackets inside them do not count), then each pass deletes the innermost
`[]`/`{}` pairs, so MAX_DEPTH passes empty any document nested no deeper than that. Bodies are
already bounded by BodyLimit, which runs first.
"""

from __future__ import annotations

import json
import re

MAX_DEPTH = 64
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")


def too_deep(body: bytes, *, limit: int = MAX_DEPTH) -> bool:
    """True when `body` nests arrays/objects deeper than `limit` (or its brackets do not pair up)."""
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKET)
    for _ in range(limit):
        if not brackets:
            return False
        shorter = brackets.replace(b"[]", b"").replace(b"{}", b"")
        if len(shorter) == len(brackets):
            return True  # mismatched: not JSON at all, and refused the same way
        brackets = shorter
    return bool(brackets)


def _is_json(scope: dict) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            kind = value.split(b";", 1)[0].strip().lower()
            return kind == b"application/json" or kind.endswith(b"+json")
    return False


class JsonDepthLimit:
    """ASGI middleware for the API: buffers a JSON body, checks its depth, then replays it."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not _is_json(scope):
            return await self.app(scope, receive, send)
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return await self.app(scope, receive, send)  # disconnected: let the app see it
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if too_deep(body):
            payload = json.dumps({"error": {"code": "validation_failed", "message":
                                  f"The JSON is nested too deep (more than {MAX_DEPTH} levels)."}}).encode()
            await send({"type": "http.response.start", "status": 422,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(payload)).encode())]})
            await send({"type": "http.response.body", "body": payload})
            return None
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await self.app(scope, replay, send)
