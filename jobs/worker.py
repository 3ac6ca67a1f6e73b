"""The RQ worker entry point: `python -m jobs.worker`. Run as many as you like, anywhere."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
import threading
import uuid

import redis.exceptions
from rq import Worker
from rq.worker import WorkerStatus

from app.db import session_scope
from app.models import Job
from app.observability import logs, multiproc
from app.observability.logs import configure_logging
from app.queue import QUEUES, get_queue, inline_functions
from app.redis_client import get_redis
from app.services import jobs, worker_pulse
from app.services.auth import sessions
from app.services.rename import service as rename
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
INLINE_JOBS = inline_functions()  # the kinds marked `inline` in app/queue.py

# SQLite keeps a process's locks in its memory as well as on the file. A work horse forked while the reaper
# thread was inside a transaction inherited that memory ("a connection of this process holds the writer lock")
# but not the file lock, and nothing in the horse would ever release it: the job's first BEGIN IMMEDIATE
# waited out the 30 s busy timeout and failed, costing it an attempt. It showed when the reaper re-queued a
# lost job: the horse was forked 7 ms later, while the same reaper pass went on writing. The reaper's passes
# and the forks take turns on this lock (a fork waits at most one pass).
FORK_GUARD = threading.Lock()


@contextlib.contextmanager
def _redis_may_be_away(what: str):
    try:
        yield
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
        log.warning("%s skipped, Redis unavailable: %s", what, exc)


class AtelierWorker(Worker):
    """An RQ worker that forks a work horse per job, except for the jobs named in INLINE_JOBS."""

    def execute_job(self, job, queue) -> None:
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

    def fork_work_horse(self, job, queue) -> None:
        with FORK_GUARD:  # the child carries on inside the block and leaves by os._exit, never releasing it
            super().fork_work_horse(job, queue)

    def main_work_horse(self, job, queue) -> None:
        die_with_parent(self.pid)
        super().main_work_horse(job, queue)

    def perform_job(self, job, queue, execution) -> bool:
        # Every job's lines (RQ's own, e-mail deliveries, tracked jobs) carry the ids of the request that enqueued
        # it (app.queue.job_meta); process-wide, so a job's pool threads have them too.
        meta = job.meta or {}
        with logs.bound(process_wide=True, request_id=meta.get("request_id"), user_id=meta.get("user_id"),
                        workspace_id=meta.get("workspace_id")):
            return super().perform_job(job, queue, execution)

    def monitor_work_horse(self, job, queue, execution) -> None:
        horse = self.horse_pid
        try:
            super().monitor_work_horse(job, queue, execution)
        finally:  # the horse is gone (it leaves by os._exit, so it cannot say so itself)
            multiproc.process_exited(horse)

    def handle_work_horse_killed(self, job, retpid, ret_val, rusage) -> None:
        """The work horse died mid-job (killed, or crashed in C code) while this worker lives on, so the
        reaper will not see it: put the job row back in the queue for RQ's retry, or fail it."""
        super().handle_work_horse_killed(job, retpid, ret_val, rusage)
        job_id = job.args[0] if job.args and isinstance(job.args[0], str) else ""
        if not job_id or not job.id.startswith(f"{job_id}-"):
            return  # not a tracked job (e-mail delivery)
        how = f"signal {os.WTERMSIG(ret_val)}" if ret_val and os.WIFSIGNALED(ret_val) else f"status {ret_val}"
        with session_scope() as session:
            row = session.get(Job, job_id)
            current = row is not None and row.rq_id == job.id and row.status == "running"
        if not current:
            return  # it finished (or was handed on) before the process died
        try:
            if job.retries_left:
                jobs.requeue(job_id, rq_id=job.id, reason=f"the process running it died ({how})")
            else:
                jobs.fail(job_id, f"The process running the job died ({how}) and no attempts remain.",
                          rq_id=job.id)
        except jobs.StaleAttempt:
            pass

    # RQ retries a lost Redis only while it waits for a job; a Redis error in its heartbeats,
    # suspension check or registry cleaning ends the worker (and the job it runs). Redis restarting
    # is no reason to die: each of these is tried again on the next turn of the loop. Deaths are told
    # by the pulse, so a missed RQ heartbeat costs nothing.
    def maintain_heartbeats(self, job, execution) -> None:
        with _redis_may_be_away(f"heartbeat for job {job.id}"):
            super().maintain_heartbeats(job, execution)

    def heartbeat(self, timeout=None, pipeline=None) -> None:
        if pipeline is not None:  # part of a larger write that handles its own errors
            return super().heartbeat(timeout, pipeline)
        with _redis_may_be_away("heartbeat"):
            super().heartbeat(timeout)

    def set_state(self, state: str, pipeline=None) -> None:
        if pipeline is not None:
            return super().set_state(state, pipeline)
        with _redis_may_be_away("state update"):
            super().set_state(state)

    def check_for_suspension(self, burst: bool) -> None:
        with _redis_may_be_away("suspension check"):
            super().check_for_suspension(burst)

    def run_maintenance_tasks(self) -> None:
        with _redis_may_be_away("registry cleaning"):
            super().run_maintenance_tasks()

    def _start_scheduler(self, *args, **kwargs) -> None:
        # Redis gone while the worker starts (`make run` restarting it): RQ's start-up lock request raised and
        # the worker exited. The maintenance pass starts the scheduler once Redis is back.
        with _redis_may_be_away("scheduler start"):
            super()._start_scheduler(*args, **kwargs)

    def _beat(self, job, execution, stop: threading.Event) -> None:
        while not stop.wait(self.job_monitoring_interval):
            try:
                self.maintain_heartbeats(job, execution)
            except Exception:  # a passing Redis error must not end the heartbeats
                log.exception("heartbeat for job %s failed", job.id)


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent(parent_pid: int) -> None:
    """Make this forked process get SIGKILL when its parent dies.

    RQ puts each work horse in a process group of its own, out of reach of a supervisor's killpg; a
    worker killed with SIGKILL left its horse running the job on, unwatched, beside the retry the reaper
    starts. Linux only (prctl); elsewhere the horse outlives its worker as before.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            log.warning("prctl(PR_SET_PDEATHSIG) failed: errno %s", ctypes.get_errno())
            return
    except (OSError, AttributeError):
        return
    if os.getppid() != parent_pid:  # the worker died between the fork and the prctl
        os._exit(1)


def live_worker_names() -> set[str]:
    """Workers whose pulse is younger than WORKER_TTL_SECONDS (app.services.worker_pulse)."""
    return worker_pulse.live_names()


def reap_once(pulse: worker_pulse.Pulse | None = None) -> list[str]:
    """One pass of the orphan reaper, by whichever worker holds the short Redis lock."""
    settings = get_settings()
    if pulse is not None and not pulse.steady:
        return []  # Redis just came back: every pulse looks old until the live workers beat again
    if not get_redis().set("atelier:reaper", "1", nx=True, ex=settings.reaper_interval_seconds):
        return []
    handled = jobs.reap_orphans(live_workers=live_worker_names())
    if handled:
        log.warning("re-queued or failed jobs of lost workers: %s", handled)
    # Expired sessions are refused anyway; deleting them once a minute keeps the table small.
    if get_redis().set("atelier:sessions-purge", "1", nx=True, ex=60):
        with session_scope() as session:
            sessions.purge_expired(session=session)
    periodic.run_due()  # rows with no live job behind them, and the rest of jobs/periodic.py
    # Old image descriptions go hourly (a scan of the cache table; no need to run it every pass).
    if get_redis().set("atelier:vision-cache-purge", "1", nx=True, ex=3600):
        with session_scope() as session:
            rename.purge_vision_cache(session=session)
    return handled


def _reaper_loop(stop: threading.Event, pulse: worker_pulse.Pulse) -> None:
    interval = get_settings().reaper_interval_seconds
    while not stop.wait(interval):
        try:
            with FORK_GUARD:
                reap_once(pulse)
        except Exception:  # the reaper must outlive a passing database or Redis error
            log.exception("reaper pass failed")


def preload() -> None:
    """Import the job code once in the parent, so every forked work horse starts warm."""
    import importlib

    from app.providers.registry import adapter_modules
    from app.queue import job_modules

    # jobs.periodic (the reaper's periodic work) is imported at the top of this module.
    for module in (*job_modules(), *adapter_modules(), "app.services.workflows.catalog",
                   "app.services.workflows.remote_engines", "app.services.moderation.policy"):
        importlib.import_module(module)


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

    from app.providers.http import tls_context
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
    from app.services.generation.local.subject import preload

    preload()  # the local design engine's icon set: read once here, not by the first generation


def main() -> None:
    preload()
    warm()
    configure_logging()
    name = f"atelier-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    # RQ's own heartbeats only keep its registries; deaths are told by the pulse (WORKER_TTL_SECONDS).
    worker = AtelierWorker([get_queue(q) for q in QUEUES], name=name, connection=get_redis(),
                           worker_ttl=60, job_monitoring_interval=10, maintenance_interval=60)
    pulse = worker_pulse.Pulse(name).start()
    stop = threading.Event()
    threading.Thread(target=_reaper_loop, args=(stop, pulse), daemon=True, name="reaper").start()
    try:
        # The scheduler runs retries that wait between attempts.
        worker.work(with_scheduler=True, logging_level="INFO")
    finally:
        stop.set()
        pulse.close()
        multiproc.process_exited()


if __name__ == "__main__":
    main()
