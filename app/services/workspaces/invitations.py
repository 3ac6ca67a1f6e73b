"""Invitations to a team workspace: an emailed single-use link that expires, resend, revoke, accept.

Decisions:
- Only the address invited can accept (compared normalised, case-insensitive): someone signed in with
  another address gets 403 `invitation_other_email`, and the invitation stays open for the right person.
- One open invitation per (workspace, address): inviting again refreshes it (new link, new lifetime, the
  newest role) instead of adding a second. Every send makes a new token; the previous link stops working
  (one live link per invitation: a forwarded or leaked old email cannot be used once a new one went out).
  A replaced link's hash is kept, so it answers 410 `invitation_replaced` ("replaced by a newer one")
  rather than "not valid".
- Accepting joins the workspace with the invitation's role and switches nothing: the browser keeps acting
  where it was until the user switches.
- Personal workspaces take no members: invite into a team workspace.
- Closed links answer 410 with what happened (`invitation_expired`, `invitation_used`,
  `invitation_revoked`, `invitation_replaced`); an unknown token 404 `invitation_unknown`.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import event, func, update
from sqlmodel import Session, col, select

from app import routes
from app.errors import AppError, Conflict, Forbidden, NotFound, ValidationFailed
from app.models import Invitation, Membership, OutboxStatus, ReplacedInvitationLink, User, Workspace, utcnow
from app.services import audit, mail, throttle
from app.services.auth.accounts import UserPublic, normalise_email
from app.services.billing import plans
from app.services.secrets import new_token, token_digest
from app.services.workspaces import permissions
from app.services.workspaces.members import authorize
from app.settings import get_settings

log = logging.getLogger(__name__)

MAX_OPEN_PER_WORKSPACE = 200
MAX_SENDS = 10
MAX_TOKEN = 200


class InvitationClosed(AppError):
    status = 410
    code = "invitation_closed"


def status_of(row: Invitation) -> str:
    if row.accepted_at is not None:
        return "accepted"
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at <= utcnow():
        return "expired"
    return "pending"


def link_for(token: str) -> str:
    return get_settings().public_url + routes.invite_url(token)


def _enqueue_after_commit(session: Session, outbox_id: int) -> None:
    """Hand the email to a worker once the invitation is committed (a rolled-back invite sends nothing)."""

    def _send(_session) -> None:
        from app.queue import enqueue_email_delivery

        try:
            enqueue_email_delivery(outbox_id)
        except Exception:  # the row stays pending, visible in the admin outbox; the reaper retries it
            log.exception("could not enqueue email %s", outbox_id)

    event.listen(session, "after_commit", _send, once=True)


def _send(session: Session, row: Invitation, token: str, workspace: Workspace, inviter: UserPublic) -> str:
    settings = get_settings()
    link = link_for(token)
    who = inviter.name or inviter.email
    days = settings.invite_ttl_hours / 24
    lifetime = f"{days:g} day{'s' * (days != 1)}" if settings.invite_ttl_hours % 24 == 0 else \
        f"{settings.invite_ttl_hours} hours"
    role = permissions.ROLE_LABELS.get(row.role, row.role)
    body = (f"Hello,\n\n{who} invited you to the workspace \"{workspace.name}\" on Atelier, as {role}.\n"
            f"{permissions.ROLE_HELP.get(row.role, '')}\n\nOpen this link to accept (you can create an account "
            f"there if you have none, with this address):\n\n{link}\n\nIt works once and expires in {lifetime}. "
            "If you did not expect this, ignore this email.\n")
    outbox = mail.write_outbox(session=session, to=row.email, body=body,
                               subject=f"{who} invited you to {workspace.name} on Atelier")
    if outbox.status == OutboxStatus.PENDING:
        _enqueue_after_commit(session, outbox.id)
    return link


def _fresh_token(session: Session, row: Invitation) -> str:
    if row.token_hash:  # a send again: the old link stops working, and will say why
        session.add(ReplacedInvitationLink(token_hash=row.token_hash, invitation_id=row.id,
                                           workspace_id=row.workspace_id))
    token = new_token()
    row.token_hash = token_digest(token)
    row.expires_at = utcnow() + timedelta(hours=get_settings().invite_ttl_hours)
    return token


def _throttle(actor: UserPublic) -> None:
    throttle.hit(rule=get_settings().invite_limit_per_user, scope="invite-user", key=str(actor.id))


def invite(*, session: Session, actor: UserPublic, workspace_id: int, email: str, role: str,
           ip: str = "") -> tuple[Invitation, str]:
    """Invite `email` with `role` and mail the link; returns the invitation and its link."""
    workspace, _ = authorize(session=session, actor=actor, workspace_id=workspace_id, action="members.manage")
    if workspace.kind == "personal":
        raise Conflict("A personal workspace has no other members; invite people to a team workspace.",
                       code="personal_workspace")
    if role == "owner":
        raise ValidationFailed("Ownership moves only by transferring the workspace; invite as admin.",
                               code="owner_by_transfer")
    if role not in permissions.ASSIGNABLE:
        raise ValidationFailed(f"Role must be one of: {', '.join(permissions.ASSIGNABLE)}.", code="invalid_role")
    email = normalise_email(email)
    member = session.exec(select(User.id).join(Membership, col(Membership.user_id) == User.id)
                          .where(User.email == email, Membership.workspace_id == workspace_id,
                                 col(Membership.role).in_(permissions.ROLES))).first()
    if member is not None:
        raise Conflict(f"{email} is already a member of this workspace.", code="already_member")
    plans.check_member_limit(session=session, workspace_id=workspace_id)
    row = session.exec(select(Invitation).where(Invitation.workspace_id == workspace_id, Invitation.email == email,
                                                col(Invitation.accepted_at).is_(None),
                                                col(Invitation.revoked_at).is_(None))).first()
    _throttle(actor)
    if row is not None:
        if row.sent_count >= MAX_SENDS:
            raise Conflict(f"This invitation was sent {row.sent_count} times; revoke it and invite again.",
                           code="too_many_sends")
        action, row.sent_count, row.role, row.invited_by = "invitation.resent", row.sent_count + 1, role, actor.id
    else:
        open_count = session.exec(select(func.count()).select_from(Invitation).where(
            Invitation.workspace_id == workspace_id, col(Invitation.accepted_at).is_(None),
            col(Invitation.revoked_at).is_(None), col(Invitation.expires_at) > utcnow())).one()
        if open_count >= MAX_OPEN_PER_WORKSPACE:
            raise Conflict(f"This workspace has {open_count} open invitations; revoke some first.",
                           code="too_many_invitations")
        action = "invitation.created"
        row = Invitation(workspace_id=workspace_id, email=email, role=role, token_hash="", invited_by=actor.id,
                         expires_at=utcnow())
    token = _fresh_token(session, row)
    session.add(row)
    session.flush()
    link = _send(session, row, token, workspace, actor)
    audit.record(session=session, action=action, actor_id=actor.id, target=f"workspace:{workspace_id} "
                 f"invitation:{row.id}", ip=ip, detail=f"{email} as {role}")
    return row, link


def _managed(session: Session, actor: UserPublic, workspace_id: int,
             invitation_id: int) -> tuple[Workspace, Invitation]:
    workspace, _ = authorize(session=session, actor=actor, workspace_id=workspace_id, action="members.manage")
    row = session.get(Invitation, invitation_id)
    if row is None or row.workspace_id != workspace_id:
        raise NotFound("No such invitation.", code="invitation_unknown")
    return workspace, row


def resend(*, session: Session, actor: UserPublic, workspace_id: int, invitation_id: int,
           ip: str = "") -> tuple[Invitation, str]:
    """Send a pending or expired invitation again with a new link and a new lifetime."""
    workspace, row = _managed(session, actor, workspace_id, invitation_id)
    if row.accepted_at is not None or row.revoked_at is not None:
        raise Conflict(f"This invitation was {status_of(row)}; invite the address again instead.",
                       code="invitation_closed")
    if row.sent_count >= MAX_SENDS:
        raise Conflict(f"This invitation was sent {row.sent_count} times; revoke it and invite again.",
                       code="too_many_sends")
    _throttle(actor)
    row.sent_count += 1
    token = _fresh_token(session, row)
    session.add(row)
    link = _send(session, row, token, workspace, actor)
    audit.record(session=session, action="invitation.resent", actor_id=actor.id,
                 target=f"workspace:{workspace_id} invitation:{row.id}", ip=ip, detail=row.email)
    return row, link


def revoke(*, session: Session, actor: UserPublic, workspace_id: int, invitation_id: int, ip: str = "") -> Invitation:
    _, row = _managed(session, actor, workspace_id, invitation_id)
    if row.accepted_at is not None or row.revoked_at is not None:
        raise Conflict(f"This invitation was already {status_of(row)}.", code="invitation_closed")
    row.revoked_at = utcnow()
    session.add(row)
    audit.record(session=session, action="invitation.revoked", actor_id=actor.id,
                 target=f"workspace:{workspace_id} invitation:{row.id}", ip=ip, detail=row.email)
    return row


def list_invitations(*, session: Session, workspace_id: int, include_closed: bool = False) -> list[dict]:
    """Invitations of a workspace, newest first: pending and expired ones (and accepted/revoked ones with
    `include_closed`). No permission check: callers ask `members.manage` (authorize) first."""
    stmt = select(Invitation, User).join(User, col(User.id) == Invitation.invited_by, isouter=True).where(
        Invitation.workspace_id == workspace_id)
    if not include_closed:
        stmt = stmt.where(col(Invitation.accepted_at).is_(None), col(Invitation.revoked_at).is_(None))
    rows = session.exec(stmt.order_by(col(Invitation.id).desc())).all()
    return [{"id": r.id, "email": r.email, "role": r.role, "status": status_of(r), "created_at": r.created_at,
             "expires_at": r.expires_at, "sent_count": r.sent_count,
             "invited_by": (inviter.name or inviter.email) if inviter else "",
             "accepted_at": r.accepted_at, "revoked_at": r.revoked_at} for r, inviter in rows]


def open_invitation(*, session: Session, token: str) -> Invitation:
    """The open invitation behind a link, or why it cannot be used (404 unknown, 410 expired/used/revoked/replaced)."""
    token = (token or "").strip()
    row = session.exec(select(Invitation).where(Invitation.token_hash == token_digest(token))).first() \
        if 0 < len(token) <= MAX_TOKEN else None
    if row is None:
        _refuse_replaced(session, token)
        raise NotFound("This invitation link is not valid. Check that you copied all of it, or ask for a new one.",
                       code="invitation_unknown")
    _refuse_closed(row)
    return row


def _refuse_replaced(session: Session, token: str) -> None:
    """A link a later send replaced: say so (and what became of the invitation since), not "not valid"."""
    if not 0 < len(token) <= MAX_TOKEN:
        return
    old = session.exec(select(ReplacedInvitationLink).where(
        ReplacedInvitationLink.token_hash == token_digest(token))).first()
    row = session.get(Invitation, old.invitation_id) if old else None
    if row is None:
        return
    _refuse_closed(row)  # used or withdrawn since: that is what matters now
    raise InvitationClosed(f"This link was replaced: the invitation was sent to you again on "
                           f"{old.replaced_at:%Y-%m-%d at %H:%M} UTC, with a new link. Open the newest invitation "
                           "email; the links in earlier ones no longer work.", code="invitation_replaced")


def _refuse_closed(row: Invitation) -> None:
    state = status_of(row)
    if state == "accepted":
        raise InvitationClosed("This invitation was already used. Sign in to reach the workspace.",
                               code="invitation_used")
    if state == "revoked":
        raise InvitationClosed("This invitation was withdrawn. Ask the workspace's owner for a new one.",
                               code="invitation_revoked")
    if state == "expired":
        raise InvitationClosed("This invitation has expired. Ask the workspace's owner to send it again.",
                               code="invitation_expired")


def invitation_for_email(*, session: Session, token: str, email: str) -> Invitation:
    row = open_invitation(session=session, token=token)
    if normalise_email(email) != row.email:
        raise Forbidden(f"This invitation is for another email address ({mask(row.email)}). Sign in or sign up "
                        "with that address.", code="invitation_other_email")
    return row


def mask(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}{'*' * max(len(local) - 1, 1)}@{domain}"


def preview(*, session: Session, token: str) -> dict:
    """What the accept page shows before anyone signs in."""
    row = open_invitation(session=session, token=token)
    workspace = session.get(Workspace, row.workspace_id)
    inviter = session.get(User, row.invited_by) if row.invited_by else None
    has_account = session.exec(select(User.id).where(User.email == row.email)).first() is not None
    return {"workspace_id": row.workspace_id, "workspace_name": workspace.name if workspace else "",
            "inviter": (inviter.name or inviter.email) if inviter else "", "role": row.role,
            "role_label": permissions.ROLE_LABELS.get(row.role, row.role),
            "email": row.email, "expires_at": row.expires_at, "has_account": has_account}


def _claim(session: Session, row: Invitation, user_id: int) -> None:
    """Mark the invitation used, atomically: of two accepts at once, one wins and the other is `used`."""
    claimed = session.execute(update(Invitation).where(col(Invitation.id) == row.id,
                                                       col(Invitation.accepted_at).is_(None),
                                                       col(Invitation.revoked_at).is_(None))
                              .values(accepted_at=utcnow(), accepted_by=user_id))
    if claimed.rowcount != 1:
        raise InvitationClosed("This invitation was already used.", code="invitation_used")


def join(*, session: Session, row: Invitation, user_id: int, ip: str = "") -> Membership:
    """Use an open invitation for `user_id` (already checked to be its address): they join with its role.
    Someone who is already a member keeps their role; the invitation is used up either way."""
    member = session.get(Membership, (row.workspace_id, user_id))
    if member is None or member.role not in permissions.ROLES:
        plans.check_member_limit(session=session, workspace_id=row.workspace_id)
    _claim(session, row, user_id)
    detail = f"{row.email} as {row.role}"
    if member is None or member.role not in permissions.ROLES:  # new, or removed earlier and invited back
        member = member or Membership(workspace_id=row.workspace_id, user_id=user_id, role=row.role)
        member.role, member.role_source = row.role, ""
        session.add(member)
        session.flush()
    else:
        detail += f" (already {member.role}; kept)"
    audit.record(session=session, action="invitation.accepted", actor_id=user_id,
                 target=f"workspace:{row.workspace_id} invitation:{row.id}", ip=ip, detail=detail)
    return member


def accept(*, session: Session, token: str, user: UserPublic, ip: str = "") -> Membership:
    """A signed-in user accepts an invitation sent to their address."""
    row = invitation_for_email(session=session, token=token, email=user.email)
    return join(session=session, row=row, user_id=user.id, ip=ip)
