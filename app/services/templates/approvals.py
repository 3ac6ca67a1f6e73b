"""Approval of template versions: one pure state machine (no database, no clock, no I/O).

A workspace's approval workflow is a list of ordered stages (e.g. Copy → Design → Legal); each needs
`needed` approvals from people who hold one of the stage's roles or are named in it. A version under review
moves through the stages in order and ends approved; a rejection sends it back to draft with the reason;
an edit during review clears the current stage's approvals; a change of the workflow invalidates reviews
started under the old one. The service stores what these functions return; the promises (no
self-approval, no approval counted twice, a stale decision never moves a newer version, the active version
is always an approved one) are proved here by property tests (tests/unit/test_template_approvals.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from app.models import TemplateVersionStatus

# The version statuses by their short names (the review code reads them as approvals.IN_REVIEW…).
DRAFT, IN_REVIEW, APPROVED, REJECTED, INVALIDATED = (
    TemplateVersionStatus.DRAFT, TemplateVersionStatus.IN_REVIEW, TemplateVersionStatus.APPROVED,
    TemplateVersionStatus.REJECTED, TemplateVersionStatus.INVALIDATED)
# Roles that may review when a stage names none (the matrix's `approvals.review`).
REVIEW_ROLES = frozenset({"owner", "admin", "approver"})
MAX_STAGES, MAX_NEEDED = 10, 20


class ReviewError(Exception):
    """A decision the review cannot take; `code` is stable for the API and the page."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class Stage:
    name: str
    needed: int = 1
    roles: frozenset[str] = frozenset()  # any member holding one of these roles…
    members: frozenset[int] = frozenset()  # …or any of these people

    def eligible(self, user_id: int, role: str) -> bool:
        if not self.roles and not self.members:
            return role in REVIEW_ROLES
        return role in self.roles or user_id in self.members


@dataclass(frozen=True)
class Workflow:
    version: int  # bumped on every change: a review started under another version is invalid
    stages: tuple[Stage, ...]


@dataclass(frozen=True)
class Review:
    """Where one template version stands. `revision` counts edits to the version's content during review."""

    template_version: int
    author_id: int
    workflow_version: int
    status: str = IN_REVIEW
    revision: int = 0
    stage: int = 0
    approvals: tuple[frozenset[int], ...] = ()  # who approved, per stage
    reason: str = ""  # why it was rejected or invalidated


def check_workflow(stages: list[Stage]) -> tuple[Stage, ...]:
    """The stages as given, or ReviewError naming what is wrong."""
    if len(stages) > MAX_STAGES:
        raise ReviewError("workflow_invalid", f"At most {MAX_STAGES} stages.")
    names = set()
    for n, stage in enumerate(stages, start=1):
        name = " ".join(stage.name.split())
        if not name or len(name) > 60:
            raise ReviewError("workflow_invalid", f"Stage {n} needs a name of 1–60 characters.")
        if name.lower() in names:
            raise ReviewError("workflow_invalid", f"Two stages are called “{name}”.")
        names.add(name.lower())
        if not 1 <= stage.needed <= MAX_NEEDED:
            raise ReviewError("workflow_invalid", f"Stage “{name}” must need 1–{MAX_NEEDED} approvals.")
        if stage.members and stage.needed > len(stage.members) and not stage.roles:
            raise ReviewError("workflow_invalid",
                              f"Stage “{name}” needs {stage.needed} approvals but names {len(stage.members)} people.")
    return tuple(stages)


def start(*, workflow: Workflow, template_version: int, author_id: int) -> Review:
    """Send a version to review. With no stages there is nobody to ask: it is approved as sent."""
    if not workflow.stages:
        return Review(template_version=template_version, author_id=author_id,
                      workflow_version=workflow.version, status=APPROVED)
    return Review(template_version=template_version, author_id=author_id, workflow_version=workflow.version,
                  approvals=tuple(frozenset() for _ in workflow.stages))


def _live(review: Review, workflow: Workflow, template_version: int, revision: int) -> None:
    """Refuse a decision on a review that is not the one the decider saw, or not open."""
    if review.status != IN_REVIEW:
        raise ReviewError("review_closed", f"This version is {review.status.replace('_', ' ')}, not in review.")
    if workflow.version != review.workflow_version:
        raise ReviewError("workflow_changed", "The approval workflow changed: this review must be sent again.")
    if template_version != review.template_version or revision != review.revision:
        raise ReviewError("stale_decision", "The version changed since you opened it: review the current one.")


def approve(review: Review, *, workflow: Workflow, actor_id: int, actor_role: str, template_version: int,
            revision: int) -> Review:
    """One approval for the current stage; the stage is done at `needed`, the version at the last stage."""
    _live(review, workflow, template_version, revision)
    stage = workflow.stages[review.stage]
    if actor_id == review.author_id:
        raise ReviewError("self_approval", "You cannot approve your own version.")
    if not stage.eligible(actor_id, actor_role):
        raise ReviewError("not_reviewer", f"You are not a reviewer of the “{stage.name}” stage.")
    done = review.approvals[review.stage]
    if actor_id in done:
        raise ReviewError("already_approved", f"You already approved the “{stage.name}” stage.")
    approvals = list(review.approvals)
    approvals[review.stage] = done | {actor_id}
    if len(approvals[review.stage]) < stage.needed:
        return replace(review, approvals=tuple(approvals))
    if review.stage + 1 == len(workflow.stages):
        return replace(review, approvals=tuple(approvals), status=APPROVED)
    return replace(review, approvals=tuple(approvals), stage=review.stage + 1)


def reject(review: Review, *, workflow: Workflow, actor_id: int, actor_role: str, template_version: int,
           revision: int, reason: str) -> Review:
    """A reviewer of the current stage sends the version back to draft, saying why."""
    _live(review, workflow, template_version, revision)
    stage = workflow.stages[review.stage]
    if not stage.eligible(actor_id, actor_role) or actor_id == review.author_id:
        raise ReviewError("not_reviewer", f"You are not a reviewer of the “{stage.name}” stage.")
    reason = " ".join(reason.split())
    if not reason:
        raise ReviewError("reason_required", "Say why: a rejection needs a reason.")
    return replace(review, status=REJECTED, reason=reason[:1000])


def edited(review: Review) -> Review:
    """The version's content changed during review: the current stage starts over; earlier stages stand."""
    if review.status != IN_REVIEW:
        return review
    approvals = list(review.approvals)
    approvals[review.stage] = frozenset()
    return replace(review, approvals=tuple(approvals), revision=review.revision + 1)


def workflow_changed(review: Review, workflow: Workflow) -> Review:
    """A review under another version of the workflow cannot go on: it is invalidated, to be sent again."""
    if review.status == IN_REVIEW and review.workflow_version != workflow.version:
        return replace(review, status=INVALIDATED, reason="The approval workflow changed during the review.")
    return review


def activate(reviews: dict[int, Review], version: int) -> int:
    """The version to make active (a publish or a rollback): only an approved one."""
    review = reviews.get(version)
    if review is None or review.status != APPROVED:
        raise ReviewError("not_approved", f"Version {version} is not approved: only an approved version goes live.")
    return version


def latest_approved(reviews: dict[int, Review]) -> int | None:
    approved = [v for v, r in reviews.items() if r.status == APPROVED]
    return max(approved) if approved else None
