"""Threaded comments on a template version, with @mentions of the workspace's members.

`@ada@example.com` names a member by email; `@AdaLovelace` by their name without spaces, or by the part of their
email before the @. Only members of the template's workspace can be mentioned: any other @word stays plain text
and nothing tells the writer whether such a person exists. Mentioned members get a notice and an email.
"""

from __future__ import annotations

import re

from sqlmodel import Session, col, func, select

from app import routes
from app.errors import Conflict, NotFound, ValidationFailed
from app.models import Membership, TemplateComment, User
from app.services import audit, notifications
from app.services.auth.accounts import UserPublic
from app.services.templates.reviews import load_template, load_version
from app.services.workspaces import permissions

MAX_BODY = 4000
MAX_PER_VERSION = 500
MAX_MENTIONS = 20
# An email address, or a run of letters, digits, dots, dashes and underscores.
_MENTION = re.compile(r"(?<![\w@])@([\w.+-]+@[\w-]+(?:\.[\w-]+)+|[\w][\w.-]*)")


def _members(session: Session, workspace_id: int) -> list[User]:
    return list(session.exec(select(User).join(Membership, col(Membership.user_id) == col(User.id))
                             .where(Membership.workspace_id == workspace_id,
                                    col(Membership.role).in_(permissions.ROLES))).all())


def find_mentions(body: str, members: list[User]) -> list[int]:
    """Ids of the members `body` mentions, in order of first mention (at most MAX_MENTIONS)."""
    keys: dict[str, set[int]] = {}
    for user in members:
        for key in {user.email.lower(), user.email.split("@", 1)[0].lower(), "".join(user.name.split()).lower()}:
            if key:
                keys.setdefault(key, set()).add(user.id)
    out: list[int] = []
    for match in _MENTION.finditer(body):
        word = match.group(1).rstrip(".-").lower()
        ids = keys.get(word, set())
        if len(ids) == 1 and (uid := next(iter(ids))) not in out:  # an ambiguous name mentions nobody
            out.append(uid)
        if len(out) >= MAX_MENTIONS:
            break
    return out


def add_comment(*, session: Session, actor: UserPublic, template_id: int, number: int, body: str,
                parent_id: int | None = None, ip: str = "") -> TemplateComment:
    template, _ = load_template(session=session, actor=actor, template_id=template_id, action="templates.comment")
    version = load_version(session=session, template=template, number=number)
    body = (body or "").strip()
    if not body:
        raise ValidationFailed("Write something first.", code="comment_empty")
    if len(body) > MAX_BODY:
        raise ValidationFailed(f"Comments are limited to {MAX_BODY:,} characters.", code="comment_too_long")
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in body):
        raise ValidationFailed("Comments may not contain control characters.", code="comment_invalid")
    count = session.exec(select(func.count()).select_from(TemplateComment)
                         .where(TemplateComment.version_id == version.id)).one()
    if count >= MAX_PER_VERSION:
        raise Conflict(f"This version has {MAX_PER_VERSION} comments, the most it keeps.", code="too_many_comments")
    if parent_id is not None:
        parent = session.get(TemplateComment, parent_id)
        if parent is None or parent.version_id != version.id or parent.deleted_at is not None:
            raise NotFound("The comment you reply to is not on this version.", code="comment_not_found")
        parent_id = parent.parent_id or parent.id  # replies stay one level deep: a reply to a reply joins its thread
    mentions = find_mentions(body, _members(session, template.workspace_id))
    row = TemplateComment(template_id=template.id, version_id=version.id, parent_id=parent_id, author_id=actor.id,
                          body=body, mentions=mentions)
    session.add(row)
    session.flush()
    audit.record(session=session, action="template.comment_added", actor_id=actor.id, ip=ip,
                 target=f"template:{template.id} version:{number}", detail=f"comment {row.id}; "
                 f"{len(mentions)} mention(s)")
    who = actor.name or actor.email
    notifications.notify(session=session, user_ids=mentions, workspace_id=template.workspace_id, kind="mentioned",
                         title=f"{who} mentioned you on “{template.name}” v{number}"[:200], body=body[:500],
                         link=routes.template_version_url(template.id, number), skip=actor.id)
    return row


def list_comments(*, session: Session, actor: UserPublic, template_id: int, number: int | None = None) -> list[dict]:
    """Threads of one version (the latest by default), oldest first: each top-level comment with its replies."""
    template, _ = load_template(session=session, actor=actor, template_id=template_id, action="work.read")
    if number is None:
        number = template.latest_number
        if not number:
            return []
    version = load_version(session=session, template=template, number=number)
    rows = session.exec(select(TemplateComment).where(TemplateComment.version_id == version.id)
                        .order_by(col(TemplateComment.id))).all()
    ids = {r.author_id for r in rows if r.author_id} | {m for r in rows for m in r.mentions}
    people = {u.id: u for u in session.exec(select(User).where(col(User.id).in_(ids))).all()} if ids else {}

    def out(row: TemplateComment) -> dict:
        author = people.get(row.author_id or 0)
        return {"id": row.id, "parent_id": row.parent_id, "author_id": row.author_id,
                "author": (author.name or author.email) if author else "", "body": row.body,
                "mentions": [{"user_id": m, "name": people[m].name or people[m].email}
                             for m in row.mentions if m in people],
                "created_at": row.created_at, "replies": []}

    threads: dict[int, dict] = {}
    for row in rows:
        if row.deleted_at is not None:
            continue
        if row.parent_id is None:
            threads[row.id] = out(row)
        elif row.parent_id in threads:
            threads[row.parent_id]["replies"].append(out(row))
    return list(threads.values())
