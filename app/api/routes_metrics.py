"""`GET /metrics` for Prometheus, outside /api/v1 like /health: off unless METRICS_TOKEN or METRICS_ALLOW is set."""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool

from app.api.deps import bearer_token
from app.errors import AuthRequired, Forbidden, NotFound
from app.observability import metrics
from app.settings import get_settings

router = APIRouter(tags=["operations"])


def _peer_allowed(request: Request, networks: list[str]) -> bool:
    # The direct peer, never X-Forwarded-For: Prometheus scrapes the app itself, and a forwarded header is
    # whatever the client wrote.
    try:
        peer = ipaddress.ip_address(request.client.host if request.client else "")
    except ValueError:
        return False
    return any(peer in ipaddress.ip_network(network, strict=False) for network in networks)


def check_scraper(request: Request) -> None:
    settings = get_settings()
    if not settings.metrics_token and not settings.metrics_allow:
        raise NotFound("Not found.", code="not_found")  # off: answers like a path that does not exist
    token = bearer_token(request)
    if settings.metrics_token and token and hmac.compare_digest(token.encode(), settings.metrics_token.encode()):
        return
    if settings.metrics_allow and _peer_allowed(request, settings.metrics_allow):
        return
    if settings.metrics_token:
        raise AuthRequired("Metrics need the bearer token set in METRICS_TOKEN.", code="metrics_token_required")
    raise Forbidden("Metrics are not served to this network (METRICS_ALLOW).", code="metrics_network_refused")


@router.get("/metrics", include_in_schema=False)
async def scrape(request: Request) -> Response:
    check_scraper(request)
    # Reading many processes' files and asking Redis and the database: off the event loop.
    body = await run_in_threadpool(metrics.render)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
