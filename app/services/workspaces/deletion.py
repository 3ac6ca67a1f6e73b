"""Deleting a team workspace with everything it owns: rows in every work table, then its files.

Order: one transaction removes the rows, children before parents (the foreign keys hold at every step),
with the workspace row locked so no job can be submitted into it meanwhile; the files go only after that
commit. A crash in between leaves files nobody points at (harmless, and listed in the log), never a row
pointing at a file that is gone.

Queued or running jobs refuse the delete (409 `workspace_busy`) rather than being canceled here: a running
job stops only between items and would write results into rows and files being deleted. The owner cancels
them (or waits) and deletes again.
"""

from __future__ import annotations

import logging

from sqlalchemy import delete, or_, update
from sqlmodel import Session, col, select

from app.db import session_scope
from app.errors import Conflict, ValidationFailed
from app.models import (
    ApiToken,
    ApprovalWorkflow,
    Asset,
    AssetTag,
    AuthSession,
    Collection,
    CollectionAsset,
    CreditAccount,
    CreditEntry,
    Deck,
    DeckVersion,
    Generation,
    GenerationImage,
    ImageLink,
    Invitation,
    Job,
    JobStatus,
    Membership,
    Notification,
    Recipe,
    RenameBatch,
    RenameItem,
    ReplacedInvitationLink,
    Template,
    TemplateApproval,
    TemplateComment,
    TemplateSample,
    TemplateVersion,
    WorkflowItem,
    WorkflowRun,
    Workspace,
    utcnow,
)
from app.services import audit
from app.services.auth.accounts import UserPublic
from app.services.templates.public_images import rendition_key
from app.services.workspaces.members import authorize
from app.storage import get_storage

log = logging.getLogger(__name__)

ACTIVE_JOB_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)


def _ids(session: Session, column, *where) -> list[int]:
    return list(session.exec(select(column).where(*where)).all())


def _delete_rows(session: Session, workspace_id: int) -> tuple[list[str], dict[str, int]]:
    """Delete every row the workspace owns; returns (storage keys to remove, rows deleted per table)."""
    counts: dict[str, int] = {}

    def gone(table, *where) -> None:
        counts[table.__tablename__] = counts.get(table.__tablename__, 0) + (
            session.execute(delete(table).where(*where)).rowcount or 0)

    assets = _ids(session, Asset.id, Asset.workspace_id == workspace_id)
    keys = [k for row in session.exec(select(Asset.storage_key, Asset.thumb_key)
                                      .where(Asset.workspace_id == workspace_id)).all() for k in row if k]
    storage = get_storage()
    keys += [key for k in session.exec(select(Asset.storage_key).where(Asset.workspace_id == workspace_id)).all()
             if storage.exists(key := rendition_key(workspace_id=workspace_id, storage_key=k))]  # emails' pictures
    keys += [k for k in session.exec(select(Deck.brand_kit_key).where(Deck.workspace_id == workspace_id)).all() if k]
    batches = _ids(session, RenameBatch.id, RenameBatch.workspace_id == workspace_id)
    runs = _ids(session, WorkflowRun.id, WorkflowRun.workspace_id == workspace_id)
    decks = _ids(session, Deck.id, Deck.workspace_id == workspace_id)
    generations = _ids(session, Generation.id, Generation.workspace_id == workspace_id)
    collections = _ids(session, Collection.id, Collection.workspace_id == workspace_id)

    # What points at assets and parents first.
    gone(AssetTag, col(AssetTag.asset_id).in_(assets))
    gone(CollectionAsset, or_(col(CollectionAsset.asset_id).in_(assets),
                              col(CollectionAsset.collection_id).in_(collections)))
    gone(GenerationImage, or_(GenerationImage.workspace_id == workspace_id, col(GenerationImage.asset_id).in_(assets),
                              col(GenerationImage.generation_id).in_(generations)))
    gone(RenameItem, or_(col(RenameItem.batch_id).in_(batches), col(RenameItem.asset_id).in_(assets)))
    gone(RenameBatch, RenameBatch.workspace_id == workspace_id)
    gone(WorkflowItem, col(WorkflowItem.run_id).in_(runs))
    gone(WorkflowRun, WorkflowRun.workspace_id == workspace_id)
    gone(Recipe, Recipe.workspace_id == workspace_id)
    _delete_templates(session, workspace_id, gone, keys)
    gone(DeckVersion, col(DeckVersion.deck_id).in_(decks))
    gone(Deck, Deck.workspace_id == workspace_id)
    gone(Generation, Generation.workspace_id == workspace_id)
    # Nested collections: children point at parents in the same workspace.
    session.execute(update(Collection).where(Collection.workspace_id == workspace_id).values(parent_id=None))
    gone(Collection, Collection.workspace_id == workspace_id)
    gone(Asset, Asset.workspace_id == workspace_id)
    gone(CreditEntry, CreditEntry.workspace_id == workspace_id)
    gone(CreditAccount, CreditAccount.workspace_id == workspace_id)
    gone(Job, Job.workspace_id == workspace_id)
    gone(ReplacedInvitationLink, ReplacedInvitationLink.workspace_id == workspace_id)
    gone(Invitation, Invitation.workspace_id == workspace_id)
    # Credentials that acted there: tokens are revoked (kept for the user's list), sessions go home.
    session.execute(update(ApiToken).where(col(ApiToken.workspace_id) == workspace_id,
                                           col(ApiToken.revoked_at).is_(None)).values(revoked_at=utcnow()))
    session.execute(update(AuthSession).where(col(AuthSession.workspace_id) == workspace_id).values(workspace_id=None))
    gone(Membership, Membership.workspace_id == workspace_id)
    gone(Workspace, Workspace.id == workspace_id)
    return keys, counts


