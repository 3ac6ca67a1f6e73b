"""Liveness and readiness, outside /api/v1 so load balancers need no version."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from app.services.health import is_ready, readiness

router = APIRouter(tags=["health"])


@router.get("/health")
def live() -> dict:
    return {"status": "ok"}


@router.get("/health/ready")
async def ready() -> JSONResponse:
    checks = await run_in_threadpool(readiness)
    if is_ready(checks):
        return JSONResponse({"status": "ready", "checks": checks})
    down = [name for name, value in checks.items() if not value.startswith("ok")]
    return JSONResponse({"status": "unavailable", "down": down, "checks": checks}, status_code=503)
