"""A workspace's approval workflow as stored (ApprovalWorkflow) and changed from the settings page or the API.

A workspace that never set one reviews with DEFAULT_STAGES (one stage, one approval from an owner, admin or
approver) under version 0, so nothing goes live unreviewed by default; a team that wants no review saves an
empty list (then a submitted version is approved as sent). Saving bumps the version: every review running
under the old one is invalidated, and its author told to send it again.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from app.errors import Conflict, ValidationFailed
from app.models import ApprovalWorkflow, Membership, Template, TemplateVersion, Workspace, utcnow
from app.services import audit, notifications
from app.services.auth.accounts import UserPublic
from app.services.templates import approvals
from app.services.workspaces import permissions
from app.services.workspaces.members import authorize

DEFAULT_STAGES = (approvals.Stage(name="Review", needed=1),)
# Roles a stage may name: those the matrix lets review (an editor named in a stage could never approve).
STAGE_ROLES = tuple(r for r in permissions.ROLES if permissions.allowed(r, "approvals.review"))


def workflow_of(*, session: Session, workspace_id: int, lock: bool = False) -> approvals.Workflow:
    """The workflow reviews in this workspace follow now. `lock` holds the workspace row (PostgreSQL) so a
    submit and a workflow change cannot cross: one sees the other's result."""
    if lock:
        session.exec(select(Workspace.id).where(Workspace.id == workspace_id).with_for_update(read=True)).first()
    row = session.get(ApprovalWorkflow, workspace_id)
    if row is None:
        return approvals.Workflow(version=0, stages=DEFAULT_STAGES)
    return approvals.Workflow(version=row.version, stages=tuple(stage_of(s) for s in row.stages))


def stage_of(data: dict) -> approvals.Stage:
    return approvals.Stage(name=str(data.get("name", "")), needed=int(data.get("needed", 1)),
                           roles=frozenset(data.get("roles") or ()), members=frozenset(data.get("members") or ()))


def stage_dict(stage: approvals.Stage) -> dict:
    return {"name": stage.name, "needed": stage.needed, "roles": sorted(stage.roles), "members": sorted(stage.members)}


def get_workflow(*, session: Session, actor: UserPublic, workspace_id: int) -> dict:
    authorize(session=session, actor=actor, workspace_id=workspace_id, action="work.read")
    workflow = workflow_of(session=session, workspace_id=workspace_id)
    return {"workspace_id": workspace_id, "version": workflow.version,
            "stages": [stage_dict(s) for s in workflow.stages]}


def _clean_stages(session: Session, workspace_id: int, stages: list[dict]) -> list[approvals.Stage]:
    if not isinstance(stages, list) or len(stages) > approvals.MAX_STAGES:
        raise ValidationFailed(f"Give a list of at most {approvals.MAX_STAGES} stages.", code="workflow_invalid")
    reviewers = {m.user_id for m in session.exec(select(Membership).where(
        Membership.workspace_id == workspace_id, col(Membership.role).in_(STAGE_ROLES))).all()}
    out = []
    for n, data in enumerate(stages, start=1):
        if not isinstance(data, dict):
            raise ValidationFailed(f"Stage {n} must be an object.", code="workflow_invalid")
        roles = data.get("roles") or []
        members = data.get("members") or []
        if not isinstance(roles, list) or any(r not in STAGE_ROLES for r in roles):
            raise ValidationFailed(f"Stage {n}: roles may be {', '.join(STAGE_ROLES)}.", code="workflow_invalid")
        if not isinstance(members, list) or len(members) > 50:
            raise ValidationFailed(f"Stage {n}: name at most 50 people.", code="workflow_invalid")
        for user_id in members:
            # Someone outside the workspace answers like someone unknown: the form offers its reviewers only.
            if not isinstance(user_id, int) or user_id not in reviewers:
                raise ValidationFailed(f"Stage {n}: person {str(user_id)[:20]} is not a reviewer (owner, admin "
                                       "or approver) of this workspace.", code="workflow_invalid")
        needed = data.get("needed", 1)
        if not isinstance(needed, int) or isinstance(needed, bool):
            raise ValidationFailed(f"Stage {n}: 'needed' must be a whole number.", code="workflow_invalid")
        out.append(approvals.Stage(name=" ".join(str(data.get("name", ""))[:200].split()), needed=needed,
                                   roles=frozenset(roles), members=frozenset(members)))
    try:
        approvals.check_workflow(out)
    except approvals.ReviewError as exc:
        raise ValidationFailed(exc.message, code=exc.code) from exc
    return out