def _delete_templates(session: Session, workspace_id: int, gone, keys: list[str]) -> None:
    """Templates with their versions, approvals, comments (replies before what they answer) and sample sets,
    the approval workflow and the workspace's notifications; thumbnails join the files to remove."""
    templates = _ids(session, Template.id, Template.workspace_id == workspace_id)
    versions = _ids(session, TemplateVersion.id, col(TemplateVersion.template_id).in_(templates))
    keys += [k for k in session.exec(select(Template.thumbnail_key).where(Template.workspace_id == workspace_id)
                                     ).all() if k]
    gone(ImageLink, ImageLink.workspace_id == workspace_id)
    gone(TemplateApproval, col(TemplateApproval.version_id).in_(versions))
    session.execute(update(TemplateComment).where(col(TemplateComment.template_id).in_(templates))
                    .values(parent_id=None))
    gone(TemplateComment, col(TemplateComment.template_id).in_(templates))
    gone(TemplateSample, col(TemplateSample.template_id).in_(templates))
    gone(TemplateVersion, col(TemplateVersion.template_id).in_(templates))
    gone(Template, Template.workspace_id == workspace_id)
    gone(ApprovalWorkflow, ApprovalWorkflow.workspace_id == workspace_id)
    gone(Notification, Notification.workspace_id == workspace_id)


def delete_workspace(*, actor: UserPublic, workspace_id: int, confirm_name: str, ip: str = "") -> dict:
    """Delete a team workspace (owner only) after a confirmation that repeats its name exactly.

    Returns {"name", "rows": {table: count}, "files_deleted", "files_failed"}. The moderation log keeps its
    entries (an admin record, not the team's work).
    """
    with session_scope() as session:
        workspace, _ = authorize(session=session, actor=actor, workspace_id=workspace_id, action="workspace.delete")
        if workspace.kind == "personal":
            raise Conflict("A personal workspace cannot be deleted.", code="personal_workspace")
        if (confirm_name or "").strip() != workspace.name:
            raise ValidationFailed("Type the workspace's name exactly to confirm deleting it.",
                                   code="confirmation_mismatch")
        # Lock the row: submitting a job into the workspace (a foreign key to it) waits for this transaction.
        session.exec(select(Workspace).where(Workspace.id == workspace_id).with_for_update()).one()
        busy = session.exec(select(Job.id).where(Job.workspace_id == workspace_id,
                                                 col(Job.status).in_(ACTIVE_JOB_STATUSES))).all()
        if busy:
            raise Conflict(f"{len(busy)} job{'s' * (len(busy) != 1)} of this workspace "
                           f"{'are' if len(busy) != 1 else 'is'} still queued or running; cancel "
                           f"{'them' if len(busy) != 1 else 'it'} or wait, then delete again.",
                           code="workspace_busy", details={"job_ids": list(busy)[:50]})
        name = workspace.name
        keys, counts = _delete_rows(session, workspace_id)
        audit.record(session=session, action="workspace.deleted", actor_id=actor.id, target=f"workspace:{workspace_id}",
                     ip=ip, detail=f"{name}: {sum(counts.values())} rows, {len(keys)} files")
    storage = get_storage()
    deleted = failed = 0
    for key in dict.fromkeys(keys):
        try:
            storage.delete(key)
            deleted += 1
        except Exception:  # an orphan file is harmless; the rows are already gone
            failed += 1
            log.exception("workspace %s deleted, but its file %s could not be removed", workspace_id, key)
    return {"name": name, "rows": counts, "files_deleted": deleted, "files_failed": failed}
