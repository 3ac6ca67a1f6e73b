"""Idempotency-Key on the REST routes that spend credits or start a job (ASGI middleware).

The body is read once (spooled to disk past 1 MB), fingerprinted with the method and path, and
handed on unchanged; the answer is captured and kept for 24 h (app/services/idempotency.py).
Answers below 500 are kept, refusals included (a 402 stays a 402 for that key, as with Stripe);
a 5xx, a 429 or a crash releases the key so that a retry runs.
"""

from __future__ import annotations

import hashlib
import re
import tempfile

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request

from app.api.deps import check_origin, optional_caller
from app.api.errors import error_response
from app.errors import AppError
from app.services import idempotency

# POST routes that reserve credits or enqueue a job.
GUARDED = [re.compile(f"^/api/v1/{p}/?$") for p in (
    r"rename/batches",
    r"images/generations", r"images/generations/[^/]+/variations", r"images/[^/]+/variations",
    r"workflows/[^/]+/runs", r"workflow-runs/[^/]+/retry", r"recipes/[^/]+/runs",
    r"slides", r"slides/[^/]+/outline/rebuild", r"slides/[^/]+/generate", r"slides/[^/]+/slides/[^/]+/regenerate",
)]
_CHUNK = 1 << 20


def is_guarded(method: str, path: str) -> bool:
    return method == "POST" and any(p.match(path) for p in GUARDED)


def _fingerprint(scope: dict, headers: Headers, body) -> str:
    """Method, path, query, content type and body bytes; a multipart boundary does not count,
    so a client that re-encodes the same form gets the same fingerprint."""
    content_type = headers.get("content-type", "")
    boundary = b""
    if content_type.startswith("multipart/"):
        found = re.search(r"boundary=\"?([^\";]+)", content_type)
        boundary = found.group(1).encode() if found else b""
        content_type = "multipart"
    digest = hashlib.sha256(f"{scope['method']} {scope['path']}?{scope.get('query_string', b'').decode()}"
                            f"\n{content_type}\n".encode())
    body.seek(0)
    carry, keep = b"", max(0, len(boundary) - 1)
    while chunk := body.read(_CHUNK):
        data = carry + chunk
        if boundary:
            data = data.replace(boundary, b"\0boundary\0")
        cut = len(data) - keep
        digest.update(data[:cut])
        carry = data[cut:]
    digest.update(carry)
    body.seek(0)
    return digest.hexdigest()


class Idempotency:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not is_guarded(scope["method"], scope["path"]):
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        key = headers.get("idempotency-key")
        if key is None:
            return await self.app(scope, receive, send)
        try:
            idempotency.check_key(key)
            request = Request(scope)
            # A write refused as cross-site never reaches the route: it must not use up the key either.
            check_origin(request)
            caller = await run_in_threadpool(optional_caller, request)
        except AppError as exc:
            return await error_response(exc.status, exc.code, exc.message)(scope, receive, send)
        if caller is None:
            return await self.app(scope, receive, send)  # the route answers 401
        user_id = caller.user.id
        with tempfile.SpooledTemporaryFile(max_size=_CHUNK) as body:
            more = True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                body.write(message.get("body", b""))
                more = message.get("more_body", False)
            fingerprint = await run_in_threadpool(_fingerprint, scope, headers, body)
            try:
                stored = await run_in_threadpool(idempotency.claim, user_id=user_id, key=key,
                                                 fingerprint=fingerprint)
            except AppError as exc:
                return await error_response(exc.status, exc.code, exc.message)(scope, receive, send)
            if stored is not None:
                return await self._replay(send, stored)
            await self._run_and_keep(scope, receive, send, body, user_id, key, fingerprint)

    async def _run_and_keep(self, scope, receive, send, body, user_id, key, fingerprint):
        body.seek(0)
        sent_all = False

        async def replay_receive():
            nonlocal sent_all
            if sent_all:
                return await receive()  # only a disconnect can come now
            chunk = body.read(_CHUNK)
            rest = body.read(1)
            if rest:
                body.seek(-1, 1)
            else:
                sent_all = True
            return {"type": "http.request", "body": chunk, "more_body": bool(rest)}

        answer = {"status": 500, "content_type": "", "body": bytearray()}

        async def capture(message):
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                answer["content_type"] = Headers(raw=message.get("headers", [])).get("content-type", "")
            elif message["type"] == "http.response.body":
                answer["body"] += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, replay_receive, capture)
        except BaseException:
            await run_in_threadpool(idempotency.release, user_id=user_id, key=key)
            raise
        if answer["status"] < 500 and answer["status"] != 429:
            await run_in_threadpool(idempotency.store, user_id=user_id, key=key, fingerprint=fingerprint,
                                    answer=idempotency.StoredAnswer(answer["status"], answer["content_type"],
                                                                    bytes(answer["body"])))
        else:
            await run_in_threadpool(idempotency.release, user_id=user_id, key=key)

    async def _replay(self, send, stored: idempotency.StoredAnswer) -> None:
        await send({"type": "http.response.start", "status": stored.status, "headers": [
            (b"content-type", stored.content_type.encode() or b"application/json"),
            (b"content-length", str(len(stored.body)).encode()),
            (b"idempotent-replayed", b"true")]})
        await send({"type": "http.response.body", "body": stored.body})