def set_workflow(*, session: Session, actor: UserPublic, workspace_id: int, stages: list[dict],
                 expected_version: int | None = None, ip: str = "") -> dict:
    """Replace the stages; running reviews are invalidated (their authors are told). `expected_version` is the
    version the editor started from: another admin's save in between answers 409 instead of being overwritten."""
    authorize(session=session, actor=actor, workspace_id=workspace_id, action="approvals.manage")
    cleaned = _clean_stages(session, workspace_id, stages)
    # Exclusive on the workspace row: a submit in flight (which holds it shared) finishes first or waits.
    session.exec(select(Workspace.id).where(Workspace.id == workspace_id).with_for_update()).first()
    row = session.exec(select(ApprovalWorkflow).where(ApprovalWorkflow.workspace_id == workspace_id)
                       .with_for_update().execution_options(populate_existing=True)).first()
    current = row.version if row is not None else 0
    if expected_version is not None and expected_version != current:
        raise Conflict("Someone changed the approval workflow meanwhile: reload it and apply your change again.",
                       code="workflow_conflict")
    row = row or ApprovalWorkflow(workspace_id=workspace_id, version=0)
    row.version = current + 1
    row.stages = [stage_dict(s) for s in cleaned]
    row.updated_by, row.updated_at = actor.id, utcnow()
    session.add(row)
    invalidated = _invalidate(session, workspace_id, row.version)
    audit.record(session=session, action="approval_workflow.changed", actor_id=actor.id, ip=ip,
                 target=f"workspace:{workspace_id}",
                 detail=f"version {row.version}: " + " → ".join(s.name for s in cleaned)[:400]
                        + f"; {len(invalidated)} review(s) invalidated")
    session.flush()
    return {"workspace_id": workspace_id, "version": row.version, "stages": row.stages,
            "invalidated": len(invalidated)}


def _invalidate(session: Session, workspace_id: int, version: int) -> list[TemplateVersion]:
    from app import routes

    joined = select(TemplateVersion, Template).join(Template, col(Template.id) == TemplateVersion.template_id)
    rows = session.exec(joined
                        .where(Template.workspace_id == workspace_id, TemplateVersion.status == approvals.IN_REVIEW)
                        .with_for_update(of=TemplateVersion)).all()
    out = []
    for tv, template in rows:
        review = approvals.Review(template_version=tv.number, author_id=tv.author_id or 0,
                                  workflow_version=tv.workflow_version, status=tv.status)
        after = approvals.workflow_changed(review, approvals.Workflow(version=version, stages=()))
        if after.status != approvals.INVALIDATED:
            continue
        tv.status, tv.reason, tv.decided_at, tv.updated_at = after.status, after.reason, utcnow(), utcnow()
        session.add(tv)
        out.append(tv)
        audit.record(session=session, action="template.review_invalidated", target=f"template:{template.id} "
                     f"version:{tv.number}", detail=after.reason)
        if tv.author_id:
            notifications.notify(session=session, user_ids=[tv.author_id], workspace_id=workspace_id,
                                 kind="review_invalidated", title=f"Send “{template.name}” v{tv.number} again",
                                 body="The approval workflow changed during its review: send it for review again.",
                                 link=routes.template_version_url(template.id, tv.number))
    return out
