"""Reviews of template versions as stored: submit, approve, reject, activate (rollback), the inbox.

The decisions are app.services.templates.approvals' (a pure machine); this module loads a version into an
approvals.Review, asks the machine, and stores the answer so that its promises hold with many people
clicking at once:
- the template row, then the version row, are locked (SELECT … FOR UPDATE on PostgreSQL; SQLite takes its one
  write lock at BEGIN) and re-read, so two approvers of the last approval are served one after the other;
- the approval row is unique per (version, stage, person): an approval is never counted twice;
- the version moves by a conditional UPDATE (status, stage and revision as seen), so a decision taken on what
  has changed meanwhile answers 409 instead of moving it;
- the decider sends the number and revision (and stage) they saw: any difference is a stale decision, 409;
- only an approved version becomes active.
"""

from __future__ import annotations

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import routes
from app.db import read_scope, session_scope
from app.errors import Conflict, Forbidden, NotFound
from app.models import Membership, Template, TemplateApproval, TemplateVersion, User, utcnow
from app.services import audit, notifications
from app.services.auth.accounts import UserPublic
from app.services.templates import approvals, image_links
from app.services.templates.approval_workflow import stage_dict, workflow_of
from app.services.workspaces import permissions
from app.services.workspaces.members import authorize

# Refusals that are about who asks (403), the rest are about the state of the review (409).
_FORBIDDEN = {"self_approval", "not_reviewer"}


