"""Versions of a template: save (the one rule below), list, read, and compare two versions' text.

Every save of a draft makes a NEW version (number = latest + 1) with its author, time and note. When the latest
version is in review, a save edits THAT version in place (revision + 1, the current stage's approvals cleared,
approvals.edited) so reviewers always approve exactly what goes out. Every save names the number and revision the
editor started from; a stale one is refused with 409 `edit_conflict` — nobody's edit is overwritten silently.
Approved, rejected and invalidated versions never change.
"""

from __future__ import annotations

import difflib
import json

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.errors import Conflict, NotFound, ValidationFailed
from app.models import Template, TemplateApproval, TemplateVersion, utcnow
from app.services import audit
from app.services.auth.accounts import UserPublic
from app.services.templates import approvals, library
from app.services.templates.content import check_content, content_hash

MAX_NOTE = 200
MAX_VERSIONS = 1000  # per template: an editor saving every minute for two working days
MAX_DIFF_LINES = 4000


def latest_version(*, session: Session, template: Template) -> TemplateVersion | None:
    if not template.latest_number:
        return None
    return session.exec(select(TemplateVersion).where(TemplateVersion.template_id == template.id,
                                                      TemplateVersion.number == template.latest_number)).first()


def _stale(template: Template, latest: TemplateVersion | None, base_number: int, base_revision: int) -> bool:
    if base_number != template.latest_number:
        return True
    return latest is not None and latest.status == approvals.IN_REVIEW and base_revision != latest.revision


def _conflict(template: Template, latest: TemplateVersion | None) -> Conflict:
    now = f"version {template.latest_number}" + (f" (revision {latest.revision})" if latest and latest.revision
                                                 else "")
    return Conflict(f"Someone saved this template since you opened it (it is now at {now}). Reload it and make "
                    "your change again.", code="edit_conflict",
                    details={"latest_number": template.latest_number,
                             "latest_revision": latest.revision if latest else 0})


def _check_brand_kit(template: Template, content: dict) -> None:
    if content.get("brand_kit_key"):
        from app.services.slides.files import describe_brand_kit

        describe_brand_kit(workspace_id=template.workspace_id, key=content["brand_kit_key"])


def save_version(*, session: Session, actor: UserPublic, template_id: int, content: dict, note: str = "",
                 base_number: int, base_revision: int = 0, skip_unchanged: bool = False) -> TemplateVersion:
    """Save the editor's content (the rule in this module's docstring). `base_number`/`base_revision`: the
    latest version the editor started from (0 for a template with no version yet)."""
    template = library.load(session=session, actor=actor, template_id=template_id, action="templates.write")
    library.not_archived(template)
    note = " ".join((note or "").split())
    if len(note) > MAX_NOTE:
        raise ValidationFailed(f"The note is {len(note)} characters; at most {MAX_NOTE}.",
                               code="template_note_too_long")
    checked = check_content(template.kind, content)
    _check_brand_kit(template, checked)
    latest = latest_version(session=session, template=template)
    if _stale(template, latest, base_number, base_revision):
        raise _conflict(template, latest)
    if skip_unchanged and latest is not None and latest.content_hash == content_hash(checked):
        # The editor's Save with nothing changed: another identical version would only clutter the history.
        raise Conflict(f"Nothing changed since version {latest.number}.", code="template_unchanged")
    now = utcnow()
    if latest is not None and latest.status == approvals.IN_REVIEW:
        return _edit_in_review(session=session, actor=actor, template=template, version=latest, content=checked,
                               note=note, now=now)
    if template.latest_number >= MAX_VERSIONS:
        raise Conflict(f"This template has {MAX_VERSIONS} versions; duplicate it to go on.",
                       code="template_too_many_versions")
    # Compare-and-set on the counter: of two saves from the same base, exactly one moves it.
    moved = session.execute(update(Template).where(col(Template.id) == template.id,
                                                col(Template.latest_number) == base_number)
                         .values(latest_number=base_number + 1, updated_at=now))
    if moved.rowcount != 1:
        session.refresh(template)
        raise _conflict(template, latest_version(session=session, template=template))
    version = TemplateVersion(template_id=template.id, number=base_number + 1, author_id=actor.id, note=note,
                              content=checked, content_hash=content_hash(checked), status=approvals.DRAFT,
                              created_at=now, updated_at=now)
    session.add(version)
    try:
        session.flush()
    except IntegrityError:  # the same number made by another transaction at the same instant
        session.rollback()
        raise _conflict(template, None) from None
    session.refresh(template)
    audit.record(session=session, action="template.version.save", actor_id=actor.id,
                 target=f"template:{template.id} version:{version.number}", detail=note)
    return version


