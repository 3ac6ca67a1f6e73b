"""The reaper's second half: rows left in a transient state with no live job behind them.

A job that died (its worker was killed and the orphan reaper failed it, Redis lost it, a process stopped
between two writes) can leave its domain rows "processing", "queued", "running" or "analyzing" for ever.
Each pass finds them and finishes them (thumbnails queued again) or fails them with a reason; each row's
change is one transaction. The decisions are pure functions (tested directly); the rest reads and writes.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from rq.exceptions import NoSuchJobError
from rq.job import Job as RQJob
from sqlmodel import Session, col, select

from app import queue
from app.db import session_scope
from app.models import (
    Asset,
    AssetStatus,
    Deck,
    Generation,
    Job,
    JobStatus,
    OutboxEmail,
    OutboxStatus,
    RenameBatch,
    RenameBatchStatus,
    RenameItem,
    RenameItemStatus,
    WorkflowItem,
    WorkflowRun,
    utcnow,
)
from app.redis_client import get_redis
from app.services import jobs
from app.services.assets import service as assets
from app.services.slides import runs as deck_runs
from app.services.slides.store import BUSY
from app.services.workflows import runs as workflow_runs

log = logging.getLogger(__name__)

# A row this young may still be waiting for the job its creator is about to queue.
GRACE = timedelta(minutes=5)
# A job still "queued" this long after it was created, with nothing in Redis behind it, is given up.
GIVE_UP = timedelta(hours=6)
LOST = jobs.LOST
LIVE = (JobStatus.QUEUED, JobStatus.RUNNING)


# --- pure decisions ------------------------------------------------------------------------------------


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite hands back naive UTC


def queued_job_verdict(*, rq_status: str | None, age: timedelta, grace: timedelta = GRACE,
                       give_up: timedelta = GIVE_UP) -> str:
    """A job row "queued": "wait" while RQ holds it, else "requeue" (Redis lost it) or "fail" (too old)."""
    if age < grace or rq_status in ("queued", "scheduled", "deferred", "started"):
        return "wait"
    return "fail" if age >= give_up else "requeue"


def parent_verdict(*, job_status: str | None, age: timedelta, grace: timedelta = GRACE) -> str:
    """A domain row in a transient state: "wait" while its job is live (or it is young), else "settle"."""
    if job_status in LIVE or age < grace:
        return "wait"
    return "settle"


def settle_reason(job: Job | None) -> tuple[str, str]:
    """(status for the unfinished parts, reason) from the job that stopped: canceled stays canceled."""
    if job is not None and job.status == JobStatus.CANCELED:
        return "canceled", "Canceled"
    if job is not None and job.error:
        return "failed", f"{LOST}: {job.error}"[:500]
    return "failed", f"{LOST}."


def asset_verdict(*, job_statuses: Iterable[str], age: timedelta, grace: timedelta = GRACE) -> str:
    """An asset "processing": "wait" (a live job covers it, or it is young), "fail" (its thumbnail job
    ended for good without it: doing it again would likely end the same way), else "queue" (no job ever)."""
    statuses = list(job_statuses)
    if age < grace or any(s in LIVE for s in statuses):
        return "wait"
    return "fail" if any(s in (JobStatus.FAILED, JobStatus.CANCELED) for s in statuses) else "queue"


# --- passes --------------------------------------------------------------------------------------------


def _rq_status(rq_id: str) -> str | None:
    try:
        return RQJob.fetch(rq_id, connection=get_redis()).get_status(refresh=True)
    except NoSuchJobError:
        return None


def requeue_lost_jobs(*, grace: timedelta = GRACE) -> list[str]:
    """Job rows "queued" with nothing in Redis behind them (Redis restarted empty, the enqueue never
    happened): queued again under a new attempt id, or failed once too old."""
    now, handled = utcnow(), []
    with session_scope() as session:
        queued = [(j.id, j.kind, j.rq_id, now - _aware(j.created_at)) for j in
                  session.exec(select(Job).where(Job.status == JobStatus.QUEUED, Job.updated_at < now - grace)).all()]
    for job_id, kind, rq_id, age in queued:
        verdict = queued_job_verdict(rq_status=_rq_status(rq_id), age=age, grace=grace)
        try:
            if verdict == "requeue" and kind in queue.KINDS:
                new_rq_id = f"{job_id}-{uuid.uuid4().hex[:8]}"
                jobs.reattempt(job_id, rq_id=rq_id, new_rq_id=new_rq_id, message="Queued again: the queue had lost it")
                queue.enqueue_job(kind=kind, job_id=job_id, rq_id=new_rq_id)
            elif verdict != "wait":
                jobs.fail(job_id, "The job was lost before a worker started it.", rq_id=rq_id, lost=True)
            else:
                continue
            handled.append(job_id)
        except jobs.StaleAttempt:
            continue  # it moved meanwhile
    return handled


def _job_of(session: Session, job_id: str) -> Job | None:
    return session.get(Job, job_id) if job_id else None


def _live_targets(session: Session, kind: str, key: str) -> set[int]:
    """Rows a live job of `kind` works on (by its params), even before the row points at that job: a
    retry commits its rows first, then queues the job, then writes the job's id."""
    live = session.exec(select(Job.params).where(Job.kind == kind, col(Job.status).in_(LIVE))).all()
    return {(p or {}).get(key) for p in live} - {None}


