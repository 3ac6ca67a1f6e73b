"""A provider's group/role claim → the user's role in one team workspace, re-applied at each sign-in.

- The claim (a string or a list of strings) is looked up in the provider's ROLE_MAP; when several values
  map, the strongest role wins (admin > editor > approver > viewer).
- A mapped role is set whatever the membership said before (the identity provider is the authority for
  people in mapped groups), and the membership is marked role_source="sso:<provider>".
- When no value maps any more, a membership this provider made (role_source "sso:<provider>") is removed:
  leaving the group at the provider takes the person out of the workspace at their next sign-in (and the
  session check ends their access there). Memberships from invitations, or from another provider, stay.
- An owner's membership is never changed by a claim.
- A new member counts against the workspace plan's member limit, as an invitation does: past it the sign-in
  is refused (nothing is created; the sign-in page says why and the audit log has `sso.failed` with
  `sso_plan_member_limit`). People who are members already sign in as before.
- A membership whose role is not a role (the members service's marker for a removed member) is never
  turned back into one: a member an admin removed does not come back through SSO.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlmodel import Session

from app.errors import Conflict
from app.models import Membership, User, Workspace
from app.services import audit
from app.services.auth.sso.errors import SsoError
from app.services.billing import plans
from app.services.workspaces.permissions import ROLES
from app.settings_sso import MAPPABLE_ROLES, SsoProvider

log = logging.getLogger(__name__)


def mapped_role(provider: SsoProvider, claims: dict[str, Any]) -> str | None:
    """The strongest role the claim's values map to, or None."""
    value = claims.get(provider.role_claim)
    values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    roles = {provider.role_map[v] for v in values if isinstance(v, str) and v in provider.role_map}
    return next((role for role in MAPPABLE_ROLES if role in roles), None)


def apply_role_mapping(*, session: Session, provider: SsoProvider, user: User, claims: dict[str, Any],
                       ip: str = "") -> int | None:
    """Set or remove the user's membership from the claim; returns the workspace they now have a role in."""
    if not provider.role_claim or provider.workspace_id is None:
        return None
    workspace = session.get(Workspace, provider.workspace_id)
    if workspace is None or workspace.kind != "team":
        log.warning("SSO provider %s maps roles into workspace %s, which is not a team workspace",
                    provider.name, provider.workspace_id)
        return None
    source = f"sso:{provider.name}"
    role = mapped_role(provider, claims)
    row = session.get(Membership, (workspace.id, user.id))
    target = f"workspace:{workspace.id}"
    if row is not None and (row.role == "owner" or row.role not in ROLES):
        return workspace.id if row.role == "owner" else None
    if role is not None:
        if row is None:
            _check_room(session, provider, workspace, user)
            session.add(Membership(workspace_id=workspace.id, user_id=user.id, role=role, role_source=source))
        elif row.role == role and row.role_source == source:
            return workspace.id
        else:
            before = row.role
            row.role, row.role_source = role, source
            session.add(row)
            role = f"{role} (was {before})"
        audit.record(session=session, action="sso.role_mapped", actor_id=user.id, target=target, ip=ip,
                     detail=f"provider={provider.name}; {user.email}: {role}")
        return workspace.id
    if row is not None and row.role_source == source:
        session.delete(row)
        audit.record(session=session, action="sso.role_mapped", actor_id=user.id, target=target, ip=ip,
                     detail=f"provider={provider.name}; {user.email}: removed (no mapped {provider.role_claim})")
        return None
    return workspace.id if row is not None else None


def _check_room(session: Session, provider: SsoProvider, workspace: Workspace, user: User) -> None:
    try:
        plans.check_member_limit(session=session, workspace_id=workspace.id)
    except Conflict as exc:
        log.warning("SSO provider %s did not add %s to workspace %s: its plan's member limit is reached",
                    provider.name, user.email, workspace.id)
        raise SsoError("sso_plan_member_limit", status=403,
                       detail=f"{user.email} not added to workspace {workspace.id}: {exc.message}") from None
