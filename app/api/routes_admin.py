"""/api/v1/admin: user management (admin role only)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, Request

from app import queue
from app.api.deps import AdminDep, client_ip
from app.api.ids import IdPath
from app.api.schemas import (
    AdminJobPage,
    AuditList,
    CreditAdjust,
    CreditAdjusted,
    JobOut,
    Outcome,
    PendingList,
    UserOut,
    UserPage,
    UserPatch,
)
from app.db import session_scope
from app.services import audit, credits, jobs
from app.services.auth import accounts

router = APIRouter(prefix="/admin", tags=["admin"])


@router.get("/users", response_model=UserPage)
def list_users(caller: AdminDep, q: str = Query("", max_length=100),
               limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0)) -> UserPage:
    with session_scope() as session:
        users, total = accounts.search_users(session=session, query=q, limit=limit, offset=offset)
    return UserPage(users=[UserOut(**u.__dict__) for u in users], total=total)


@router.get("/users/pending", response_model=PendingList)
def pending_users(caller: AdminDep) -> PendingList:
    """Accounts waiting for approval (SIGNUP_APPROVAL), oldest first."""
    with session_scope() as session:
        return PendingList(users=[UserOut(**u.__dict__) for u in accounts.list_pending(session=session)])


@router.post("/users/{user_id}/approve", response_model=UserOut)
def approve_user(user_id: IdPath, caller: AdminDep, request: Request) -> UserOut:
    with session_scope() as session:
        user = accounts.approve_user(session=session, actor_id=caller.user.id, user_id=user_id, ip=client_ip(request))
    return UserOut(**user.__dict__)


@router.post("/users/{user_id}/reject", response_model=UserOut)
def reject_user(user_id: IdPath, caller: AdminDep, request: Request) -> UserOut:
    """Turn a pending account away: it is disabled (an admin may enable it later)."""
    with session_scope() as session:
        user = accounts.reject_user(session=session, actor_id=caller.user.id, user_id=user_id, ip=client_ip(request))
    return UserOut(**user.__dict__)


@router.patch("/users/{user_id}", response_model=UserOut)
def patch_user(user_id: IdPath, body: UserPatch, caller: AdminDep, request: Request) -> UserOut:
    ip = client_ip(request)
    with session_scope() as session:
        user = accounts.UserPublic.of(accounts.get_user(session=session, user_id=user_id))
        if body.role is not None:
            user = accounts.set_role(session=session, actor_id=caller.user.id, user_id=user_id,
                                     role=body.role, ip=ip)
        if body.is_active is not None:
            user = accounts.set_active(session=session, actor_id=caller.user.id, user_id=user_id,
                                       active=body.is_active, ip=ip)
    return UserOut(**user.__dict__)


@router.post("/credits", tags=["credits"], response_model=CreditAdjusted)
def adjust_credits(body: CreditAdjust, caller: AdminDep, request: Request) -> dict:
    """Grant (positive) or correct (negative) a user's credits, with a reason for the ledger."""
    with session_scope() as session:
        # A user's credits are their personal workspace's.
        personal = accounts.get_user(session=session, user_id=body.user_id).personal_workspace_id
        credits.adjust(session=session, actor_id=caller.user.id, workspace_id=personal, amount=body.amount,
                       reason=body.reason, reference=body.reference or f"admin:{uuid.uuid4()}")
        balance, held = credits.balance(session=session, workspace_id=personal)
    return {"user_id": body.user_id, "balance": balance, "held": held}


@router.get("/jobs", tags=["jobs"], response_model=AdminJobPage)
def all_jobs(caller: AdminDep, status: str = Query("", max_length=16), kind: str = Query("", max_length=64),
             limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0)) -> dict:
    with session_scope() as session:
        rows, total = jobs.list_jobs(session=session, status=status, kind=kind, limit=limit, offset=offset)
        return {"jobs": [jobs.public(j) | {"workspace_id": j.workspace_id} for j in rows], "total": total,
                "queues": queue.queue_depths()}


@router.post("/jobs/{job_id}/retry", tags=["jobs"], response_model=JobOut)
def retry_job(job_id: str, caller: AdminDep, request: Request) -> dict:
    new = jobs.retry(job_id=job_id[:36])
    with session_scope() as session:
        audit.record(session=session, action="admin.job_retry", actor_id=caller.user.id, target=job_id,
                     ip=client_ip(request), detail=f"new job {new.id}")
    return jobs.public(new)


@router.post("/jobs/{job_id}/cancel", tags=["jobs"], response_model=Outcome)
def cancel_any_job(job_id: str, caller: AdminDep, request: Request) -> dict:
    outcome = jobs.cancel(job_id=job_id[:36], workspace_id=None)
    with session_scope() as session:
        audit.record(session=session, action="admin.job_cancel", actor_id=caller.user.id, target=job_id,
                     ip=client_ip(request), detail=outcome)
    return {"outcome": outcome}


@router.get("/audit", tags=["admin"], response_model=AuditList)
def audit_log(caller: AdminDep, limit: int = Query(100, ge=1, le=500)) -> dict:
    with session_scope() as session:
        return {"events": [{"id": e.id, "at": e.at.isoformat(), "actor_id": e.actor_id, "action": e.action,
                            "target": e.target, "ip": e.ip, "detail": e.detail}
                           for e in audit.recent(session=session, limit=limit)]}