def settle_workflow_runs(*, grace: timedelta = GRACE) -> list[int]:
    """Runs "queued"/"running" whose job ended or vanished, and unfinished items of finished runs."""
    now, settled = utcnow(), []
    with session_scope() as session:
        open_runs = session.exec(select(WorkflowRun).where(col(WorkflowRun.status).in_(LIVE))).all()
        busy = _live_targets(session, "workflows.run", "run_id")
        candidates = [r.id for r in open_runs if r.id not in busy and parent_verdict(
            job_status=getattr(_job_of(session, r.job_id), "status", None), age=now - _aware(r.created_at),
            grace=grace) == "settle"]
        stranded = session.exec(select(WorkflowItem.run_id).join(WorkflowRun, col(WorkflowRun.id) ==
                                                                  col(WorkflowItem.run_id))
                                .where(col(WorkflowItem.status).in_(LIVE),
                                       col(WorkflowRun.status).in_(workflow_runs.TERMINAL))).all()
        stranded = [run_id for run_id in stranded if run_id not in busy]
    for run_id in dict.fromkeys([*candidates, *stranded]):
        with session_scope() as session:  # items and run together, so nobody sees half of it
            run = session.get(WorkflowRun, run_id)
            job = _job_of(session, run.job_id)
            if run.status in LIVE and job is not None and job.status in LIVE:
                continue  # queued again since the look-up
            status, reason = settle_reason(job)
            items = workflow_runs.items_of(session=session, run_id=run_id)
            for item in items:
                if item.status in LIVE:
                    item.status, item.error, item.finished_at = status, reason, utcnow()
                    session.add(item)
            if run.status in LIVE:
                run.status = workflow_runs.final_status(workflow_runs.counts(items))
                run.finished_at = utcnow()
                session.add(run)
        workflow_runs.queue_thumbnails(run_id=run_id)  # what the dead job stored still gets its thumbnail
        settled.append(run_id)
    return settled


def settle_rename_batches(*, grace: timedelta = GRACE) -> list[int]:
    """Batches "analyzing" whose job ended or vanished: pending rows fail with the reason; the batch is
    ready when some rows were described, else failed (or canceled)."""
    now, settled = utcnow(), []
    with session_scope() as session:
        pending = select(RenameItem.batch_id).where(RenameItem.status == RenameItemStatus.PENDING)
        busy = _live_targets(session, "rename.analyze", "batch_id")
        for batch in session.exec(select(RenameBatch).where(
                (RenameBatch.status == RenameBatchStatus.ANALYZING) | col(RenameBatch.id).in_(pending))).all():
            if batch.id in busy:
                continue
            job = _job_of(session, batch.job_id)
            job_status = job.status if job is not None else None
            if parent_verdict(job_status=job_status, age=now - _aware(batch.created_at), grace=grace) == "wait":
                continue
            if batch.status not in (RenameBatchStatus.ANALYZING, RenameBatchStatus.READY):
                continue  # failed or canceled already: its rows say so
            status, reason = settle_reason(job)
            items = session.exec(select(RenameItem).where(RenameItem.batch_id == batch.id)).all()
            for item in items:
                if item.status == RenameItemStatus.PENDING:
                    item.status, item.error = RenameItemStatus.FAILED, reason
                    session.add(item)
            if batch.status == RenameBatchStatus.ANALYZING:  # a ready batch whose regenerated row died stays ready
                # Rows described (or a job that named them, then died before saying "ready"): usable.
                described = any(i.status == RenameItemStatus.DONE for i in items)
                usable = job_status == JobStatus.SUCCEEDED or (described and status != RenameBatchStatus.CANCELED)
                batch.status = RenameBatchStatus.READY if usable else status
                session.add(batch)
            settled.append(batch.id)
    return settled


