"""The RQ worker entry point: `python -m jobs.worker`. Run as many as you like, anywhere."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import UTC, datetime, timedelta

from rq import Worker
from rq.worker import WorkerStatus

from app.db import session_scope
from app.queue import QUEUES, get_queue
from app.redis_client import get_redis
from app.services import jobs, rename, sessions
from app.settings import get_settings
from jobs import periodic

log = logging.getLogger("atelier.worker")

# Jobs run in the worker process itself rather than in a forked work horse. A generation job spends
# nearly all its time waiting on a provider; a fork per job (plus its exit, a cold HTTP connection
# and per-process caches) cost it ~170 ms of a ~350 ms provider call, measured in bench/generate.py.
# In-process, the provider's warm connections carry over from job to job. What is given up is the
# fork's isolation, which these jobs need least: their own code, images within our pixel limits, no
# subprocesses. A crash still loses nothing: the reaper re-queues the job of a worker that stops
# heartbeating, and `make run` starts a new worker in its place. Everything that handles untrusted
# uploads, long CPU work or other programs (assets, rename, workflows, slides) keeps its fork.
INLINE_JOBS = frozenset({"jobs.generate.run_generation"})


class AtelierWorker(Worker):
    """An RQ worker that forks a work horse per job, except for the jobs named in INLINE_JOBS."""

    def execute_job(self, job, queue) -> None:  # noqa: ANN001 (RQ's own signature)
        if job.func_name not in INLINE_JOBS:
            super().execute_job(job, queue)
            return
        execution = self.prepare_execution(job)
        stop = threading.Event()
        # The main thread is busy with the job, so a thread keeps the heartbeats the monitoring loop
        # of a forked job would send: without them the reaper would think this worker dead.
        beat = threading.Thread(target=self._beat, args=(job, execution, stop), daemon=True,
                                name="inline-heartbeat")
        beat.start()
        try:
            self.perform_job(job, queue, execution)  # job timeouts still apply (SIGALRM, main thread)
        finally:
            stop.set()
            beat.join()
        self.set_state(WorkerStatus.IDLE)

    def _beat(self, job, execution, stop: threading.Event) -> None:  # noqa: ANN001
        while not stop.wait(self.job_monitoring_interval):
            try:
                self.maintain_heartbeats(job, execution)
            except Exception:  # a passing Redis error must not end the heartbeats
                log.exception("heartbeat for job %s failed", job.id)


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
    periodic.run_due()  # rows with no live job behind them, and the rest of jobs/periodic.py
    # Old image descriptions go hourly (a scan of the cache table; no need to run it every pass).
    if get_redis().set("atelier:vision-cache-purge", "1", nx=True, ex=3600):
        with session_scope() as session:
            rename.purge_vision_cache(session=session)
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


def warm() -> None:
    """Build in the parent what every job would otherwise build again in each forked work horse.

    Measured per horse before this: the database engine's first connect ~50 ms, a provider's HTTP
    client loading the CA bundle ~25-70 ms, Pillow's plugin registry and WebP encoder on first use.
    A fork copies them ready-made. Nothing here holds a connection a horse could share: the
    database pool is dropped in the child (app.db), and the TLS context holds no sockets.
    SQLAlchemy configures its mappers on first use (~40 ms) and caches compiled statements on the
    engine: a look-up by key on every table here leaves both ready for every horse.
    """
    from PIL import Image, WebPImagePlugin  # noqa: F401 (registers the WebP encoder)
    from sqlalchemy import text
    from sqlalchemy.orm import configure_mappers
    from sqlmodel import SQLModel

    from app.services.vision.http import tls_context
    from app.storage import get_storage

    get_settings()
    with session_scope() as session:
        session.execute(text("SELECT 1"))
        configure_mappers()
        for mapper in SQLModel._sa_registry.mappers:
            if len(mapper.primary_key) == 1:
                session.get(mapper.class_, 0 if mapper.primary_key[0].type.python_type is int else "")
    import httpx

    httpx.Client(verify=tls_context()).close()  # also imports httpcore, which httpx loads lazily
    Image.init()
    get_storage()


def main() -> None:
    preload()
    warm()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(message)s")
    settings = get_settings()
    name = f"atelier-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    worker = AtelierWorker([get_queue(q) for q in QUEUES], name=name, connection=get_redis(),
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