def load_template(*, session: Session, actor: UserPublic, template_id: int, action: str,
                  lock: bool = False) -> tuple[Template, str]:
    """The template of the actor's workspace and their role, when the matrix allows `action`. A template of
    another workspace answers 404 like one that does not exist."""
    query = select(Template).where(Template.id == template_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    template = session.exec(query).first()
    if template is None or template.workspace_id != actor.workspace_id:
        raise NotFound("No such template.", code="template_not_found")
    _, role = authorize(session=session, actor=actor, workspace_id=template.workspace_id, action=action)
    return template, role


def load_version(*, session: Session, template: Template, number: int, lock: bool = False) -> TemplateVersion:
    query = select(TemplateVersion).where(TemplateVersion.template_id == template.id,
                                          TemplateVersion.number == number)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    version = session.exec(query).first()
    if version is None:
        raise NotFound(f"Version {number} of this template does not exist.", code="version_not_found")
    return version


def review_of(*, session: Session, version: TemplateVersion, stages: int) -> approvals.Review:
    rows = session.exec(select(TemplateApproval).where(TemplateApproval.version_id == version.id)).all()
    count = max(stages, version.stage + 1)
    return approvals.Review(
        template_version=version.number, author_id=version.author_id or 0, workflow_version=version.workflow_version,
        status=version.status, revision=version.revision, stage=version.stage, reason=version.reason,
        approvals=tuple(frozenset(r.user_id for r in rows if r.stage == i) for i in range(count)))


def _decide(fn, *args, **kwargs) -> approvals.Review:
    try:
        return fn(*args, **kwargs)
    except approvals.ReviewError as exc:
        cls = Forbidden if exc.code in _FORBIDDEN else Conflict
        raise cls(exc.message, code=exc.code) from exc


def _move(session: Session, version: TemplateVersion, before: approvals.Review, after: approvals.Review) -> None:
    """Store the machine's answer only if the row is still what the decision was taken on."""
    values = {"status": after.status, "stage": after.stage, "reason": after.reason, "updated_at": utcnow()}
    if after.status != approvals.IN_REVIEW:
        values["decided_at"] = utcnow()
    moved = session.execute(update(TemplateVersion).where(
        col(TemplateVersion.id) == version.id, col(TemplateVersion.status) == before.status,
        col(TemplateVersion.stage) == before.stage, col(TemplateVersion.revision) == before.revision,
    ).values(**values)).rowcount
    if moved != 1:
        raise Conflict("The version changed since you opened it: review the current one.", code="stale_decision")
    session.refresh(version)


def _target(template: Template, number: int) -> str:
    return f"template:{template.id} version:{number}"


def eligible_reviewers(*, session: Session, workspace_id: int, stage: approvals.Stage, author_id: int) -> list[int]:
    """Members who may approve `stage` (the matrix's approvals.review and the stage's roles or names)."""
    rows = session.exec(select(Membership).where(Membership.workspace_id == workspace_id)).all()
    return sorted(m.user_id for m in rows if m.user_id != author_id and permissions.allowed(m.role, "approvals.review")
                  and stage.eligible(m.user_id, m.role))


def _assign(session: Session, template: Template, version: TemplateVersion, stage: approvals.Stage) -> None:
    who = eligible_reviewers(session=session, workspace_id=template.workspace_id, stage=stage,
                             author_id=version.author_id or 0)
    notifications.notify(session=session, user_ids=who, workspace_id=template.workspace_id, kind="review_assigned",
                         title=f"Review “{template.name}” v{version.number} ({stage.name})",
                         body=f"Version {version.number} of “{template.name}” waits for the {stage.name} stage.",
                         link=routes.template_version_url(template.id, version.number))


def _decided(session: Session, template: Template, version: TemplateVersion, actor: UserPublic, text: str) -> None:
    if version.author_id:
        notifications.notify(session=session, user_ids=[version.author_id], workspace_id=template.workspace_id,
                             kind="review_decided", title=f"“{template.name}” v{version.number} {text}",
                             body=version.reason or f"Version {version.number} of “{template.name}” {text}.",
                             link=routes.template_version_url(template.id, version.number), skip=actor.id)


def blocking_failures(version: TemplateVersion) -> list[str]:
    """Labels of the automatic checks that stop a review (none stored: none run yet)."""
    return [str(c.get("label") or c.get("key")) for c in version.checks or []
            if isinstance(c, dict) and c.get("blocking", True) and not c.get("ok", False)]


def submit(*, session: Session, actor: UserPublic, template_id: int, number: int, revision: int,
           ip: str = "") -> TemplateVersion:
    """Send the latest version for review under the workspace's workflow (no stages: approved as sent)."""
    template, _ = load_template(session=session, actor=actor, template_id=template_id, action="templates.write",
                                lock=True)
    if template.archived_at is not None:
        raise Conflict("This template is archived: unarchive it first.", code="template_archived")
    version = load_version(session=session, template=template, number=number, lock=True)
    if version.revision != revision:
        raise Conflict("The version changed since you opened it: reload it first.", code="stale_decision")
    if number != template.latest_number:
        raise Conflict(f"Only the latest version (v{template.latest_number}) can be sent for review.",
                       code="not_latest")
    if version.status not in (approvals.DRAFT, approvals.INVALIDATED):
        raise Conflict(f"This version is {version.status.replace('_', ' ')}: save a new version to send it again.",
                       code="not_draft")
    if version.checks is None:
        raise Conflict("The automatic checks have not run on this version yet: run them first.",
                       code="checks_not_run")
    failing = blocking_failures(version)
    if failing:
        raise Conflict("Fix the failing checks first: " + "; ".join(failing)[:300], code="checks_failed")
    workflow = workflow_of(session=session, workspace_id=template.workspace_id, lock=True)
    review = approvals.start(workflow=workflow, template_version=number, author_id=version.author_id or 0)
    # A version sent again (after the workflow changed) starts with no approvals.
    session.execute(delete(TemplateApproval).where(col(TemplateApproval.version_id) == version.id))
    version.status, version.stage, version.reason = review.status, 0, ""
    version.workflow_version, version.submitted_at, version.updated_at = workflow.version, utcnow(), utcnow()
    version.decided_at = utcnow() if review.status == approvals.APPROVED else None
    session.add(version)
    audit.record(session=session, action="template.review_submitted", actor_id=actor.id, ip=ip,
                 target=_target(template, number), detail=f"workflow version {workflow.version}")
    if review.status == approvals.APPROVED:
        _went_live(session, template, version, actor, ip)
    else:
        _assign(session, template, version, workflow.stages[0])
    session.flush()
    return version


def check_and_submit(*, actor: UserPublic, template_id: int, number: int, revision: int,
                     ip: str = "") -> None:
    """Submit, running the checklist first when it never ran on this version (or an edit cleared it). The checks
    run outside any transaction (the moderation service may call out and opens its own), then submit re-reads."""
    from app.services.templates import checks_service

    with read_scope() as session:
        template, _ = load_template(session=session, actor=actor, template_id=template_id, action="templates.write")
        unchecked = load_version(session=session, template=template, number=number).checks is None
    if unchecked:
        checks_service.run_checks(actor=actor, template_id=template_id, number=number)
    with session_scope() as session:
        submit(session=session, actor=actor, template_id=template_id, number=number, revision=revision, ip=ip)


def _open_decision(session: Session, actor: UserPublic, template_id: int, number: int, stage: int | None):
    """The template and version locked for a reviewer's decision, the workflow and where the review stands
    (refused when the stage the decider saw is not the current one)."""
    template, role = load_template(session=session, actor=actor, template_id=template_id,
                                   action="approvals.review", lock=True)
    version = load_version(session=session, template=template, number=number, lock=True)
    workflow = workflow_of(session=session, workspace_id=template.workspace_id)
    before = review_of(session=session, version=version, stages=len(workflow.stages))
    _same_stage(before, stage)
    return template, role, version, workflow, before


def approve(*, session: Session, actor: UserPublic, template_id: int, number: int, revision: int,
            stage: int | None = None, ip: str = "") -> TemplateVersion:
    """One approval of the current stage by an eligible reviewer who is not the author."""
    template, role, version, workflow, before = _open_decision(session, actor, template_id, number, stage)
    after = _decide(approvals.approve, before, workflow=workflow, actor_id=actor.id, actor_role=role,
                    template_version=number, revision=revision)
    session.add(TemplateApproval(version_id=version.id, stage=before.stage, user_id=actor.id,
                                 revision=version.revision))
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict("You already approved this stage.", code="already_approved") from exc
    _move(session, version, before, after)
    name = workflow.stages[before.stage].name
    audit.record(session=session, action="template.review_approved", actor_id=actor.id, ip=ip,
                 target=_target(template, number),
                 detail=f"stage {before.stage + 1} {name}: {len(after.approvals[before.stage])}"
                        f"/{workflow.stages[before.stage].needed}")
    if after.status == approvals.APPROVED:
        _decided(session, template, version, actor, "was approved")
        _went_live(session, template, version, actor, ip)
    elif after.stage != before.stage:
        _assign(session, template, version, workflow.stages[after.stage])
    session.flush()
    return version


def reject(*, session: Session, actor: UserPublic, template_id: int, number: int, revision: int, reason: str,
           stage: int | None = None, ip: str = "") -> TemplateVersion:
    """A reviewer of the current stage sends the version back, saying why (the author is told)."""
    template, role, version, workflow, before = _open_decision(session, actor, template_id, number, stage)
    after = _decide(approvals.reject, before, workflow=workflow, actor_id=actor.id, actor_role=role,
                    template_version=number, revision=revision, reason=str(reason or "")[:4000])
    _move(session, version, before, after)
    audit.record(session=session, action="template.review_rejected", actor_id=actor.id, ip=ip,
                 target=_target(template, number), detail=after.reason)
    _decided(session, template, version, actor, "was sent back")
    session.flush()
    return version


def _same_stage(review: approvals.Review, stage: int | None) -> None:
    # The stage the decider saw: an approval meant for Copy must not land on Legal because Copy passed meanwhile.
    if stage is not None and review.status == approvals.IN_REVIEW and stage != review.stage:
        raise Conflict("The review moved to another stage since you opened it: review the current one.",
                       code="stale_decision")


def _went_live(session: Session, template: Template, version: TemplateVersion, actor: UserPublic, ip: str) -> None:
    """An approved version becomes active unless a newer approved one already is."""
    if template.active_version_id is not None:
        active = session.get(TemplateVersion, template.active_version_id)
        if active is not None and active.number > version.number:
            return
    _set_active(session, template, version, actor, ip, "approved")


def _set_active(session: Session, template: Template, version: TemplateVersion, actor: UserPublic, ip: str,
                why: str) -> None:
    if version.status != approvals.APPROVED:  # the one promise every path to active_version_id keeps
        raise Conflict(f"Version {version.number} is not approved: only an approved version goes live.",
                       code="not_approved")
    previous = session.get(TemplateVersion, template.active_version_id) if template.active_version_id else None
    template.active_version_id, template.updated_at = version.id, utcnow()
    session.add(template)
    image_links.publish_active(session=session, actor_id=actor.id, template=template, version=version)
    audit.record(session=session, action="template.activated", actor_id=actor.id, ip=ip,
                 target=_target(template, version.number),
                 detail=f"{why}; was v{previous.number}" if previous else why)


def activate(*, session: Session, actor: UserPublic, template_id: int, number: int, ip: str = "") -> Template:
    """Make an approved version the active one (a rollback to an earlier one, or forward again)."""
    template, _ = load_template(session=session, actor=actor, template_id=template_id, action="templates.write",
                                lock=True)
    version = load_version(session=session, template=template, number=number, lock=True)
    stored = {version.number: approvals.Review(template_version=version.number, author_id=version.author_id or 0,
                                               workflow_version=version.workflow_version, status=version.status)}
    _decide(approvals.activate, stored, number)
    if template.active_version_id == version.id:
        return template
    _set_active(session, template, version, actor, ip, "rollback")
    session.flush()
    return template


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {u.id: (u.name or u.email) for u in session.exec(select(User).where(col(User.id).in_(ids))).all()}


def review_state(*, session: Session, actor: UserPublic, template_id: int, number: int | None = None) -> dict:
    """Everything the review panel shows of one version (the latest by default) and what the actor may do."""
    template, role = load_template(session=session, actor=actor, template_id=template_id, action="work.read")
    number = template.latest_number if number is None else number
    version = load_version(session=session, template=template, number=number) if number else None
    workflow = workflow_of(session=session, workspace_id=template.workspace_id)
    versions = session.exec(select(TemplateVersion).where(TemplateVersion.template_id == template.id)
                            .order_by(col(TemplateVersion.number).desc())).all()
    active = next((v.number for v in versions if v.id == template.active_version_id), None)
    out = {"template_id": template.id, "name": template.name, "active_number": active,
           "approved_numbers": [v.number for v in versions if v.status == approvals.APPROVED],
           "workflow_version": workflow.version, "version": None, "stages": [], "can": []}
    if version is None:
        return out
    review = review_of(session=session, version=version, stages=len(workflow.stages))
    live = version.status == approvals.IN_REVIEW and version.workflow_version == workflow.version
    names = _names(session, {u for s in review.approvals for u in s} | {version.author_id or 0})
    stages = []
    # Stages show for a draft (what it will go through) and for a review under the current workflow, running or
    # ended (how far it got, who approved); a review under an older workflow shows none of today's.
    shown = version.status == approvals.DRAFT or (version.workflow_version == workflow.version and version.status
                                                   in (approvals.IN_REVIEW, approvals.APPROVED, approvals.REJECTED))
    for i, stage in enumerate(workflow.stages if shown else ()):
        done = review.approvals[i] if i < len(review.approvals) else frozenset()
        state = "done" if (version.status == approvals.APPROVED or i < review.stage) else \
            "current" if (live and i == review.stage) else "waiting"
        stages.append({**stage_dict(stage), "index": i, "approved_by": sorted(names.get(u, "?") for u in done),
                       "count": len(done), "state": state})
    can = []
    if live and actor.id != version.author_id and permissions.allowed(role, "approvals.review"):
        stage = workflow.stages[review.stage]
        if stage.eligible(actor.id, role):
            can.append("reject")
            if actor.id not in review.approvals[review.stage]:
                can.append("approve")
    if (permissions.allowed(role, "templates.write") and version.number == template.latest_number
            and version.status in (approvals.DRAFT, approvals.INVALIDATED)):
        can.append("submit")
    out.update(stages=stages, can=can, version={
        "number": version.number, "revision": version.revision, "status": version.status,
        "stage": version.stage, "reason": version.reason, "author_id": version.author_id,
        "author": names.get(version.author_id or 0, ""), "submitted_at": version.submitted_at,
        "decided_at": version.decided_at, "blocking": blocking_failures(version),
        "stale_workflow": version.status == approvals.IN_REVIEW and not live})
    return out


def inbox(*, session: Session, actor: UserPublic, limit: int = 100) -> list[dict]:
    """Versions of the actor's workspace waiting for them: in review, at a stage they may approve, not yet
    approved by them, not their own."""
    authorize(session=session, actor=actor, workspace_id=actor.workspace_id, action="approvals.review")
    role = actor.workspace_role
    workflow = workflow_of(session=session, workspace_id=actor.workspace_id)
    joined = select(TemplateVersion, Template).join(Template, col(Template.id) == TemplateVersion.template_id)
    rows = session.exec(joined
                        .where(Template.workspace_id == actor.workspace_id,
                               TemplateVersion.status == approvals.IN_REVIEW,
                               TemplateVersion.workflow_version == workflow.version)
                        .order_by(col(TemplateVersion.submitted_at)).limit(500)).all()
    out = []
    for version, template in rows:
        if version.author_id == actor.id or version.stage >= len(workflow.stages):
            continue
        stage = workflow.stages[version.stage]
        if not stage.eligible(actor.id, role):
            continue
        review = review_of(session=session, version=version, stages=len(workflow.stages))
        if actor.id in review.approvals[version.stage]:
            continue
        out.append({"template_id": template.id, "name": template.name, "kind": template.kind,
                    "number": version.number, "revision": version.revision, "stage": version.stage,
                    "stage_name": stage.name, "approvals": len(review.approvals[version.stage]),
                    "needed": stage.needed, "author_id": version.author_id, "submitted_at": version.submitted_at,
                    "link": routes.template_version_url(template.id, version.number)})
        if len(out) >= limit:
            break
    authors = _names(session, {r["author_id"] for r in out if r["author_id"]})
    for row in out:
        row["author"] = authors.get(row["author_id"] or 0, "")
    return out


def content_edited(*, session: Session, version: TemplateVersion) -> None:
    """The content of a version in review was replaced (versions.save_version): the current stage starts over,
    earlier stages stand, the revision moves so decisions taken on the old content are stale."""
    if version.status != approvals.IN_REVIEW:
        return
    session.execute(delete(TemplateApproval).where(col(TemplateApproval.version_id) == version.id,
                                                   col(TemplateApproval.stage) == version.stage))
    version.revision += 1
    version.updated_at = utcnow()
    session.add(version)
