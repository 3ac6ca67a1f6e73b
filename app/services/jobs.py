"""Durable jobs: the Job row is the truth; every change is published on Redis.

Tracked jobs: a service creates its domain row and the Job row in one transaction (`start_tracked`) and the
job is enqueued after that commit; every status change of the Job row (`start`, `succeed`, `fail`,
`mark_canceled`, the reaper's) calls the kind's settle function (`queue.KINDS[kind].settle`) in the same
transaction, so the domain row and the Job row never disagree. Pages and the SSE route follow the channel
and read the row when they (re)connect.
"""

from __future__ import annotations

import errno
import importlib
import json
import logging
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Protocol

import redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy import update
from sqlmodel import Session, col, func, select

from app import queue
from app.db import after_commit, session_scope
from app.errors import Conflict, NotFound, ValidationFailed
from app.models import Job, JobStatus, utcnow
from app.redis_client import get_redis
from app.services import credits

log = logging.getLogger(__name__)
TERMINAL = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED)
STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING, *TERMINAL)
# The reason a domain row gets when the reaper ended its job (its worker died, Redis lost it).
LOST = "The job doing this work was lost"
# settle(session, job, **extra): what a tracked job's domain row becomes when its Job row changes status.
Settle = Callable[..., None]


# Errors worth another attempt: the network, Redis (its errors are not the builtin ConnectionError), and a
# storage folder that may come back (full, remounted read-only, a flaky disk). Pillow's "cannot identify
# image file" is an OSError too, but carries no errno: a bad file is never retried.
TRANSIENT_TYPES = (ConnectionError, TimeoutError, redis.exceptions.ConnectionError, redis.exceptions.TimeoutError,
                   redis.exceptions.BusyLoadingError)
TRANSIENT_ERRNOS = frozenset({errno.ENOSPC, errno.EROFS, errno.EIO, errno.EAGAIN, errno.EBUSY, errno.EDQUOT,
                              errno.ETIMEDOUT, errno.ESTALE})


