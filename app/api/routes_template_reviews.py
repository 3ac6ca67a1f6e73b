"""/api/v1/templates/{id}/reviews, …/comments, …/activate; /api/v1/reviews (the inbox);
/api/v1/workspaces/{id}/approval-workflow; /api/v1/me/notifications.

A decision carries what the decider saw (the version number in the path, its revision and stage in the body):
anything that moved meanwhile answers 409 `stale_decision`. The author cannot approve their own version (403
`self_approval` / `not_reviewer`). A template of another workspace answers 404.
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from app.api.deps import CallerDep, client_ip, requires
from app.api.ids import IdPath
from app.api.review_schemas import (
    Activate,
    CommentIn,
    CommentList,
    CommentOut,
    Decision,
    Inbox,
    Marked,
    MarkRead,
    NotificationList,
    Rejection,
    ReviewState,
    Submit,
    WorkflowIn,
    WorkflowOut,
)
from app.api.routes_workspaces import in_workspace
from app.db import read_scope, session_scope
from app.services import notifications
from app.services.templates import approval_workflow, comments, reviews

router = APIRouter(tags=["reviews"])
NumberPath = IdPath


def _state(caller: CallerDep, template_id: int, number: int | None = None) -> ReviewState:
    with read_scope() as session:
        return ReviewState(**reviews.review_state(session=session, actor=caller.user, template_id=template_id,
                                                  number=number))


@router.get("/templates/{template_id}/reviews", response_model=ReviewState, dependencies=[requires("work.read")])
def review_state(template_id: IdPath, caller: CallerDep,
                 number: int | None = Query(default=None, ge=1, le=1_000_000)) -> ReviewState:
    """Where the review of a version (the latest by default) stands, and what the caller may do."""
    return _state(caller, template_id, number)


@router.post("/templates/{template_id}/reviews", response_model=ReviewState,
             dependencies=[requires("templates.write")])
def submit(template_id: IdPath, body: Submit, caller: CallerDep, request: Request) -> ReviewState:
    """Send the latest version for review (its blocking checks must pass)."""
    reviews.check_and_submit(actor=caller.user, template_id=template_id, number=body.number,
                             revision=body.revision, ip=client_ip(request))
    return _state(caller, template_id, body.number)


@router.post("/templates/{template_id}/reviews/{number}/approve", response_model=ReviewState,
             dependencies=[requires("approvals.review")])
def approve(template_id: IdPath, number: NumberPath, body: Decision, caller: CallerDep,
            request: Request) -> ReviewState:
    with session_scope() as session:
        reviews.approve(session=session, actor=caller.user, template_id=template_id, number=number,
                        revision=body.revision, stage=body.stage, ip=client_ip(request))
    return _state(caller, template_id, number)


@router.post("/templates/{template_id}/reviews/{number}/reject", response_model=ReviewState,
             dependencies=[requires("approvals.review")])
def reject(template_id: IdPath, number: NumberPath, body: Rejection, caller: CallerDep,
           request: Request) -> ReviewState:
    with session_scope() as session:
        reviews.reject(session=session, actor=caller.user, template_id=template_id, number=number,
                       revision=body.revision, stage=body.stage, reason=body.reason, ip=client_ip(request))
    return _state(caller, template_id, number)


@router.post("/templates/{template_id}/activate", response_model=ReviewState,
             dependencies=[requires("templates.write")])
def activate(template_id: IdPath, body: Activate, caller: CallerDep, request: Request) -> ReviewState:
    """Make an approved version the active one (a rollback to an earlier one)."""
    with session_scope() as session:
        reviews.activate(session=session, actor=caller.user, template_id=template_id, number=body.number,
                         ip=client_ip(request))
    return _state(caller, template_id, body.number)


@router.get("/templates/{template_id}/comments", response_model=CommentList, dependencies=[requires("work.read")])
def list_comments(template_id: IdPath, caller: CallerDep,
                  number: int | None = Query(default=None, ge=1, le=1_000_000)) -> CommentList:
    """The threads of one version (the latest by default)."""
    with read_scope() as session:
        threads = comments.list_comments(session=session, actor=caller.user, template_id=template_id,
                                         number=number)
    return CommentList(comments=threads)


@router.post("/templates/{template_id}/comments", status_code=201, response_model=CommentOut,
             dependencies=[requires("templates.comment")])
def add_comment(template_id: IdPath, body: CommentIn, caller: CallerDep, request: Request) -> CommentOut:
    with session_scope() as session:
        row = comments.add_comment(session=session, actor=caller.user, template_id=template_id, number=body.number,
                                   body=body.body, parent_id=body.parent_id, ip=client_ip(request))
        row_id = row.id
    with read_scope() as session:
        threads = comments.list_comments(session=session, actor=caller.user, template_id=template_id,
                                         number=body.number)
    flat = [c for t in threads for c in (t, *t["replies"])]
    return CommentOut(**next(c for c in flat if c["id"] == row_id))


@router.get("/reviews", response_model=Inbox, dependencies=[requires("approvals.review")])
def inbox(caller: CallerDep) -> Inbox:
    """Versions of the caller's workspace waiting for their approval."""
    with read_scope() as session:
        return Inbox(items=reviews.inbox(session=session, actor=caller.user))


@router.get("/workspaces/{workspace_id}/approval-workflow", response_model=WorkflowOut,
            dependencies=[in_workspace("work.read")])
def get_workflow(workspace_id: IdPath, caller: CallerDep) -> WorkflowOut:
    with read_scope() as session:
        return WorkflowOut(**approval_workflow.get_workflow(session=session, actor=caller.user,
                                                            workspace_id=workspace_id))


@router.put("/workspaces/{workspace_id}/approval-workflow", response_model=WorkflowOut,
            dependencies=[in_workspace("approvals.manage")])
def set_workflow(workspace_id: IdPath, body: WorkflowIn, caller: CallerDep, request: Request) -> WorkflowOut:
    """Replace the stages; reviews running under the old workflow are invalidated and their authors told."""
    with session_scope() as session:
        saved = approval_workflow.set_workflow(
            session=session, actor=caller.user, workspace_id=workspace_id,
            stages=[s.model_dump() for s in body.stages], expected_version=body.version, ip=client_ip(request))
    return WorkflowOut(**saved)


@router.get("/me/notifications", response_model=NotificationList, tags=["account"],
            dependencies=[requires("account.read")])
def list_notifications(caller: CallerDep, unread: bool = False,
                       limit: int = Query(default=30, ge=1, le=notifications.MAX_LIST)) -> NotificationList:
    with read_scope() as session:
        rows = notifications.list_for(session=session, actor=caller.user, unread_only=unread, limit=limit)
        count = notifications.unread_count(session=session, actor=caller.user)
        return NotificationList(unread=count, notifications=[r.model_dump() for r in rows])


@router.post("/me/notifications/read", response_model=Marked, tags=["account"],
             dependencies=[requires("account.read")])
def mark_read(body: MarkRead, caller: CallerDep) -> Marked:
    """Mark the caller's notices read (all of them without `ids`). Reading one's own notices is a read."""
    with session_scope() as session:
        return Marked(marked=notifications.mark_read(session=session, actor=caller.user, ids=body.ids))
