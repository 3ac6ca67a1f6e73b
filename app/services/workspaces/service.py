"""Workspaces: the personal one every user has, team ones, membership, and where a request acts."""

from __future__ import annotations

import dataclasses

from sqlmodel import Session, col, select

from app.errors import NotFound, ValidationFailed
from app.models import AuthSession, Membership, User, Workspace
from app.services import audit
from app.services.auth.accounts import UserPublic
from app.services.secrets import token_digest
from app.services.workspaces.permissions import ROLES

PERSONAL_NAME = "Personal"
MAX_NAME = 80
MAX_WORKSPACES_PER_USER = 50


def clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationFailed("Give the workspace a name.", code="invalid_name")
    if len(name) > MAX_NAME:
        raise ValidationFailed(f"Workspace names are limited to {MAX_NAME} characters.", code="invalid_name")
    if any(ord(ch) < 32 for ch in name):
        raise ValidationFailed("Workspace names may not contain control characters.", code="invalid_name")
    return name


def create_personal(*, session: Session, user: User) -> Workspace:
    """The user's own workspace, made with the account; they are its owner."""
    workspace = Workspace(name=PERSONAL_NAME, kind="personal", created_by=user.id)
    session.add(workspace)
    session.flush()
    session.add(Membership(workspace_id=workspace.id, user_id=user.id, role="owner"))
    user.personal_workspace_id = workspace.id
    session.add(user)
    session.flush()
    return workspace


def create_team(*, session: Session, user_id: int, name: str) -> Workspace:
    name = clean_name(name)
    owned = session.exec(select(Membership).where(Membership.user_id == user_id)).all()
    if len(owned) >= MAX_WORKSPACES_PER_USER:
        raise ValidationFailed(f"You belong to {len(owned)} workspaces, the most one account may.",
                               code="too_many_workspaces")
    workspace = Workspace(name=name, kind="team", created_by=user_id)
    session.add(workspace)
    session.flush()
    session.add(Membership(workspace_id=workspace.id, user_id=user_id, role="owner"))
    audit.record(session=session, action="workspace.created", actor_id=user_id,
                 target=f"workspace:{workspace.id}", detail=name)
    return workspace


def role_in(*, session: Session, workspace_id: int, user_id: int) -> str | None:
    row = session.get(Membership, (workspace_id, user_id))
    return row.role if row is not None and row.role in ROLES else None


def workspaces_of(*, session: Session, user_id: int) -> list[tuple[Workspace, str]]:
    """The user's workspaces with their role in each: personal first, then teams by name."""
    rows = session.exec(select(Workspace, Membership.role)
                        .join(Membership, Membership.workspace_id == Workspace.id)
                        .where(Membership.user_id == user_id, col(Membership.role).in_(ROLES))).all()
    return sorted(((w, r) for w, r in rows), key=lambda pair: (pair[0].kind != "personal", pair[0].name.lower()))


def acting(*, session: Session, user: User, workspace_id: int | None,
           scopes: tuple[str, ...] | None = None) -> UserPublic | None:
    """The user acting in `workspace_id` (None: the personal one), or None when they are not a member.

    Checked on every request: a removed member's next request no longer acts in that workspace.
    """
    if user.pending:  # not approved yet (SIGNUP_APPROVAL): acts nowhere
        return None
    public = UserPublic.of(user)
    target = workspace_id or user.personal_workspace_id
    if not target:
        return None
    role = role_in(session=session, workspace_id=target, user_id=user.id or 0)
    if role is None:
        return None
    return dataclasses.replace(public, workspace_id=target, workspace_role=role, scopes=scopes)


def switch(*, session: Session, session_token: str, user_id: int, workspace_id: int) -> Workspace:
    """Make this browser session act in `workspace_id` (a workspace the user is a member of)."""
    workspace = session.get(Workspace, workspace_id)
    if workspace is None or role_in(session=session, workspace_id=workspace_id, user_id=user_id) is None:
        raise NotFound("No such workspace.")
    row = session.get(AuthSession, token_digest(session_token)) if session_token else None
    if row is None or row.user_id != user_id:
        raise NotFound("No such session.")
    row.workspace_id = workspace_id
    session.add(row)
    return workspace
