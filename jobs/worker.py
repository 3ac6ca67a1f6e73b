"""The RQ worker entry point: `python -m jobs.worker`. Run as many as you like, anywhere."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import UTC, datetime, timedelta

from rq import Worker

from app.db import session_scope
from app.queue import QUEUES, get_queue
from app.redis_client import get_redis
from app.services import jobs, sessions
from app.settings import get_settings

log = logging.getLogger("atelier.worker")


def live_worker_names() -> set[str]:
    """Workers that heartbeated within WORKER_TTL_SECONDS.

    RQ keeps a dead worker's key for up to TTL + 60 s; the heartbeat time tells sooner.
    """
    cutoff = datetime.now(UTC) - timedelta(seconds=get_settings().worker_ttl_seconds)
    return {w.name for w in Worker.all(connection=get_redis())
            if w.last_heartbeat is not None and w.last_heartbeat >= cutoff}


def reap_once() -> list[str]:
    """One pass of the orphan reaper, by whichever worker holds the short Redis lock."""
    settings = get_settings()
    if not get_redis().set("atelier:reaper", "1", nx=True, ex=max(5, settings.reaper_interval_seconds)):
        return []
    handled = jobs.reap_orphans(live_workers=live_worker_names())
    if handled:
        log.warning("re-queued or failed jobs of lost workers: %s", handled)
    # The same pass keeps the sessions table small: expired sessions are refused anyway.
    with session_scope() as session:
        sessions.purge_expired(session=session)
    return handled


def _reaper_loop(stop: threading.Event) -> None:
    interval = get_settings().reaper_interval_seconds
    while not stop.wait(interval):
        try:
            reap_once()
        except Exception:  # the reaper must outlive a passing database or Redis error
            log.exception("reaper pass failed")


def preload() -> None:
    """Import the job code once in the parent, so every forked work horse starts warm."""
    import importlib

    for module in ("jobs.assets", "jobs.email", "jobs.rename", "jobs.generate", "jobs.workflows",
                   "app.services.vision.local", "app.services.vision.openai_compat", "app.services.vision.google",
                   *(f"app.services.generation.{name}" for name in (
                       "local_engine", "openai_images", "a1111", "comfyui", "fal", "replicate", "stability",
                       "bedrock")),
                   "app.services.workflows.catalog", "app.services.workflows.remote_engines",
                   "app.services.content_policy"):
        importlib.import_module(module)
    for optional in ("jobs.slides",):  # job modules of features that may not be installed in this build
        try:
            importlib.import_module(optional)
        except ImportError:
            pass


def main() -> None:
    preload()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(message)s")
    settings = get_settings()
    name = f"atelier-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    worker = Worker([get_queue(q) for q in QUEUES], name=name, connection=get_redis(),
                    # Short heartbeats so a dead worker is noticed (and its jobs reaped) fast.
                    worker_ttl=settings.worker_ttl_seconds,
                    job_monitoring_interval=max(2, settings.worker_ttl_seconds // 4),
                    maintenance_interval=60)
    stop = threading.Event()
    threading.Thread(target=_reaper_loop, args=(stop,), daemon=True, name="reaper").start()
    try:
        # The scheduler runs retries that wait between attempts.
        worker.work(with_scheduler=True, logging_level="INFO")
    finally:
        stop.set()


if __name__ == "__main__":
    main()