# S3 (botocore): answers that say "later", by their error code.
TRANSIENT_S3_CODES = frozenset({"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "503", "500"})


def is_transient(exc: BaseException) -> bool:
    """True when the same work may succeed later (so a job retries it instead of failing for good)."""
    if isinstance(exc, TRANSIENT_TYPES) or getattr(exc, "retryable", False):
        return True
    if isinstance(exc, OSError) and exc.errno in TRANSIENT_ERRNOS:
        return True
    return _is_transient_s3(exc)


def _is_transient_s3(exc: BaseException) -> bool:
    """An S3 endpoint unreachable, a dropped connection or timeout, or a "slow down"/5xx answer."""
    from botocore.exceptions import ClientError, HTTPClientError
    from botocore.exceptions import ConnectionError as S3ConnectionError

    if isinstance(exc, S3ConnectionError | HTTPClientError):
        return True
    return isinstance(exc, ClientError) and str(exc.response.get("Error", {}).get("Code")) in TRANSIENT_S3_CODES


class Progress(Protocol):
    """What a job body gets from the runner (jobs.runner.JobContext): its job id, progress reports (which raise
    JobCanceled when a cancel was asked), and `settle_args` for the kind's settle function."""

    job_id: str
    settle_args: dict

    def progress(self, percent: float, message: str = "") -> None: ...


class JobCanceled(Exception):
    """Raised inside a job between items when someone asked to cancel it."""


class StaleAttempt(Exception):
    """This execution is not the job's current attempt (it was re-queued elsewhere)."""


def _cancel_key(job_id: str) -> str:
    return f"atelier:cancel:{job_id}"


def cancel_flagged(job_id: str) -> bool:
    """A cheap between-items check (Redis), so progress need not be written for every item."""
    try:
        return bool(get_redis().exists(_cancel_key(job_id)))
    except (RedisConnectionError, RedisTimeoutError):
        # Redis restarting must not fail a running job: the row's cancel_requested is read at the
        # next progress write, so a cancel is still seen, a moment later.
        return False


def job_channel(job_id: str) -> str:
    return f"atelier:job:{job_id}"


def workspace_channel(workspace_id: int) -> str:
    return f"atelier:workspace:{workspace_id}:jobs"


def public(job: Job) -> dict[str, Any]:
    return {
        "id": job.id, "kind": job.kind, "status": job.status, "progress": job.progress,
        "message": job.message, "result_ref": job.result_ref, "error": job.error, "cost": job.cost,
        "attempts": job.attempts, "cancel_requested": job.cancel_requested,
        "params": dict(job.params or {}),
        "created_at": job.created_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


def publish(job: Job) -> None:
    payload = json.dumps(public(job))
    try:
        pipe = get_redis().pipeline()
        pipe.publish(job_channel(job.id), payload)
        if job.workspace_id:
            pipe.publish(workspace_channel(job.workspace_id), payload)
        pipe.execute()
    except Exception:  # the row is the truth; a missed message is read on reconnect
        log.warning("could not publish job %s", job.id, exc_info=True)


def start_tracked(session: Session, *, kind: str, params: dict, domain_row=None, workspace_id: int | None = None,
                  cost: int = 0, user_id: int | None = None, idempotency_key: str | None = None,
                  on_refused: Settle | None = None) -> Job:
    """Add the Job row for `domain_row` in the caller's transaction and enqueue the job once it commits.

    `domain_row` (a row with `job_id` and `workspace_id`, flushed so `params` can name it) is pointed at the job
    in the same transaction; credits are reserved in it too, so a refusal leaves nothing behind. When the
    enqueue fails, the Job row is failed together with `on_refused(session, job)` (the caller's undo; by
    default the kind's settle function, as for any failed job) and `session_scope` raises the error.
    Same idempotency key → the same job.
    """
    if idempotency_key:
        existing = session.exec(select(Job).where(Job.idempotency_key == idempotency_key)).first()
        if existing is not None:
            return existing
    spec = queue.KINDS[kind]
    job_id = str(uuid.uuid4())
    if workspace_id is None and domain_row is not None:
        workspace_id = domain_row.workspace_id
    job = Job(id=job_id, kind=kind, workspace_id=workspace_id, user_id=user_id, params=dict(params), cost=cost,
              queue=spec.queue, rq_id=f"{job_id}-1", max_attempts=spec.retries + 1,
              idempotency_key=idempotency_key, message="Waiting for a worker")
    session.add(job)
    session.flush()
    if workspace_id and cost:
        credits.reserve(session=session, workspace_id=workspace_id, amount=cost, job_id=job_id, user_id=user_id)
    if domain_row is not None:
        domain_row.job_id = job_id
        session.add(domain_row)

    def enqueue() -> None:
        try:
            queue.enqueue_job(kind=kind, job_id=job_id, rq_id=job.rq_id)
        except Exception as exc:
            _finish(job_id, job.rq_id, "failed", False, settle=on_refused, error=f"Could not enqueue: {exc}"[:2000],
                    message="Failed")
            raise
        publish(job)

    after_commit(session, enqueue)
    return job


def submit(*, kind: str, workspace_id: int | None, params: dict, cost: int = 0,
           idempotency_key: str | None = None, user_id: int | None = None) -> Job:
    """A job with no domain row of its own: its row (reserving credits) committed, then enqueued."""
    with session_scope() as session:
        job = start_tracked(session, kind=kind, workspace_id=workspace_id, params=params, cost=cost,
                            idempotency_key=idempotency_key, user_id=user_id)
    return job


def params_of(job_id: str) -> dict:
    """A job's parameters: what its orchestrator loads first (the ids it works on)."""
    with session_scope() as session:
        job = session.get(Job, job_id)
        if job is None:
            raise NotFound(f"No job {job_id}.")
        return dict(job.params or {})


def claims(session: Session, row, job: Job) -> bool:
    """Whether `job` may write the status of `row` (a domain row with `job_id`): the job it points at, or a job
    that starts while the row's own job has ended (an admin retry): the row then follows it."""
    if row is None:
        return False
    if row.job_id == job.id:
        return True
    current = session.get(Job, row.job_id) if row.job_id else None
    if job.status != "running" or (current is not None and current.status not in TERMINAL):
        return False
    row.job_id = job.id
    session.add(row)
    return True


def _settle_domain(session: Session, job: Job, settle: Settle | None = None, **extra) -> None:
    """The kind's settle function (or `settle`), in the transaction that changed the Job row."""
    if settle is None:
        spec = queue.KINDS.get(job.kind)
        if spec is None or not spec.settle:
            return
        module, _, name = spec.settle.partition(":")
        # Imported when used: the products import this module.
        settle = getattr(importlib.import_module(module), name)
    settle(session, job, **extra)


def _apply(job_id: str, current_rq_id: str | None, **values) -> Job:
    """Update a job row if `current_rq_id` is still its current attempt; publish the new state."""
    values["updated_at"] = utcnow()
    with session_scope() as session:
        stmt = update(Job).where(col(Job.id) == job_id)
        if current_rq_id is not None:
            stmt = stmt.where(col(Job.rq_id) == current_rq_id)
        if session.execute(stmt.values(**values)).rowcount != 1:
            raise StaleAttempt(job_id)
        job = session.get(Job, job_id)
        session.refresh(job)
    publish(job)
    return job


def start(job_id: str, *, rq_id: str, worker_name: str) -> Job:
    with session_scope() as session:
        moved = session.execute(
            update(Job).where(col(Job.id) == job_id, col(Job.rq_id) == rq_id,
                              col(Job.status).in_(("queued", "running")))
            .values(status="running", started_at=utcnow(), updated_at=utcnow(),
                    attempts=Job.attempts + 1, worker_name=worker_name[:128], message="Started")
        )
        if moved.rowcount != 1:
            raise StaleAttempt(job_id)
        job = session.get(Job, job_id)
        session.refresh(job)
        _settle_domain(session, job)
    publish(job)
    return job


def progress(job_id: str, *, rq_id: str, percent: int, message: str = "") -> None:
    """Record progress; raises JobCanceled when a cancel was requested (checked between items)."""
    job = _apply(job_id, rq_id, progress=max(0, min(100, int(percent))), message=message[:300])
    if job.cancel_requested:
        raise JobCanceled(job_id)


def _finish(job_id: str, rq_id: str | None, status: str, success: bool, *, settle: Settle | None = None,
            settle_args: dict | None = None, **values) -> Job:
    """The Job row's terminal write, its credits and its domain row's (the kind's settle function, or `settle`),
    in one transaction; nothing when the job had ended already or this is not its current attempt."""
    with session_scope() as session:
        stmt = update(Job).where(col(Job.id) == job_id, col(Job.status).not_in(TERMINAL))
        if rq_id is not None:
            stmt = stmt.where(col(Job.rq_id) == rq_id)
        moved = session.execute(stmt.values(status=status, finished_at=utcnow(), updated_at=utcnow(), **values))
        job = session.get(Job, job_id)
        if job is None:
            raise NotFound(f"No job {job_id}.")
        session.refresh(job)
        if moved.rowcount == 1:
            credits.settle(session=session, job_id=job_id, success=success)
            _settle_domain(session, job, settle, **(settle_args or {}))
    publish(job)
    return job


def succeed(job_id: str, *, rq_id: str, result_ref: str = "", message: str = "Done",
            settle_args: dict | None = None) -> Job:
    return _finish(job_id, rq_id, "succeeded", True, settle_args=settle_args, progress=100,
                   result_ref=result_ref[:300], message=message[:300])


def fail(job_id: str, error: str, *, rq_id: str | None = None, lost: bool = False,
         settle_args: dict | None = None) -> Job:
    """`lost`: the reaper ends a job whose worker or queue lost it; its domain row says so."""
    args = {**(settle_args or {}), **({"reason": f"{LOST}: {error}"[:500]} if lost else {})}
    return _finish(job_id, rq_id, "failed", False, settle_args=args, error=error[:2000], message="Failed")


def mark_canceled(job_id: str, *, rq_id: str | None = None, settle_args: dict | None = None) -> Job:
    return _finish(job_id, rq_id, "canceled", False, settle_args=settle_args, message="Canceled")


def requeue(job_id: str, *, rq_id: str, reason: str) -> Job:
    """Back to queued while RQ waits to retry a transient error."""
    return _apply(job_id, rq_id, status="queued", message=f"Retrying: {reason}"[:300])


def reattempt(job_id: str, *, rq_id: str, new_rq_id: str, message: str) -> Job:
    """Move a job still "queued" to a new attempt id (the old one is lost); the caller enqueues it."""
    return _apply(job_id, rq_id, status="queued", rq_id=new_rq_id, message=message[:300])


def get_job(*, session: Session, job_id: str, workspace_id: int | None = None) -> Job:
    job = session.get(Job, job_id)
    # Another user's job answers like a missing one.
    if job is None or (workspace_id is not None and job.workspace_id != workspace_id):
        raise NotFound("No such job.")
    return job


def list_jobs(*, session: Session, workspace_id: int | None = None, status: str = "", kind: str = "",
              limit: int = 50, offset: int = 0) -> tuple[list[Job], int]:
    if status and status not in STATUSES:
        raise ValidationFailed(f"Status must be one of: {', '.join(STATUSES)}.", code="invalid_status")
    stmt = select(Job)
    count = select(func.count()).select_from(Job)
    conditions = []
    if workspace_id is not None:
        conditions.append(Job.workspace_id == workspace_id)
    if status:
        conditions.append(Job.status == status)
    if kind:
        conditions.append(Job.kind == kind[:64])
    for cond in conditions:
        stmt, count = stmt.where(cond), count.where(cond)
    rows = session.exec(stmt.order_by(col(Job.created_at).desc()).limit(limit).offset(offset)).all()
    return list(rows), session.exec(count).one()


def cancel(*, job_id: str, workspace_id: int | None) -> str:
    """Cancel a job: 'removed' (it had not started) or 'stopping' (it stops between items)."""
    with session_scope() as session:
        job = get_job(session=session, job_id=job_id, workspace_id=workspace_id)
        status, rq_id = job.status, job.rq_id
    if status in TERMINAL:
        raise Conflict(f"This job already {status}.", code="job_finished")
    if status == "queued" and queue.cancel_rq_job(rq_id):
        mark_canceled(job_id)
        return "removed"
    _apply(job_id, None, cancel_requested=True, message="Stopping after the current item")
    get_redis().set(_cancel_key(job_id), "1", ex=24 * 3600)
    return "stopping"


def retry(*, job_id: str) -> Job:
    """Admin retry: a new job with the same kind, owner, parameters and price."""
    with session_scope() as session:
        job = get_job(session=session, job_id=job_id)
        if job.status not in (JobStatus.FAILED, JobStatus.CANCELED):
            raise Conflict("Only failed or canceled jobs can be retried.", code="job_not_retryable")
        kind, workspace_id, params, cost = job.kind, job.workspace_id, dict(job.params), job.cost
    return submit(kind=kind, workspace_id=workspace_id, params=params, cost=cost)


def reap_orphans(*, live_workers: set[str], grace: timedelta = timedelta(seconds=5)) -> list[str]:
    """Jobs 'running' on a worker that is gone: retried while attempts remain, else failed."""
    cutoff = utcnow() - grace
    handled = []
    with session_scope() as session:
        running = session.exec(select(Job).where(Job.status == "running", Job.updated_at < cutoff)).all()
        orphans = [(j.id, j.rq_id, j.kind, j.attempts, j.max_attempts, j.worker_name)
                   for j in running if j.worker_name not in live_workers]
    for job_id, rq_id, kind, attempts, max_attempts, worker in orphans:
        try:
            if attempts < max_attempts:
                new_rq_id = f"{job_id}-{attempts + 1}"
                _apply(job_id, rq_id, status="queued", rq_id=new_rq_id,
                       message=f"Worker {worker or '?'} was lost; retrying")
                queue.enqueue_job(kind=kind, job_id=job_id, rq_id=new_rq_id)
            else:
                fail(job_id, f"Worker {worker or '?'} was lost and no attempts remain.", rq_id=rq_id, lost=True)
            handled.append(job_id)
        except StaleAttempt:
            continue  # another reaper or the job itself moved it first
    return handled
