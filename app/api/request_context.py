"""Every HTTP request: a request id (the client's X-Request-ID when it is plain, else ours) bound to the log
lines it causes and returned in the response; its count and latency in the metrics by route template.

A websocket (Reflex's /_event) gets the id of its connection bound too; each page event then gets an id of its
own (state/event_context.py).
"""

from __future__ import annotations

import logging
import time

from starlette.routing import Mount, Route, WebSocketRoute

from app.observability import logs, metrics

API_PREFIX = "/api/v1"
HEADER = b"x-request-id"
# Reflex's own endpoints: a fixed label each. Everything else that no API route matched is a page or a static
# file of the frontend (one label), or a miss under /api (one label): raw paths never become labels.
REFLEX_ENDPOINTS = ("/ping", "/_health", "/_upload", "/_event")

access = logging.getLogger("atelier.access")


def route_template(scope) -> str:
    """The matched route's template (`/api/v1/assets/{asset_id}`), or a fixed label when none matched."""
    route = scope.get("route")
    path = scope.get("path", "")
    if isinstance(route, Route | WebSocketRoute) and not isinstance(route, Mount):
        template = route.path
        # Routers included under a prefix keep their own paths: put the prefix back.
        if path.startswith(API_PREFIX + "/") and not template.startswith(API_PREFIX):
            template = API_PREFIX + template
        return template
    for endpoint in REFLEX_ENDPOINTS:
        if path == endpoint or path.startswith(endpoint + "/"):
            return endpoint
    if path.startswith("/api/"):
        return "unmatched"
    return "frontend"


class RequestContext:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        raw = dict(scope.get("headers") or []).get(HEADER, b"").decode("latin-1")
        request_id = logs.accept_request_id(raw)
        if scope["type"] == "websocket":
            with logs.bound(request_id=request_id):
                return await self.app(scope, receive, send)
        status = 500  # what the client sees when the app raised before answering
        started = time.perf_counter()

        async def send_with_id(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != HEADER]
                message["headers"] = [*headers, (HEADER, request_id.encode())]
            await send(message)

        with logs.bound(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                seconds = time.perf_counter() - started
                route = route_template(scope)
                metrics.observe_request(method=scope.get("method", ""), route=route, status=status, seconds=seconds)
                # The template, not the path: paths carry invitation and reset tokens.
                access.info("%s %s %s %.1fms", scope.get("method", ""), route, status, seconds * 1000)
