"""Runs a job body with its Job row kept true: start, progress, success, failure, cancel, retry."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from rq import get_current_job
from rq.timeouts import JobTimeoutException

from app.services import jobs

log = logging.getLogger(__name__)

# Progress is written at most this often; a cancel is still seen between every item.
PROGRESS_EVERY = 0.5


@dataclass
class JobContext:
    job_id: str
    rq_id: str
    last_write: float = 0.0

    def progress(self, percent: float, message: str = "") -> None:
        """Report progress; raises JobCanceled when the user canceled (call between items)."""
        now = time.monotonic()
        if percent >= 100 or now - self.last_write >= PROGRESS_EVERY:
            self.last_write = now
            jobs.progress(self.job_id, rq_id=self.rq_id, percent=int(percent), message=message)
        elif jobs.cancel_flagged(self.job_id):
            raise jobs.JobCanceled(self.job_id)


def run_tracked(job_id: str, body: Callable[[JobContext], str]) -> str:
    """Run `body`; returns the job id. Only transient errors propagate (so RQ retries them)."""
    rq_job = get_current_job()
    rq_id = rq_job.id if rq_job else f"{job_id}-1"
    worker = rq_job.worker_name if rq_job and rq_job.worker_name else "inline"
    try:
        jobs.start(job_id, rq_id=rq_id, worker_name=worker)
    except jobs.StaleAttempt:
        log.info("job %s: attempt %s is stale, skipping", job_id, rq_id)
        return job_id
    ctx = JobContext(job_id=job_id, rq_id=rq_id)
    try:
        result = body(ctx)
    except jobs.JobCanceled:
        jobs.mark_canceled(job_id, rq_id=rq_id)
    except jobs.StaleAttempt:
        log.info("job %s: attempt %s was superseded", job_id, rq_id)
    except JobTimeoutException:
        jobs.fail(job_id, "The job took longer than its time limit.", rq_id=rq_id)
    except Exception as exc:
        # The network, Redis, a storage hiccup, or an error that says `retryable = True` (a rate limit).
        if jobs.is_transient(exc) and rq_job is not None and (rq_job.retries_left or 0) > 0:
            jobs.requeue(job_id, rq_id=rq_id, reason=str(exc) or type(exc).__name__)
            raise
        # A permanent error (or the last try): record it; RQ must not retry it.
        log.exception("job %s failed", job_id)
        jobs.fail(job_id, f"{type(exc).__name__}: {exc}", rq_id=rq_id)
    else:
        jobs.succeed(job_id, rq_id=rq_id, result_ref=result or "")
    return job_id
