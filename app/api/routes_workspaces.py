"""/api/v1/workspaces (members, invitations), /api/v1/invitations/{token}, /api/v1/admin/workspaces.

Permissions come from the matrix with the caller's role in the workspace named by the path
(members.authorize): not a member → 404, a member whose role does not allow it → 403. An API token is
bound to one workspace: addressing any other through the path answers 404, as for a non-member.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from app.api.deps import AdminDep, Caller, CallerDep, client_ip, requires
from app.api.ids import IdPath
from app.api.workspace_schemas import (
    Accepted,
    AdminWorkspaceOut,
    AdminWorkspacePage,
    InvitationCreate,
    InvitationList,
    InvitationOut,
    InvitationPreview,
    InvitationSent,
    MemberList,
    MemberOut,
    MemberPatch,
    Transfer,
    WorkspaceCreate,
    WorkspaceDelete,
    WorkspaceDeleted,
    WorkspaceList,
    WorkspaceOut,
    WorkspacePatch,
)
from app.db import read_scope, session_scope
from app.errors import Conflict, Forbidden, NotFound
from app.models import Workspace
from app.services.workspaces import deletion, invitations, members, permissions, usage
from app.services.workspaces import service as workspaces

router = APIRouter(tags=["workspaces"])

TokenPath = Annotated[str, Path(min_length=1, max_length=200)]


def _bound(caller: Caller, workspace_id: int) -> None:
    """A token reaches only the workspace it is bound to."""
    if caller.via == "token" and workspace_id != caller.user.workspace_id:
        raise NotFound("No such workspace.", code="workspace_not_found")


def in_workspace(action: str):
    """`dependencies=[in_workspace("members.manage")]`: the route's matrix action, checked against the caller's
    role in the workspace named by the path before the body is read (404 non-member, 403 role or scope).

    The action is kept on the dependency (`.action`), as app.api.deps.requires does, so the route × role walk
    reads what each route declares. The services check again (they are called from pages and jobs too)."""
    if action not in permissions.ACTIONS:
        raise KeyError(f"{action!r} is not in the permission matrix")

    def check(workspace_id: IdPath, caller: CallerDep) -> None:
        _bound(caller, workspace_id)
        with read_scope() as session:
            members.authorize(session=session, actor=caller.user, workspace_id=workspace_id, action=action)

    check.action = action  # type: ignore[attr-defined]
    check.__name__ = f"in_workspace_{action.replace('.', '_')}"
    return Depends(check)


def _workspace_out(session, caller: Caller, workspace: Workspace, role: str) -> WorkspaceOut:
    count = usage.workspace_usage(session=session, workspace_ids=[workspace.id])[workspace.id]["members"]
    return WorkspaceOut(id=workspace.id, name=workspace.name, kind=workspace.kind, created_at=workspace.created_at,
                        role=role, current=workspace.id == caller.user.workspace_id, members=count,
                        actions=[a for a in permissions.ACTIONS if permissions.allowed(role, a)])


def _authorized(session, caller: Caller, workspace_id: int, action: str) -> tuple[Workspace, str]:
    _bound(caller, workspace_id)
    return members.authorize(session=session, actor=caller.user, workspace_id=workspace_id, action=action)


# --- workspaces ------------------------------------------------------------------------------------------


@router.get("/workspaces", response_model=WorkspaceList, dependencies=[requires("account.read")])
def list_workspaces(caller: CallerDep) -> WorkspaceList:
    """The caller's workspaces with their role in each (a token: only the one it is bound to)."""
    with read_scope() as session:
        pairs = workspaces.workspaces_of(session=session, user_id=caller.user.id)
        if caller.via == "token":
            pairs = [(w, r) for w, r in pairs if w.id == caller.user.workspace_id]
        return WorkspaceList(workspaces=[_workspace_out(session, caller, w, r) for w, r in pairs])


@router.post("/workspaces", status_code=201, response_model=WorkspaceOut, dependencies=[requires("account.manage")])
def create_workspace(body: WorkspaceCreate, caller: CallerDep) -> WorkspaceOut:
    """Create a team workspace; the caller is its owner. (A token stays bound to its own workspace: make a
    token for the new one to script it.)"""
    if not permissions.scope_allows(caller.user.scopes, "workspace.manage"):
        raise Forbidden("Creating a workspace needs a token with the 'admin' scope.", code="insufficient_scope")
    with session_scope() as session:
        workspace = workspaces.create_team(session=session, user_id=caller.user.id, name=body.name)
        return _workspace_out(session, caller, workspace, "owner")


@router.get("/workspaces/{workspace_id}", response_model=WorkspaceOut,
            dependencies=[in_workspace("members.read")])
def get_workspace(workspace_id: IdPath, caller: CallerDep) -> WorkspaceOut:
    with read_scope() as session:
        workspace, role = _authorized(session, caller, workspace_id, "members.read")
        return _workspace_out(session, caller, workspace, role)