def _edit_in_review(*, session: Session, actor: UserPublic, template: Template, version: TemplateVersion,
                    content: dict, note: str, now) -> TemplateVersion:
    """Replace the content of the version under review; the current stage's approvals start over."""
    review = approvals.edited(approvals.Review(template_version=version.number, author_id=version.author_id or 0,
                                               workflow_version=version.workflow_version, revision=version.revision,
                                               stage=version.stage,
                                               approvals=tuple(frozenset() for _ in range(version.stage + 1))))
    moved = session.execute(update(TemplateVersion).where(col(TemplateVersion.id) == version.id,
                                                       col(TemplateVersion.revision) == version.revision,
                                                       # an approval that moved the stage since we read it: the
                                                       # approvals to clear are another stage's, so say conflict
                                                       col(TemplateVersion.stage) == version.stage,
                                                       col(TemplateVersion.status) == approvals.IN_REVIEW)
                         .values(content=content, content_hash=content_hash(content), revision=review.revision,
                                 checks=None, updated_at=now, note=note or version.note))
    if moved.rowcount != 1:
        session.refresh(version)
        raise _conflict(template, version)
    session.execute(delete(TemplateApproval).where(col(TemplateApproval.version_id) == version.id,
                                                col(TemplateApproval.stage) == version.stage))
    session.execute(update(Template).where(col(Template.id) == template.id).values(updated_at=now))
    session.refresh(version)
    session.refresh(template)
    audit.record(session=session, action="template.version.edit_in_review", actor_id=actor.id,
                 target=f"template:{template.id} version:{version.number}",
                 detail=f"revision {version.revision}; stage {version.stage + 1} approvals cleared")
    return version


def list_versions(*, session: Session, actor: UserPublic, template_id: int) -> list[TemplateVersion]:
    """Newest first."""
    template = library.load(session=session, actor=actor, template_id=template_id)
    return list(session.exec(select(TemplateVersion).where(TemplateVersion.template_id == template.id)
                             .order_by(col(TemplateVersion.number).desc())))


def find_version(*, session: Session, template: Template, number: int) -> TemplateVersion:
    version = session.exec(select(TemplateVersion).where(TemplateVersion.template_id == template.id,
                                                         TemplateVersion.number == number)).first()
    if version is None:
        raise NotFound(f"This template has no version {number}.", code="template_version_not_found")
    return version


def get_version(*, session: Session, actor: UserPublic, template_id: int, number: int) -> TemplateVersion:
    template = library.load(session=session, actor=actor, template_id=template_id)
    return find_version(session=session, template=template, number=number)


def text_of(kind: str, content: dict) -> str:
    """The text a person compares: the MJML and its variables, the prompts and settings, or the deck."""
    if kind == "email":
        return content.get("source", "") + "\n--- variables ---\n" + json.dumps(content.get("schema", {}), indent=2,
                                                                               sort_keys=True)
    if kind == "image_style":
        return "\n".join([content.get("prompt", ""), "--- negative prompt ---", content.get("negative_prompt", ""),
                          "--- settings ---", json.dumps(content.get("settings", {}), indent=2, sort_keys=True),
                          "--- variables ---", json.dumps(content.get("schema", {}), indent=2, sort_keys=True)])
    return json.dumps({"theme": content.get("theme"), "brand_kit_name": content.get("brand_kit_name"),
                       "outline": content.get("outline")}, indent=2, sort_keys=True, ensure_ascii=False)


def compare(*, session: Session, actor: UserPublic, template_id: int, a: int, b: int) -> dict:
    """A unified diff of version `a` → version `b` and the count of lines added and removed."""
    template = library.load(session=session, actor=actor, template_id=template_id)
    old, new = (find_version(session=session, template=template, number=n) for n in (a, b))
    old_lines = text_of(template.kind, old.content).splitlines()
    new_lines = text_of(template.kind, new.content).splitlines()
    diff = list(difflib.unified_diff(old_lines, new_lines, f"version {a}", f"version {b}", lineterm="", n=3))
    added = sum(1 for line in diff[2:] if line.startswith("+"))
    removed = sum(1 for line in diff[2:] if line.startswith("-"))
    return {"a": a, "b": b, "same": old.content_hash == new.content_hash, "added": added, "removed": removed,
            "diff": diff[:MAX_DIFF_LINES], "truncated": len(diff) > MAX_DIFF_LINES}


def public(version: TemplateVersion, *, content: bool = True) -> dict:
    body = {
        "id": version.id, "number": version.number, "author_id": version.author_id, "note": version.note,
        "status": version.status, "revision": version.revision, "stage": version.stage, "reason": version.reason,
        "content_hash": version.content_hash, "checks": version.checks,
        "created_at": version.created_at.isoformat(), "updated_at": version.updated_at.isoformat(),
        "submitted_at": version.submitted_at.isoformat() if version.submitted_at else None,
        "decided_at": version.decided_at.isoformat() if version.decided_at else None,
    }
    if content:
        body["content"] = version.content
    return body
