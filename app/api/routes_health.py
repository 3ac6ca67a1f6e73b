"""Liveness and readiness, outside /api/v1 so load balancers need no version."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from app.api.schemas import Liveness, Readiness
from app.services.health import is_ready, readiness

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Liveness)
def live() -> dict:
    return {"status": "ok"}


# The answers are built here (503 carries a body too); the model documents them.
@router.get("/health/ready", response_model=Readiness,
            responses={503: {"model": Readiness, "description": "A check is down: `down` names it."}})
async def ready() -> JSONResponse:
    checks = await run_in_threadpool(readiness)
    # AI connections are reported, not counted: a model server down does not make the app unready.
    connections = await run_in_threadpool(_connections)
    providers = await run_in_threadpool(_providers)
    if is_ready(checks):
        return JSONResponse({"status": "ready", "checks": checks, "connections": connections,
                             "providers": providers})
    down = [name for name, value in checks.items() if not value.startswith("ok")]
    return JSONResponse({"status": "unavailable", "down": down, "checks": checks, "connections": connections,
                         "providers": providers}, status_code=503)


PUBLIC_FIELDS = ("name", "preset", "enabled", "state", "error", "code", "latency_ms", "breaker", "tested_at")


def _connections() -> list[dict]:
    from app.services.ai.health import connection_health

    try:
        return [{k: c[k] for k in PUBLIC_FIELDS} for c in connection_health()]
    except Exception as exc:  # the database or Redis is down: the checks above already say so
        return [{"name": "(unknown)", "state": "down", "error": f"{type(exc).__name__}"}]


def _providers() -> list[dict]:
    from app.services.ai.health import settings_provider_health

    try:
        return settings_provider_health()
    except Exception as exc:  # the database is down: the checks above already say so
        return [{"name": "(unknown)", "breaker": "unknown", "error": f"{type(exc).__name__}"}]