@router.patch("/workspaces/{workspace_id}", response_model=WorkspaceOut,
              dependencies=[in_workspace("workspace.manage")])
def rename_workspace(workspace_id: IdPath, body: WorkspacePatch, caller: CallerDep, request: Request) -> WorkspaceOut:
    _bound(caller, workspace_id)
    with session_scope() as session:
        workspace = members.rename_workspace(session=session, actor=caller.user, workspace_id=workspace_id,
                                             name=body.name, ip=client_ip(request))
        role = workspaces.role_in(session=session, workspace_id=workspace_id, user_id=caller.user.id)
        return _workspace_out(session, caller, workspace, role or "")


@router.delete("/workspaces/{workspace_id}", response_model=WorkspaceDeleted,
               dependencies=[in_workspace("workspace.delete")])
def delete_workspace(workspace_id: IdPath, body: WorkspaceDelete, caller: CallerDep,
                     request: Request) -> WorkspaceDeleted:
    """Delete a team workspace with all its work and files (owner only). The body repeats its name."""
    _bound(caller, workspace_id)
    result = deletion.delete_workspace(actor=caller.user, workspace_id=workspace_id, confirm_name=body.confirm_name,
                                       ip=client_ip(request))
    return WorkspaceDeleted(**result)


@router.post("/workspaces/{workspace_id}/switch", response_model=WorkspaceOut,
             dependencies=[in_workspace("work.read")])
def switch_workspace(workspace_id: IdPath, caller: CallerDep) -> WorkspaceOut:
    """Make this browser session act in the workspace. API tokens are bound to theirs: 409 `token_bound`."""
    if caller.via == "token":
        _bound(caller, workspace_id)
        raise Conflict("An API token acts in the workspace it was made for; make a token for another workspace.",
                       code="token_bound")
    with session_scope() as session:
        workspace, role = members.authorize(session=session, actor=caller.user, workspace_id=workspace_id,
                                            action="work.read")
        workspaces.switch(session=session, session_token=caller.session_token, user_id=caller.user.id,
                          workspace_id=workspace_id)
        out = _workspace_out(session, caller, workspace, role)
    return out.model_copy(update={"current": True})


@router.post("/workspaces/{workspace_id}/leave", status_code=204, dependencies=[requires("account.manage")])
def leave_workspace(workspace_id: IdPath, caller: CallerDep, request: Request) -> Response:
    _bound(caller, workspace_id)
    with session_scope() as session:
        members.leave(session=session, user_id=caller.user.id, workspace_id=workspace_id, ip=client_ip(request))
    return Response(status_code=204)


@router.post("/workspaces/{workspace_id}/transfer", response_model=WorkspaceOut,
             dependencies=[in_workspace("workspace.transfer")])
def transfer_workspace(workspace_id: IdPath, body: Transfer, caller: CallerDep, request: Request) -> WorkspaceOut:
    """Hand the workspace to another member; the caller (the owner) becomes an admin."""
    _bound(caller, workspace_id)
    with session_scope() as session:
        workspace = members.transfer_ownership(session=session, actor=caller.user, workspace_id=workspace_id,
                                               to_user_id=body.user_id, ip=client_ip(request))
        return _workspace_out(session, caller, workspace, "admin")


# --- members ---------------------------------------------------------------------------------------------


@router.get("/workspaces/{workspace_id}/members", response_model=MemberList,
            dependencies=[in_workspace("members.read")])
def list_members(workspace_id: IdPath, caller: CallerDep) -> MemberList:
    with read_scope() as session:
        _authorized(session, caller, workspace_id, "members.read")
        return MemberList(members=[MemberOut(**m) for m in members.list_members(session=session,
                                                                                workspace_id=workspace_id)])


@router.patch("/workspaces/{workspace_id}/members/{user_id}", response_model=MemberOut,
              dependencies=[in_workspace("members.manage")])
def change_role(workspace_id: IdPath, user_id: IdPath, body: MemberPatch, caller: CallerDep,
                request: Request) -> MemberOut:
    _bound(caller, workspace_id)
    with session_scope() as session:
        members.set_role(session=session, actor=caller.user, workspace_id=workspace_id, user_id=user_id,
                         role=body.role, ip=client_ip(request))
        session.flush()
        row = next(m for m in members.list_members(session=session, workspace_id=workspace_id)
                   if m["user_id"] == user_id)
        return MemberOut(**row)


@router.delete("/workspaces/{workspace_id}/members/{user_id}", status_code=204,
               dependencies=[in_workspace("members.manage")])
