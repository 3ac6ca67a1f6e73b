"""/api/v1/admin: style presets, the moderation denylist and the moderation log (admin role only)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response

from app.api.deps import AdminDep, client_ip
from app.api.ids import IdPath
from app.api.images_schemas import StyleList, StyleOut
from app.api.schemas import ModerationEventPage, TermList, TermOut
from app.db import session_scope
from app.services import audit
from app.services.generation import styles
from app.services.generation.styles import StyleInput
from app.services.moderation import policy as content_policy
from app.services.moderation.policy import TermInput

router = APIRouter(prefix="/admin", tags=["admin"])


@router.get("/styles", response_model=StyleList)
def list_styles(caller: AdminDep) -> dict:
    with session_scope() as session:
        return {"styles": [styles.public(s) for s in styles.list_styles(session=session, active_only=False)]}


@router.post("/styles", status_code=201, response_model=StyleOut)
def create_style(body: StyleInput, caller: AdminDep, request: Request) -> dict:
    with session_scope() as session:
        style = styles.save_style(session=session, data=body)
        audit.record(session=session, action="style.save", actor_id=caller.user.id, target=body.key,
                     ip=client_ip(request))
        return styles.public(style)


@router.put("/styles/{key}", response_model=StyleOut)
def update_style(key: str, body: StyleInput, caller: AdminDep, request: Request) -> dict:
    with session_scope() as session:
        style = styles.save_style(session=session, data=body, key=key[:40])
        audit.record(session=session, action="style.save", actor_id=caller.user.id, target=body.key,
                     ip=client_ip(request))
        return styles.public(style)


@router.delete("/styles/{key}", status_code=204)
def delete_style(key: str, caller: AdminDep, request: Request) -> Response:
    with session_scope() as session:
        styles.delete_style(session=session, key=key[:40])
        audit.record(session=session, action="style.delete", actor_id=caller.user.id, target=key[:40],
                     ip=client_ip(request))
    return Response(status_code=204)


@router.get("/moderation/denylist", response_model=TermList)
def list_terms(caller: AdminDep, q: str = Query("", max_length=100)) -> dict:
    with session_scope() as session:
        return {"terms": [content_policy.term_public(t) for t in content_policy.list_terms(session=session, query=q)]}


@router.post("/moderation/denylist", status_code=201, response_model=TermOut)
def add_term(body: TermInput, caller: AdminDep, request: Request) -> dict:
    with session_scope() as session:
        term = content_policy.add_term(session=session, data=body, actor_id=caller.user.id)
        audit.record(session=session, action="denylist.add", actor_id=caller.user.id,
                     target=f"{body.kind}:{body.category}", ip=client_ip(request))
        return content_policy.term_public(term)


@router.delete("/moderation/denylist/{term_id}", status_code=204)
def delete_term(term_id: IdPath, caller: AdminDep, request: Request) -> Response:
    with session_scope() as session:
        term = content_policy.delete_term(session=session, term_id=term_id)
        audit.record(session=session, action="denylist.delete", actor_id=caller.user.id,
                     target=f"{term.kind}:{term.category}", ip=client_ip(request))
    return Response(status_code=204)


@router.get("/moderation/events", response_model=ModerationEventPage)
def moderation_events(caller: AdminDep, decision: str = Query("all", pattern="^(all|allowed|refused)$"),
                      limit: int = Query(100, ge=1, le=500), offset: int = Query(0, ge=0)) -> dict:
    allowed = {"all": None, "allowed": True, "refused": False}[decision]
    with session_scope() as session:
        rows, total = content_policy.list_events(session=session, allowed=allowed, limit=limit, offset=offset)
        return {"events": [content_policy.event_public(e) for e in rows], "total": total}
