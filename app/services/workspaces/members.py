"""A workspace's people: who is in it with which role, role changes, removal, leaving, ownership, renaming.

Every function that changes something takes the acting user and checks the permission matrix with their
role in *that* workspace (not the one their session happens to act in): a workspace they are not a member
of answers 404 (they may not know it exists), a role without the right answers 403.
"""

from __future__ import annotations

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.models import ApiToken, AuthSession, Membership, User, Workspace, utcnow
from app.services import audit
from app.services.auth.accounts import UserPublic
from app.services.workspaces import permissions
from app.services.workspaces.service import clean_name, role_in


def authorize(*, session: Session, actor: UserPublic, workspace_id: int, action: str) -> tuple[Workspace, str]:
    """The workspace and the actor's role in it, when the matrix lets that role do `action` there.

    NotFound when the workspace does not exist or the actor is not a member; Forbidden (role_forbidden or
    insufficient_scope) when they are a member whose role or token scopes do not cover `action`.
    """
    workspace = session.get(Workspace, workspace_id)
    role = role_in(session=session, workspace_id=workspace_id, user_id=actor.id) if workspace else None
    if workspace is None or role is None:
        raise NotFound("No such workspace.", code="workspace_not_found")
    if not permissions.scope_allows(actor.scopes, action):
        raise Forbidden(f"This API token's scopes do not cover that (it needs "
                        f"'{permissions.scope_for(action)}').", code="insufficient_scope")
    if not permissions.allowed(role, action):
        label = permissions.ROLE_LABELS.get(role, role)
        raise Forbidden(f"Your role in this workspace ({label}) does not allow that.", code="role_forbidden")
    return workspace, role


def _member(session: Session, workspace_id: int, user_id: int) -> Membership:
    row = session.get(Membership, (workspace_id, user_id))
    if row is None or row.role not in permissions.ROLES:
        raise NotFound("That person is not a member of this workspace.", code="member_not_found")
    return row


def _owners(session: Session, workspace_id: int) -> int:
    return session.exec(select(func.count()).select_from(Membership)
                        .where(Membership.workspace_id == workspace_id, Membership.role == "owner")).one()


def _not_personal(workspace: Workspace, doing: str) -> None:
    if workspace.kind == "personal":
        raise Conflict(f"A personal workspace cannot be {doing}; create a team workspace to work with others.",
                       code="personal_workspace")


def _target(workspace: Workspace, user_id: int) -> str:
    return f"workspace:{workspace.id} user:{user_id}"


def list_members(*, session: Session, workspace_id: int) -> list[dict]:
    """Members with their role, owners first, then by name/email. No permission check: callers ask
    `members.read` (authorize) first."""
    rows = session.exec(select(Membership, User).join(User, col(User.id) == Membership.user_id)
                        .where(Membership.workspace_id == workspace_id,
                               col(Membership.role).in_(permissions.ROLES))).all()
    order = {role: i for i, role in enumerate(permissions.ROLES)}
    members = [{"user_id": user.id, "email": user.email, "name": user.name, "role": m.role,
                "role_source": m.role_source, "joined": m.created_at} for m, user in rows]
    return sorted(members, key=lambda m: (order.get(m["role"], 99), (m["name"] or m["email"]).lower()))


def set_role(*, session: Session, actor: UserPublic, workspace_id: int, user_id: int, role: str,
             ip: str = "") -> Membership:
    """Change a member's role. Ownership moves only by transfer; an admin cannot change an owner; the
    last owner cannot be demoted. A manual change clears an SSO role source (the next SSO sign-in with a
    role mapping sets it again)."""
    workspace, actor_role = authorize(session=session, actor=actor, workspace_id=workspace_id,
                                      action="members.manage")
    if role == "owner":
        raise ValidationFailed("Ownership moves only by transferring the workspace.", code="owner_by_transfer")
    if role not in permissions.ASSIGNABLE:
        raise ValidationFailed(f"Role must be one of: {', '.join(permissions.ASSIGNABLE)}.", code="invalid_role")
    member = _member(session, workspace_id, user_id)
    if member.role == "owner":
        if actor_role != "owner":
            raise Forbidden("Only an owner can change an owner's role.", code="owner_protected")
        if _owners(session, workspace_id) <= 1:
            raise Conflict("This is the workspace's only owner; transfer ownership first.", code="last_owner")
    old = member.role
    member.role, member.role_source = role, ""
    session.add(member)
    if old != role:
        audit.record(session=session, action="member.role_changed", actor_id=actor.id,
                     target=_target(workspace, user_id), ip=ip, detail=f"{old} -> {role}")
    return member


