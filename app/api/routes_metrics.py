"""`GET /metrics` for Prometheus, outside /api/v1 like /health: off unless METRICS_TOKEN or METRICS_ALLOW is set."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool

from app.api.client_address import address_from_scope, in_networks, parse_address
from app.api.deps import bearer_token
from app.errors import AuthRequired, Forbidden, NotFound
from app.observability import metrics
from app.settings import get_settings

router = APIRouter(tags=["operations"])


def _client_allowed(request: Request, networks) -> bool:
    # The client address as the rest of the app sees it (X-Forwarded-For only from TRUSTED_PROXIES): allowing
    # the proxy's own address must not let everyone behind the proxy in.
    return in_networks(parse_address(address_from_scope(request.scope)), networks)


def check_scraper(request: Request) -> None:
    settings = get_settings()
    if not settings.metrics_token and not settings.metrics_allow:
        raise NotFound("Not found.", code="not_found")  # off: answers like a path that does not exist
    token = bearer_token(request)
    if settings.metrics_token and token and hmac.compare_digest(token.encode(), settings.metrics_token.encode()):
        return
    if settings.metrics_allow and _client_allowed(request, settings.metrics_allow):
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
