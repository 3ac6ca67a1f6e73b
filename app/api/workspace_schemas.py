"""Request and response bodies of the workspace, member, invitation and admin-workspace routes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.ids import DbId

AssignableRole = Literal["admin", "editor", "approver", "viewer"]


class WorkspaceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)


class WorkspacePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)


class WorkspaceDelete(BaseModel):
    model_config = ConfigDict(extra="forbid")
    confirm_name: str = Field(max_length=200, description="The workspace's name, exactly: the confirmation.")


class WorkspaceOut(BaseModel):
    id: int
    name: str
    kind: str  # personal | team
    created_at: datetime
    role: str = Field(description="The caller's role in this workspace.")
    current: bool = Field(description="Whether this session or token acts in this workspace now.")
    actions: list[str] = Field(description="What the caller's role may do here (the permission matrix).")
    members: int = 0


class WorkspaceList(BaseModel):
    workspaces: list[WorkspaceOut]


class WorkspaceDeleted(BaseModel):
    name: str
    rows: dict[str, int]
    files_deleted: int
    files_failed: int


class MemberOut(BaseModel):
    user_id: int
    email: str
    name: str
    role: str
    role_source: str = Field(description='"sso:<provider>" when a sign-in\'s group claim set the role, else "".')
    joined: datetime


class MemberList(BaseModel):
    members: list[MemberOut]


class MemberPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str = Field(max_length=16, description="admin, editor, approver or viewer (owner: transfer instead).")


class Transfer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: DbId


class InvitationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=254)
    role: str = Field(default="editor", max_length=16)


class InvitationOut(BaseModel):
    id: int
    email: str
    role: str
    status: str  # pending | expired | accepted | revoked
    created_at: datetime
    expires_at: datetime
    sent_count: int
    invited_by: str
    accepted_at: datetime | None = None
    revoked_at: datetime | None = None


class InvitationSent(InvitationOut):
    link: str = Field(description="The accept link that was emailed (to copy when mail is slow). A new send "
                                  "makes a new link; the previous one stops working.")


class InvitationList(BaseModel):
    invitations: list[InvitationOut]


class InvitationPreview(BaseModel):
    workspace_id: int
    workspace_name: str
    inviter: str
    role: str
    role_label: str
    email: str = Field(description="The address the invitation is for: only it can accept.")
    expires_at: datetime
    has_account: bool = Field(description="Whether that address has an account (sign in) or not (sign up).")


class Accepted(BaseModel):
    workspace: WorkspaceOut


class AdminWorkspaceOut(BaseModel):
    id: int
    name: str
    kind: str
    created_at: datetime
    owners: list[str]
    members: int
    storage_bytes: int
    credits: int


class AdminWorkspacePage(BaseModel):
    workspaces: list[AdminWorkspaceOut]
    total: int
