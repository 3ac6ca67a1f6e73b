"""/api/v1/admin: user management (admin role only)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from app.api.deps import AdminDep, client_ip
from app.api.schemas import UserOut, UserPage, UserPatch
from app.db import session_scope
from app.services import accounts

router = APIRouter(prefix="/admin", tags=["admin"])


@router.get("/users", response_model=UserPage)
def list_users(caller: AdminDep, q: str = Query("", max_length=100),
               limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0)) -> UserPage:
    with session_scope() as session:
        users, total = accounts.search_users(session=session, query=q, limit=limit, offset=offset)
    return UserPage(users=[UserOut(**u.__dict__) for u in users], total=total)


@router.patch("/users/{user_id}", response_model=UserOut)
def patch_user(user_id: int, body: UserPatch, caller: AdminDep, request: Request) -> UserOut:
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
