"""Runs a job body with its Job row kept true: start, progress, success, failure, cancel, retry.

The one shape of "run, then settle": every ending goes through app.services.jobs (succeed, fail, mark_canceled),
which writes the Job row and, in the same transaction, the domain row (the kind's settle function). A body
never writes its domain row's status.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from rq import get_current_job
from rq.timeouts import JobTimeoutException

from app.observability import logs, metrics
from app.queue import KINDS
from app.services import jobs

log = logging.getLogger(__name__)

KIND_OF_FUNC = {spec.func: kind for kind, spec in KINDS.items()}
# Progress is written at most this often; a cancel is still seen between every item.
PROGRESS_EVERY = 0.5


@dataclass
class JobContext:
    job_id: str
    rq_id: str
    last_write: float = 0.0
    # What the kind's settle function gets with the ending: the body adds what it made (a planned outline, the
    # slides it wrote), so the domain row's final write happens with the Job row's, in one transaction.
    settle_args: dict = field(default_factory=dict)

    def progress(self, percent: float, message: str = "") -> None:
        """Report progress; raises JobCanceled when the user canceled (call between items)."""
        now = time.monotonic()
        if percent >= 100 or now - self.last_write >= PROGRESS_EVERY:
            self.last_write = now
            jobs.progress(self.job_id, rq_id=self.rq_id, percent=int(percent), message=message)
        elif jobs.cancel_flagged(self.job_id):
            raise jobs.JobCanceled(self.job_id)


def run_tracked(job_id: str, body: Callable[[JobContext], str], *, settle_args: dict | None = None) -> str:
    """Run `body`; returns the job id. Only transient errors propagate (so RQ retries them).

    `settle_args` go to the kind's settle function with the ending (what the body knew before it started).

    Log lines carry the job id and the ids of the request that enqueued it (RQ meta); the attempt is counted
    in the metrics by kind and outcome.
    """
    rq_job = get_current_job()
    meta = rq_job.meta if rq_job else {}
    kind = meta.get("kind") or KIND_OF_FUNC.get(rq_job.func_name if rq_job else "", "other")
    started = time.monotonic()
    outcome = "failed"
    with logs.bound(process_wide=True, job_id=job_id, request_id=meta.get("request_id"),
                    user_id=meta.get("user_id"), workspace_id=meta.get("workspace_id")):
        log.info("job %s (%s) started", job_id, kind)
        try:
            outcome = _run(job_id, body, rq_job, settle_args)
        except BaseException:
            outcome = "retried"  # handed back to RQ, which retries it
            raise
        finally:
            metrics.observe_job(kind=kind, outcome=outcome, seconds=time.monotonic() - started)
            log.info("job %s (%s) %s in %.2fs", job_id, kind, outcome, time.monotonic() - started)
    return job_id


def _run(job_id: str, body: Callable[[JobContext], str], rq_job, settle_args: dict | None = None) -> str:
    """One attempt; returns its outcome: succeeded, failed, canceled, stale or retried (raises then)."""
    rq_id = rq_job.id if rq_job else f"{job_id}-1"
    worker = rq_job.worker_name if rq_job and rq_job.worker_name else "inline"
    try:
        jobs.start(job_id, rq_id=rq_id, worker_name=worker)
    except jobs.StaleAttempt:
        log.info("job %s: attempt %s is stale, skipping", job_id, rq_id)
        return "stale"
    ctx = JobContext(job_id=job_id, rq_id=rq_id, settle_args=dict(settle_args or {}))
    try:
        result = body(ctx)
    except jobs.JobCanceled:
        jobs.mark_canceled(job_id, rq_id=rq_id, settle_args=ctx.settle_args)
        return "canceled"
    except jobs.StaleAttempt:
        log.info("job %s: attempt %s was superseded", job_id, rq_id)
        return "stale"
    except JobTimeoutException:
        jobs.fail(job_id, "The job took longer than its time limit.", rq_id=rq_id, settle_args=ctx.settle_args)
        return "failed"
    except Exception as exc:
        # The network, Redis, a storage hiccup, or an error that says `retryable = True` (a rate limit).
        if jobs.is_transient(exc) and rq_job is not None and (rq_job.retries_left or 0) > 0:
            jobs.requeue(job_id, rq_id=rq_id, reason=str(exc) or type(exc).__name__)
            raise
        # A permanent error (or the last try): record it; RQ must not retry it.
        log.exception("job %s failed", job_id)
        jobs.fail(job_id, f"{type(exc).__name__}: {exc}", rq_id=rq_id, settle_args=ctx.settle_args)
        return "failed"
    jobs.succeed(job_id, rq_id=rq_id, result_ref=result or "", settle_args=ctx.settle_args)
    return "succeeded"
