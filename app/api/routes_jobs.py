"""/api/v1/jobs and /api/v1/credits: the caller's jobs, their live events, and the balance."""

from __future__ import annotations

import asyncio
import json

import redis.asyncio as aioredis
from fastapi import APIRouter, Query, Request
from sse_starlette.sse import EventSourceResponse

from app.api.deps import CallerDep, in_thread_pool, optional_caller, requires
from app.api.schemas import CreditsOut, JobCancelOut, JobOut, JobPage
from app.db import read_scope, session_scope
from app.errors import AppError
from app.services import credits, jobs
from app.settings import get_settings

router = APIRouter(tags=["jobs"])

# How often an open event stream re-checks the credentials that opened it (it also checks
# before every event), so a revoked token or an ended session stops the stream within seconds.
RECHECK_SECONDS = 5.0
REVOKED_EVENT = {"event": "error", "data": json.dumps({"error": {
    "code": "credentials_revoked", "message": "Your sign-in or API token is no longer valid."}})}


def _still_allowed(request: Request, workspace_id: int) -> bool:
    try:
        caller = optional_caller(request)
    except AppError:
        return False
    return caller is not None and caller.user.workspace_id == workspace_id


@router.get("/jobs", response_model=JobPage, dependencies=[requires("work.read")])
@in_thread_pool
def list_jobs(caller: CallerDep, status: str = Query("", max_length=16), kind: str = Query("", max_length=64),
              limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0)) -> dict:
    with read_scope() as session:
        rows, total = jobs.list_jobs(session=session, workspace_id=caller.user.workspace_id, status=status, kind=kind,
                                     limit=limit, offset=offset)
        return {"jobs": [jobs.public(j) for j in rows], "total": total, "limit": limit, "offset": offset}


@router.get("/jobs/{job_id}", response_model=JobOut, dependencies=[requires("work.read")])
def get_job(job_id: str, caller: CallerDep) -> dict:
    with read_scope() as session:
        return jobs.public(jobs.get_job(session=session, job_id=job_id[:36], workspace_id=caller.user.workspace_id))


def _read(job_id: str, workspace_id: int) -> dict:
    with read_scope() as session:
        return jobs.public(jobs.get_job(session=session, job_id=job_id, workspace_id=workspace_id))


@router.get("/jobs/{job_id}/events", dependencies=[requires("work.read")], response_class=EventSourceResponse,
            responses={200: {"description": "`job` events whose data is a JobOut; an `error` event when the "
                                            "credentials that opened the stream end.",
                             "content": {"text/event-stream": {"schema": {"type": "string"}}}}})
async def job_events(job_id: str, caller: CallerDep, request: Request) -> EventSourceResponse:
    """Server-Sent Events: the current state first, then every change, until the job ends."""
    job_id = job_id[:36]
    await asyncio.to_thread(_read, job_id, caller.user.workspace_id)  # a 404 before the stream opens

    async def stream():
        client = aioredis.from_url(get_settings().redis_db_url(0))
        pubsub = client.pubsub()
        # Subscribe before re-reading the row, so no change can fall between the two.
        await pubsub.subscribe(jobs.job_channel(job_id))
        try:
            state = await asyncio.to_thread(_read, job_id, caller.user.workspace_id)
            yield {"event": "job", "data": json.dumps(state)}
            while state["status"] not in jobs.TERMINAL:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=RECHECK_SECONDS)
                if not await asyncio.to_thread(_still_allowed, request, caller.user.workspace_id):
                    yield REVOKED_EVENT
                    return
                if message is None:
                    # Quiet: re-read the row (covers a missed message) and keep the stream alive.
                    latest = await asyncio.to_thread(_read, job_id, caller.user.workspace_id)
                    if latest != state:
                        state = latest
                        yield {"event": "job", "data": json.dumps(state)}
                    continue
                state = json.loads(message["data"])
                yield {"event": "job", "data": json.dumps(state)}
        finally:
            await pubsub.unsubscribe()
            await pubsub.aclose()
            await client.aclose()

    return EventSourceResponse(stream(), ping=15)


@router.post("/jobs/{job_id}/cancel", response_model=JobCancelOut, dependencies=[requires("jobs.cancel")])
def cancel_job(job_id: str, caller: CallerDep) -> dict:
    outcome = jobs.cancel(job_id=job_id[:36], workspace_id=caller.user.workspace_id)
    message = ("The job had not started; it was removed from the queue." if outcome == "removed"
               else "The job is running; it stops after the current item.")
    return {"outcome": outcome, "message": message, "job": _read(job_id[:36], caller.user.workspace_id)}


@router.get("/credits", tags=["credits"], response_model=CreditsOut, dependencies=[requires("credits.read")])
def get_credits(caller: CallerDep, limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0)) -> dict:
    with session_scope() as session:
        balance, held = credits.balance(session=session, workspace_id=caller.user.workspace_id)
        rows, total = credits.history(session=session, workspace_id=caller.user.workspace_id, limit=limit,
                                      offset=offset)
        return {"balance": balance, "held": held, "total": total, "history": [
            {"id": r.id, "kind": r.kind, "amount": r.amount, "reference": r.reference, "job_id": r.job_id,
             "reason": r.reason, "created_at": r.created_at.isoformat()} for r in rows]}
