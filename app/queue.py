"""The RQ connection, queues by purpose, job functions by kind and the enqueue helpers.

Jobs are named by dotted path so `app/` never imports `jobs/`. KINDS and UNTRACKED are the one list of job
functions: the worker preloads their modules, and a test checks that every module under jobs/ holding a job is here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from rq import Queue, Retry

from app.observability import logs
from app.redis_client import get_redis

QUEUES = ("default", "assets", "email")


@dataclass(frozen=True)
class JobKind:
    func: str
    queue: str
    timeout: int  # seconds before RQ stops the job
    retries: int  # automatic retries of transient errors
    backoff: tuple[int, ...]  # seconds between retries
    # Run in the worker process instead of a forked work horse (jobs.worker.AtelierWorker says why).
    inline: bool = False
    # "module:function" that writes the domain row when the Job row changes status (app.services.jobs calls it in
    # the same transaction, so the two never disagree); "" for kinds with no domain status.
    settle: str = ""


KINDS: dict[str, JobKind] = {
    "assets.process": JobKind("jobs.assets.process_assets", "assets", timeout=900, retries=2, backoff=(5, 30)),
    "rename.analyze": JobKind("jobs.rename.analyze_batch", "default", timeout=3600, retries=2, backoff=(10, 60),
                              settle="app.services.rename.service:settle_job"),
    # Retries cover a provider outage; a submit the provider may have run is not repeated blindly.
    "workflows.run": JobKind("jobs.workflows.run_workflow", "default", timeout=7200, retries=2, backoff=(10, 60),
                             settle="app.services.workflows.runs:settle_job"),
    "generate.images": JobKind("jobs.generate.run_generation", "default", timeout=1200, retries=2, backoff=(10, 60),
                               inline=True, settle="app.services.generation.service:settle_job"),
    # Slide decks: a chat-planned outline, a whole deck or one slide; a retry (a provider outage) writes them again.
    "slides.run": JobKind("jobs.slides.run_deck_job", "default", timeout=3600, retries=1, backoff=(15,),
                          settle="app.services.slides.runs:settle_job"),
}

# Job functions enqueued outside KINDS (not tracked as Job rows), by what they do.
UNTRACKED: dict[str, str] = {
    "email.deliver": "jobs.email.deliver_email",
    "billing.topup": "jobs.billing.run_topup",
    "billing.reconcile": "jobs.billing.reconcile_billing",
}


def job_functions() -> list[str]:
    """Every job function by dotted path, tracked or not."""
    return sorted({*(k.func for k in KINDS.values()), *UNTRACKED.values()})


def job_modules() -> list[str]:
    """Every module holding a job function: the worker preloads these (one list, this file)."""
    return sorted({func.rsplit(".", 1)[0] for func in job_functions()})


def inline_functions() -> frozenset[str]:
    """The job functions the worker runs in its own process rather than in a forked work horse."""
    return frozenset(k.func for k in KINDS.values() if k.inline)


def get_queue(name: str = "default") -> Queue:
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}")
    return Queue(name, connection=get_redis(), default_timeout=300)


def enqueue_job(*, kind: str, job_id: str, rq_id: str) -> None:
    spec = KINDS[kind]
    get_queue(spec.queue).enqueue(
        spec.func, job_id, job_id=rq_id, job_timeout=spec.timeout,
        retry=Retry(max=spec.retries, interval=list(spec.backoff)) if spec.retries else None,
        result_ttl=3600, failure_ttl=7 * 24 * 3600, meta=job_meta(kind),
    )


def job_meta(kind: str = "") -> dict:
    """What the worker logs the job with: its kind and the ids of the request (or job) that enqueued it."""
    return {"kind": kind, **{name: logs.current(name) for name in ("request_id", "user_id", "workspace_id")
                             if logs.current(name) is not None}}


def cancel_rq_job(rq_id: str) -> bool:
    """Take a job off its queue if it has not started; True when it was removed."""
    from rq.exceptions import InvalidJobOperation, NoSuchJobError
    from rq.job import Job as RQJob

    try:
        job = RQJob.fetch(rq_id, connection=get_redis())
    except NoSuchJobError:
        return True
    if job.get_status(refresh=True) not in ("queued", "scheduled", "deferred"):
        return False
    try:
        job.cancel()
    except InvalidJobOperation:
        return False
    return True


def enqueue_email_delivery(outbox_id: int) -> None:
    get_queue("email").enqueue(
        UNTRACKED["email.deliver"], outbox_id,
        job_id=f"email-{outbox_id}", retry=Retry(max=3, interval=[10, 60, 300]),
        job_timeout=60, meta=job_meta("email.deliver"),
    )


def enqueue_topup(workspace_id: int) -> None:
    """One automatic top-up of a workspace (budgets claims it first, so a crossing enqueues it once). No RQ
    retry: a declined card is not retried blindly; the next crossing tries again."""
    get_queue("default").enqueue(UNTRACKED["billing.topup"], workspace_id, job_timeout=120,
                                 job_id=f"topup-{workspace_id}-{uuid.uuid4().hex[:8]}")


def queue_depths() -> dict[str, int]:
    return {name: get_queue(name).count for name in QUEUES}


def queue_position(queue_name: str, rq_id: str) -> int | None:
    """1-based place of a waiting job in its RQ queue; None when it is not waiting there."""
    if queue_name not in QUEUES or not rq_id:
        return None
    position = get_queue(queue_name).get_job_position(rq_id)
    return None if position is None else position + 1
