"""Readiness: database, Redis, storage and at least one live worker."""

from __future__ import annotations

from rq import Worker
from sqlalchemy import text

from app.db import get_engine
from app.queue import QUEUES
from app.redis_client import get_redis
from app.services import scan
from app.services.worker_pulse import live_names
from app.storage import get_storage


def _database() -> str:
    with get_engine().connect() as conn:
        conn.execute(text("SELECT 1"))
    return "ok"


def _redis() -> str:
    get_redis().ping()
    return "ok"


def _storage() -> str:
    storage = get_storage()
    storage.ping()
    return f"ok ({storage.name})"


def _workers() -> str:
    # RQ keeps a dead worker's key for a minute or more; the pulse tells within WORKER_TTL_SECONDS.
    pulsing = live_names()
    live = [w for w in Worker.all(connection=get_redis())
            if w.name in pulsing and set(QUEUES) & set(w.queue_names()) and w.state != "suspended"]
    if not live:
        raise RuntimeError("no live worker is listening on the queues")
    return f"ok ({len(live)} live)"


CHECKS = {"database": _database, "redis": _redis, "storage": _storage, "workers": _workers}


def readiness() -> dict[str, str]:
    """Run every check; a failing one reports its error instead of raising."""
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as exc:  # each check reports, none stops the others
            results[name] = f"down: {type(exc).__name__}: {exc}"[:300]
    if scanner := scan.health():  # listed when CLAMAV_URL is set; counted only when uploads wait for it
        results["scanner"] = scanner
    return results


def is_ready(results: dict[str, str]) -> bool:
    return all(value.startswith(("ok", "degraded")) for value in results.values())
