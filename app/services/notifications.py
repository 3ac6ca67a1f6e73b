"""In-app notices (the bell) and their emails: review assignments, @mentions, decisions.

A notice belongs to one person and, usually, one workspace. Whether they may still see it is decided when it is
read, not when it was written: someone removed from the workspace stops seeing its notices (their titles name
templates of that workspace). Email goes through the outbox (app.services.mail), after the commit of the
change that caused it, so a rolled-back approval mails nobody.
"""

from __future__ import annotations

from sqlalchemy import or_, update
from sqlmodel import Session, col, func, select

from app.errors import ValidationFailed
from app.models import Membership, Notification, OutboxStatus, User, utcnow
from app.services import mail
from app.services.auth.accounts import UserPublic
from app.services.workspaces import permissions
from app.settings import get_settings

KINDS = ("review_assigned", "mentioned", "review_decided", "review_invalidated")
MAX_LIST = 100
MAX_MARK = 200


def notify(*, session: Session, user_ids: set[int] | list[int], workspace_id: int | None, kind: str, title: str,
           body: str = "", link: str = "", email: bool = True, skip: int | None = None) -> list[Notification]:
    """One notice per person (members of the workspace only; `skip` is the person who caused it)."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    wanted = {int(u) for u in user_ids if u is not None and u != skip}
    if not wanted:
        return []
    query = select(User).where(col(User.id).in_(wanted), col(User.is_active).is_(True))
    if workspace_id is not None:
        query = query.join(Membership, col(Membership.user_id) == col(User.id)).where(
            Membership.workspace_id == workspace_id, col(Membership.role).in_(permissions.ROLES))
    rows = []
    for user in session.exec(query).all():
        row = Notification(user_id=user.id, workspace_id=workspace_id, kind=kind, title=title[:200],
                           body=body[:500], link=link[:300])
        session.add(row)
        rows.append(row)
        if email:
            _mail(session, user.email, title, body, link)
    session.flush()
    return rows


def _mail(session: Session, to: str, title: str, body: str, link: str) -> None:
    from app.services.workspaces.invitations import _enqueue_after_commit

    url = get_settings().public_url + link if link.startswith("/") else link
    text = f"{body}\n\nOpen it in Atelier:\n{url}\n" if url else f"{body}\n"
    row = mail.write_outbox(session=session, to=to, subject=title[:200], body=text)
    if row.status == OutboxStatus.PENDING:
        _enqueue_after_commit(session, row.id)


def _visible(user_id: int):
    """Notices of this person in workspaces they are still a member of (or tied to none)."""
    member = select(Membership.workspace_id).where(Membership.user_id == user_id,
                                                   col(Membership.role).in_(permissions.ROLES))
    return select(Notification).where(Notification.user_id == user_id,
                                      or_(col(Notification.workspace_id).is_(None),
                                          col(Notification.workspace_id).in_(member)))


def list_for(*, session: Session, actor: UserPublic, unread_only: bool = False,
             limit: int = 30) -> list[Notification]:
    query = _visible(actor.id)
    if unread_only:
        query = query.where(col(Notification.read_at).is_(None))
    limit = max(1, min(int(limit), MAX_LIST))
    return list(session.exec(query.order_by(col(Notification.id).desc()).limit(limit)))


def unread_count(*, session: Session, actor: UserPublic) -> int:
    query = _visible(actor.id).where(col(Notification.read_at).is_(None))
    return int(session.exec(select(func.count()).select_from(query.subquery())).one())


def mark_read(*, session: Session, actor: UserPublic, ids: list[int] | None = None) -> int:
    """Mark the actor's own notices read (all of them when `ids` is None); someone else's ids are ignored."""
    query = update(Notification).where(col(Notification.user_id) == actor.id,
                                       col(Notification.read_at).is_(None))
    if ids is not None:
        if len(ids) > MAX_MARK:
            raise ValidationFailed(f"Mark at most {MAX_MARK} notifications at once.", code="too_many_ids")
        query = query.where(col(Notification.id).in_([int(i) for i in ids]))
    return session.execute(query.values(read_at=utcnow())).rowcount or 0
