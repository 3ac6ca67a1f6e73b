"""The API's routes are the app's own, flat (app/api/__init__.py `include_flat`), and the same as FastAPI's include.

Flat because FastAPI 0.165 matches an included router lazily, walking every level on each request (~15 % of a
web process's CPU under load). The same because each flat route is rebuilt from FastAPI's merged view of the
inclusion: a field dropped on the way (a dependency, a status code, a response model) would change what a
route checks or answers.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.routing import APIRoute, _IncludedRouter, iter_route_contexts

from app.api import API_PREFIX, api_routers, build_api
from app.api.deps import same_site_writes
from app.api.outages import services_up


def _included() -> FastAPI:
    reference = FastAPI(title="Atelier API", version="1.0")
    for router in api_routers():
        reference.include_router(router)
    return reference


def _shape(context) -> tuple:
    return (context.path, tuple(sorted(context.methods or ())), context.name, context.endpoint, context.status_code,
            context.response_model, tuple(d.dependency for d in context.dependencies), context.include_in_schema,
            tuple(context.tags), tuple(sorted(map(str, context.responses))), context.response_class)


def test_no_route_is_left_behind_an_included_router():
    app = build_api()
    assert not [r for r in app.router.routes if isinstance(r, _IncludedRouter)]
    api_routes = [r for r in app.router.routes if isinstance(r, APIRoute) and r.path.startswith(API_PREFIX + "/")]
    assert len(api_routes) > 100
    for route in api_routes:  # the checks every /api/v1 route shares came along
        calls = {d.dependency for d in route.dependencies}
        assert {same_site_writes, services_up} <= calls, route.path


def test_the_flat_routes_are_what_fastapi_includes():
    flat = sorted(_shape(c) for c in iter_route_contexts(build_api().router.routes)
                  if isinstance(c.original_route, APIRoute) and c.include_in_schema)
    included = sorted(_shape(c) for c in iter_route_contexts(_included().router.routes)
                      if isinstance(c.original_route, APIRoute) and c.include_in_schema)
    assert flat == included


def test_the_openapi_schema_is_unchanged():
    assert build_api().openapi() == _included().openapi()
