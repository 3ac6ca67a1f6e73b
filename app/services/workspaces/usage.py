"""What each workspace holds, for the admin page: members, storage used, credits."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.models import Asset, Membership, User, Workspace
from app.services import credits
from app.services.workspaces.permissions import ROLES


def workspace_usage(*, session: Session, workspace_ids: list[int]) -> dict[int, dict]:
    """{id: {"members", "storage_bytes", "credits"}} in a few queries.

    storage_bytes counts the originals' sizes, including pictures waiting in the library's Undo window
    (their files still exist); thumbnails are not counted (their sizes are not stored). credits is the
    spendable balance as the workspace's members see it (credits.balances)."""
    ids = list(dict.fromkeys(workspace_ids))
    if not ids:
        return {}
    members = dict(session.exec(select(Membership.workspace_id, func.count()).where(
        col(Membership.workspace_id).in_(ids), col(Membership.role).in_(ROLES))
        .group_by(Membership.workspace_id)).all())
    storage = dict(session.exec(select(Asset.workspace_id, func.coalesce(func.sum(Asset.size_bytes), 0)).where(
        col(Asset.workspace_id).in_(ids)).group_by(Asset.workspace_id)).all())
    balances = credits.balances(session=session, workspace_ids=ids)
    return {i: {"members": int(members.get(i, 0)), "storage_bytes": int(storage.get(i, 0)),
                "credits": int(balances.get(i, 0))} for i in ids}


def all_workspaces(*, session: Session, query: str = "", kind: str = "", limit: int = 50,
                   offset: int = 0) -> tuple[list[dict], int]:
    """Every workspace for /admin/workspaces (newest first) with its owner and usage; and the total."""
    stmt = select(Workspace)
    count = select(func.count()).select_from(Workspace)
    query = (query or "").strip()[:100]
    if query:
        cond = func.lower(Workspace.name).like(f"%{query.lower()}%")
        stmt, count = stmt.where(cond), count.where(cond)
    if kind in ("personal", "team"):
        stmt, count = stmt.where(Workspace.kind == kind), count.where(Workspace.kind == kind)
    rows = session.exec(stmt.order_by(col(Workspace.id).desc()).limit(limit).offset(offset)).all()
    ids = [w.id for w in rows]
    owners: dict[int, list[str]] = {}
    for workspace_id, email in session.exec(select(Membership.workspace_id, User.email)
                                            .join(User, col(User.id) == Membership.user_id)
                                            .where(col(Membership.workspace_id).in_(ids), Membership.role == "owner")
                                            .order_by(col(User.email))).all():
        owners.setdefault(workspace_id, []).append(email)
    usage = workspace_usage(session=session, workspace_ids=ids)
    return [{"id": w.id, "name": w.name, "kind": w.kind, "created_at": w.created_at,
             "owners": owners.get(w.id, []), **usage[w.id]} for w in rows], session.exec(count).one()