def end_access(*, session: Session, workspace_id: int, user_id: int) -> int:
    """What a member loses with their membership: API tokens bound to the workspace are revoked, and
    browser sessions acting there go back to the personal workspace. Returns the tokens revoked."""
    revoked = session.execute(update(ApiToken).where(col(ApiToken.user_id) == user_id,
                                                     col(ApiToken.workspace_id) == workspace_id,
                                                     col(ApiToken.revoked_at).is_(None))
                              .values(revoked_at=utcnow())).rowcount or 0
    # sessions.user_for_session falls back by itself; this makes it so at once, for every session.
    session.execute(update(AuthSession).where(col(AuthSession.user_id) == user_id,
                                              col(AuthSession.workspace_id) == workspace_id)
                    .values(workspace_id=None))
    return revoked


def remove_member(*, session: Session, actor: UserPublic, workspace_id: int, user_id: int, ip: str = "") -> None:
    """Take someone out of a workspace; their access there ends with this transaction."""
    workspace, actor_role = authorize(session=session, actor=actor, workspace_id=workspace_id,
                                      action="members.manage")
    member = _member(session, workspace_id, user_id)
    if member.role == "owner":
        if actor_role != "owner":
            raise Forbidden("Only an owner can remove an owner.", code="owner_protected")
        if _owners(session, workspace_id) <= 1:
            raise Conflict("The workspace's only owner cannot be removed; transfer ownership first.",
                           code="last_owner")
    # Kept as a tombstone, not deleted: a provider's group claim must not let a removed member back in
    # (app.services.auth.sso.roles leaves rows that hold no role alone); only an invitation brings them back.
    was = member.role
    member.role, member.role_source = permissions.REMOVED, f"removed by {actor.id}"
    session.add(member)
    revoked = end_access(session=session, workspace_id=workspace_id, user_id=user_id)
    audit.record(session=session, action="member.removed", actor_id=actor.id, target=_target(workspace, user_id),
                 ip=ip, detail=f"was {was}; {revoked} API token{'s' * (revoked != 1)} revoked")


def leave(*, session: Session, user_id: int, workspace_id: int, ip: str = "") -> None:
    """Leave a team workspace. Its only owner must transfer ownership first."""
    workspace = session.get(Workspace, workspace_id)
    member = session.get(Membership, (workspace_id, user_id)) if workspace else None
    if workspace is None or member is None or member.role not in permissions.ROLES:
        raise NotFound("No such workspace.", code="workspace_not_found")
    if workspace.kind == "personal":
        raise Conflict("You cannot leave your personal workspace.", code="personal_workspace")
    if member.role == "owner" and _owners(session, workspace_id) <= 1:
        raise Conflict("You own this workspace: transfer ownership to another member before leaving, "
                       "or delete it.", code="owner_must_transfer")
    session.delete(member)
    revoked = end_access(session=session, workspace_id=workspace_id, user_id=user_id)
    audit.record(session=session, action="member.left", actor_id=user_id, target=_target(workspace, user_id),
                 ip=ip, detail=f"was {member.role}; {revoked} API token{'s' * (revoked != 1)} revoked")


def transfer_ownership(*, session: Session, actor: UserPublic, workspace_id: int, to_user_id: int,
                       ip: str = "") -> Workspace:
    """Hand the workspace to another member: they become owner, the actor becomes admin."""
    workspace, _ = authorize(session=session, actor=actor, workspace_id=workspace_id, action="workspace.transfer")
    _not_personal(workspace, "transferred")
    if to_user_id == actor.id:
        raise ValidationFailed("You already own this workspace.", code="invalid_transfer")
    target = _member(session, workspace_id, to_user_id)
    new_owner = session.get(User, to_user_id)
    if new_owner is None or not new_owner.is_active or new_owner.pending:
        raise ValidationFailed("Ownership can only go to an active account.", code="invalid_transfer")
    old = session.get(Membership, (workspace_id, actor.id))
    target.role, target.role_source = "owner", ""
    old.role, old.role_source = "admin", ""
    session.add(target)
    session.add(old)
    audit.record(session=session, action="workspace.transferred", actor_id=actor.id,
                 target=_target(workspace, to_user_id), ip=ip, detail=f"from user:{actor.id}")
    return workspace


def rename_workspace(*, session: Session, actor: UserPublic, workspace_id: int, name: str, ip: str = "") -> Workspace:
    workspace, _ = authorize(session=session, actor=actor, workspace_id=workspace_id, action="workspace.manage")
    name = clean_name(name)
    if name != workspace.name:
        audit.record(session=session, action="workspace.renamed", actor_id=actor.id,
                     target=f"workspace:{workspace.id}", ip=ip, detail=f"{workspace.name} -> {name}")
        workspace.name = name
        session.add(workspace)
    return workspace