def settle_generations(*, grace: timedelta = GRACE) -> list[int]:
    now, settled = utcnow(), []
    with session_scope() as session:
        for generation in session.exec(select(Generation).where(col(Generation.status).in_(LIVE))).all():
            job = _job_of(session, generation.job_id)
            if parent_verdict(job_status=getattr(job, "status", None), age=now - _aware(generation.created_at),
                              grace=grace) == "wait":
                continue
            generation.status, generation.error = settle_reason(job)
            generation.finished_at = utcnow()
            session.add(generation)
            settled.append(generation.id)
    return settled


def settle_decks() -> list[int]:
    """Decks left busy: deck_runs.heal decides (it knows which slides were half-way)."""
    with session_scope() as session:
        busy = session.exec(select(Deck.id).where(col(Deck.status).in_(BUSY))).all()
    return [deck_id for deck_id in busy if deck_runs.heal(deck_id=deck_id)]


def settle_assets(*, grace: timedelta = GRACE) -> dict[str, list[int]]:
    """Assets "processing" with no live thumbnail job: queued again, or failed when their job failed."""
    now = utcnow()
    with session_scope() as session:
        waiting = session.exec(select(Asset).where(Asset.status == AssetStatus.PROCESSING,
                                                   Asset.created_at < now - grace)).all()
        if not waiting:
            return {"queued": [], "failed": []}
        oldest = min(_aware(a.created_at) for a in waiting)
        covering: dict[int, list[Job]] = {}
        for job in session.exec(select(Job).where(Job.kind == "assets.process", Job.created_at >= oldest)).all():
            if job.status not in LIVE and not job.attempts:
                continue  # never ran (its enqueue failed): says nothing about the image
            for asset_id in (job.params or {}).get("asset_ids", []):
                covering.setdefault(asset_id, []).append(job)
        plan = {a.id: (a.workspace_id, asset_verdict(job_statuses=[j.status for j in covering.get(a.id, [])],
                                                  age=now - _aware(a.created_at), grace=grace),
                       next((j.error for j in covering.get(a.id, []) if j.status == JobStatus.FAILED), ""))
                for a in waiting}
    failed = [i for i, (_, verdict, _) in plan.items() if verdict == "fail"]
    for asset_id in failed:
        cause = plan[asset_id][2].partition(": ")[2] or plan[asset_id][2] or "its job stopped"
        assets.fail_unfinished(asset_ids=[asset_id], reason=f"Could not make a thumbnail: {cause}")
    by_owner: dict[int, list[int]] = {}
    for asset_id, (workspace_id, verdict, _) in plan.items():
        if verdict == "queue":
            by_owner.setdefault(workspace_id, []).append(asset_id)
    for workspace_id, ids in by_owner.items():
        assets.submit_processing(workspace_id=workspace_id, asset_ids=ids)
    return {"queued": [i for ids in by_owner.values() for i in ids], "failed": failed}


def settle_outbox(*, grace: timedelta = GRACE) -> list[int]:
    """Emails "pending" with no delivery job in Redis (its enqueue failed, or Redis lost it): queued again
    (delivery skips a sent message), or failed once too old."""
    now, handled = utcnow(), []
    with session_scope() as session:
        pending = [(m.id, now - _aware(m.created_at)) for m in session.exec(
            select(OutboxEmail).where(OutboxEmail.status == OutboxStatus.PENDING,
                                      OutboxEmail.created_at < now - grace)).all()]
    for outbox_id, age in pending:
        verdict = queued_job_verdict(rq_status=_rq_status(f"email-{outbox_id}"), age=age, grace=grace)
        if verdict == "requeue":
            queue.enqueue_email_delivery(outbox_id)
        elif verdict == "fail":
            with session_scope() as session:
                row = session.get(OutboxEmail, outbox_id)
                row.status, row.error = OutboxStatus.FAILED, "Never sent: its delivery job was lost."
                session.add(row)
        else:
            continue
        handled.append(outbox_id)
    return handled


def reap_stuck(*, grace: timedelta = GRACE) -> dict[str, list]:
    """One pass over every table with a transient status; returns what it touched, by table."""
    done = {"jobs": requeue_lost_jobs(grace=grace), "workflow_runs": settle_workflow_runs(grace=grace),
            "rename_batches": settle_rename_batches(grace=grace), "generations": settle_generations(grace=grace),
            "decks": settle_decks(), "outbox": settle_outbox(grace=grace)}
    done.update({f"assets_{what}": ids for what, ids in settle_assets(grace=grace).items()})
    if any(done.values()):
        log.warning("reaper settled rows with no live job: %s", done)
    return done