def remove_member(workspace_id: IdPath, user_id: IdPath, caller: CallerDep, request: Request) -> Response:
    """Remove a member: their sessions acting there and their tokens bound there lose access at once. (Managers
    only; anyone leaves with POST .../leave.)"""
    _bound(caller, workspace_id)
    with session_scope() as session:
        if user_id == caller.user.id:
            members.leave(session=session, user_id=user_id, workspace_id=workspace_id, ip=client_ip(request))
        else:
            members.remove_member(session=session, actor=caller.user, workspace_id=workspace_id, user_id=user_id,
                                  ip=client_ip(request))
    return Response(status_code=204)


# --- invitations -----------------------------------------------------------------------------------------


@router.get("/workspaces/{workspace_id}/invitations", response_model=InvitationList,
            dependencies=[in_workspace("members.manage")])
def list_invitations(workspace_id: IdPath, caller: CallerDep, include_closed: bool = False) -> InvitationList:
    with read_scope() as session:
        _authorized(session, caller, workspace_id, "members.manage")
        rows = invitations.list_invitations(session=session, workspace_id=workspace_id, include_closed=include_closed)
    return InvitationList(invitations=[InvitationOut(**r) for r in rows])


def _sent(session, row, link: str) -> InvitationSent:
    listed = invitations.list_invitations(session=session, workspace_id=row.workspace_id, include_closed=True)
    return InvitationSent(**next(r for r in listed if r["id"] == row.id), link=link)


@router.post("/workspaces/{workspace_id}/invitations", status_code=201, response_model=InvitationSent,
             dependencies=[in_workspace("members.manage")])
def invite(workspace_id: IdPath, body: InvitationCreate, caller: CallerDep, request: Request) -> InvitationSent:
    """Invite an address with a role; the link is emailed. Inviting an address with an open invitation
    sends it again (a new link) with this role; a member's address is a 409 `already_member`."""
    _bound(caller, workspace_id)
    with session_scope() as session:
        row, link = invitations.invite(session=session, actor=caller.user, workspace_id=workspace_id,
                                       email=body.email, role=body.role, ip=client_ip(request))
        return _sent(session, row, link)


@router.post("/workspaces/{workspace_id}/invitations/{invitation_id}/resend", response_model=InvitationSent,
             dependencies=[in_workspace("members.manage")])
def resend_invitation(workspace_id: IdPath, invitation_id: IdPath, caller: CallerDep,
                      request: Request) -> InvitationSent:
    _bound(caller, workspace_id)
    with session_scope() as session:
        row, link = invitations.resend(session=session, actor=caller.user, workspace_id=workspace_id,
                                       invitation_id=invitation_id, ip=client_ip(request))
        return _sent(session, row, link)


@router.delete("/workspaces/{workspace_id}/invitations/{invitation_id}", status_code=204,
               dependencies=[in_workspace("members.manage")])
def revoke_invitation(workspace_id: IdPath, invitation_id: IdPath, caller: CallerDep, request: Request) -> Response:
    _bound(caller, workspace_id)
    with session_scope() as session:
        invitations.revoke(session=session, actor=caller.user, workspace_id=workspace_id,
                           invitation_id=invitation_id, ip=client_ip(request))
    return Response(status_code=204)


@router.get("/invitations/{token}", response_model=InvitationPreview, tags=["invitations"])
def preview_invitation(token: TokenPath) -> InvitationPreview:
    """What an invitation link offers (no sign-in needed): 404 `invitation_unknown`, 410
    `invitation_expired` / `invitation_used` / `invitation_revoked` / `invitation_replaced` (a newer send's
    link took its place)."""
    with read_scope() as session:
        return InvitationPreview(**invitations.preview(session=session, token=token))


@router.post("/invitations/{token}/accept", response_model=Accepted, tags=["invitations"],
             dependencies=[requires("account.manage")])
def accept_invitation(token: TokenPath, caller: CallerDep, request: Request) -> Accepted:
    """Join the workspace with the invitation's role. Only the invited address may accept (403
    `invitation_other_email`); the session keeps acting where it was (switch to go there)."""
    with session_scope() as session:
        member = invitations.accept(session=session, token=token, user=caller.user, ip=client_ip(request))
        workspace = session.get(Workspace, member.workspace_id)
        return Accepted(workspace=_workspace_out(session, caller, workspace, member.role))


# --- admin -----------------------------------------------------------------------------------------------


@router.get("/admin/workspaces", response_model=AdminWorkspacePage, tags=["admin"])
def admin_workspaces(caller: AdminDep, q: str = Query("", max_length=100),
                     kind: str = Query("", pattern="^(|personal|team)$"),
                     limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0)) -> AdminWorkspacePage:
    """Every workspace with its owners, member count, storage used (bytes) and spendable credits."""
    with read_scope() as session:
        rows, total = usage.all_workspaces(session=session, query=q, kind=kind, limit=limit, offset=offset)
    return AdminWorkspacePage(workspaces=[AdminWorkspaceOut(**r) for r in rows], total=total)

