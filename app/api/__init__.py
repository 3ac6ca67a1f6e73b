"""The REST API (FastAPI), mounted beside the Reflex app through `api_transformer`."""

from __future__ import annotations

import inspect

from fastapi import APIRouter, Depends
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi_offline import FastAPIOffline

from app.api import (
    routes_admin,
    routes_admin_ai,
    routes_admin_generation,
    routes_assets,
    routes_auth,
    routes_billing,
    routes_billing_webhook,
    routes_health,
    routes_images,
    routes_jobs,
    routes_library,
    routes_me,
    routes_metrics,
    routes_public_images,
    routes_rename,
    routes_slides,
    routes_sso,
    routes_template_reviews,
    routes_templates,
    routes_workflows,
    routes_workspaces,
)
from app.api.deps import same_site_writes
from app.api.errors import install_error_handlers
from app.api.idempotency import Idempotency
from app.api.json_depth import JsonDepthLimit
from app.api.outages import install_outage_handlers, services_up
from app.api.request_context import RequestContext
from app.api.schemas import ErrorBody

API_PREFIX = "/api/v1"

_ERRORS = {status: {"model": ErrorBody} for status in (401, 403, 404, 409, 410, 413, 422, 429)}


def api_routers() -> list[APIRouter]:
    """The API as routers: /api/v1 (every product's routes, with the checks all of them share), health, metrics."""
    v1 = APIRouter(prefix=API_PREFIX, dependencies=[Depends(same_site_writes), Depends(services_up)], responses=_ERRORS)
    for module in (routes_auth, routes_sso, routes_me, routes_assets, routes_library, routes_rename, routes_images,
                   routes_workflows, routes_slides, routes_jobs, routes_admin, routes_admin_generation,
                   routes_admin_ai, routes_workspaces, routes_billing, routes_billing_webhook, routes_templates,
                   routes_template_reviews, routes_public_images):
        v1.include_router(module.router)
    return [v1, routes_health.router, routes_metrics.router]


def build_api():
    # Swagger UI and ReDoc assets ship in fastapi-offline: the docs work with no internet.
    api = FastAPIOffline(title="Atelier API", version="1.0", docs_url="/docs",
                         redoc_url="/redoc", openapi_url="/openapi.json")
    install_error_handlers(api)
    install_outage_handlers(api)
    api.add_middleware(JsonDepthLimit)
    api.add_middleware(Idempotency)  # Idempotency-Key on the routes that spend credits or start jobs
    api.add_middleware(RequestContext)  # outermost of ours: request ids and metrics see every answer
    for router in api_routers():
        include_flat(api, router)
    return api


# What a route is built from: every argument of add_api_route but the path, the endpoint and the two that are
# not a route's own (the route class to use, the router's form limits).
_ROUTE_FIELDS = tuple(name for name in inspect.signature(APIRouter.add_api_route).parameters
                      if name not in ("self", "path", "endpoint", "route_class_override", "form_limits"))


def include_flat(api, router: APIRouter) -> None:
    """`api.include_router(router)`, with every route added to the app itself, as a plain route.

    FastAPI (≥ 0.165) keeps an included router as a lazy branch: each request walks the branches (three levels
    here: app, /api/v1, a module) to match its route, twice, and sums the routers' versions at every level.
    That was ~15 % of the web processes' Python time under load (py-spy, bench/web_load.py); flat, /ping costs
    ~25 % less CPU. The same routes as plain routes of the app match in one pass over a list. Each is made
    from FastAPI's own merged view of the inclusion (prefix, dependencies, responses and tags combined), so
    the routes and the OpenAPI schema are the same.
    """
    holder = APIRouter()
    holder.include_router(router)
    for context in iter_route_contexts(holder.routes):
        if not isinstance(context.original_route, APIRoute):
            raise TypeError(f"{context.path}: only API routes can be included flat")
        api.router.add_api_route(context.path, context.endpoint,
                                 **{name: getattr(context, name) for name in _ROUTE_FIELDS})
