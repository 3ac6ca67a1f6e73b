"""The team page: the workspace's name, members and roles, invitations, ownership, leaving and deleting.

Every handler re-reads the session and passes the acting user to the service, which checks the matrix with
the user's role in this workspace; the page only hides what the role cannot use.
"""

from __future__ import annotations

import reflex as rx

from app import routes
from app.db import read_scope, session_scope
from app.display import storage_text
from app.errors import AppError
from app.ids import parse_id
from app.services.auth.accounts import UserPublic
from app.services.click_keys import first_click, new_click_key
from app.services.workspaces import deletion, invitations, members, permissions
from app.services.workspaces.usage import workspace_usage
from state.session import client_ip, full_page_load, refresh_session, signed_in


def _day(value) -> str:
    return value.strftime("%Y-%m-%d") if value else ""


def _invitation_row(invite: dict) -> dict[str, str]:
    return {"id": str(invite["id"]), "email": invite["email"], "role": invite["role"],
            "role_label": permissions.ROLE_LABELS.get(invite["role"], invite["role"]),
            "status": invite["status"], "expires": invite["expires_at"].strftime("%Y-%m-%d %H:%M UTC"),
            "sent": str(invite["sent_count"]), "invited_by": invite["invited_by"]}


class WorkspaceState(rx.State):
    # One row per member: user_id, email, name, role, role_label, joined, is_me ("yes"/"").
    members: list[dict[str, str]] = []
    # Open invitations (pending or expired): id, email, role, role_label, status, expires, sent, invited_by.
    invitations: list[dict[str, str]] = []
    # members count, storage used, credits: shown as small figures under the name.
    usage: dict[str, str] = {}
    # The invite form's role (its help text follows it).
    invite_role: str = "editor"
    invite_error: str = ""
    # A key per click of "Send invitation" and "Resend", re-armed after each send (app/services/click_keys.py).
    click_key: str = ""
    # What the owner typed in the delete confirmation (must equal the workspace's name).
    delete_typed: str = ""
    # The member chosen to receive ownership.
    transfer_to: str = ""
    loaded: bool = False

    @rx.var
    def invite_role_help(self) -> str:
        return permissions.ROLE_HELP.get(self.invite_role, "")

    @rx.var
    def transfer_choices(self) -> list[dict[str, str]]:
        return [m for m in self.members if not m["is_me"]]

    @rx.var
    def transfer_label(self) -> str:
        chosen = next((m for m in self.members if m["user_id"] == self.transfer_to), None)
        return (chosen["name"] or chosen["email"]) if chosen else ""

    @rx.event
    @signed_in
    async def load_page(self, user: UserPublic):
        self.invite_role, self.invite_error, self.delete_typed, self.transfer_to = "editor", "", "", ""
        self.click_key = new_click_key()
        self._load(user)

    def _load(self, user: UserPublic) -> None:
        with read_scope() as session:
            figures = workspace_usage(session=session, workspace_ids=[user.workspace_id]).get(user.workspace_id, {})
            rows = members.list_members(session=session, workspace_id=user.workspace_id) \
                if user.can("members.read") else []
            pending = invitations.list_invitations(session=session, workspace_id=user.workspace_id) \
                if user.can("members.manage") else []
        self.members = [{"user_id": str(m["user_id"]), "email": m["email"], "name": m["name"] or "",
                         "role": m["role"], "role_label": permissions.ROLE_LABELS.get(m["role"], m["role"]),
                         "joined": _day(m["joined"]), "is_me": "yes" if m["user_id"] == user.id else ""}
                        for m in rows]
        self.invitations = [_invitation_row(i) for i in pending]
        self.usage = {"members": str(figures.get("members", len(rows))),
                      "storage": storage_text(int(figures.get("storage_bytes", 0))),
                      "credits": f"{int(figures.get('credits', 0)):,}"}
        self.loaded = True

    @rx.event
    def set_invite_role(self, role: str):
        self.invite_role = role if role in permissions.ASSIGNABLE else "editor"

    @rx.event
    def set_delete_typed(self, value: str):
        self.delete_typed = value[:200]

    @rx.event
    def set_transfer_to(self, user_id: str):
        self.transfer_to = str(parse_id(user_id) or "")

    @rx.event
    @signed_in
    async def save_name(self, user: UserPublic, form_data: dict):
        try:
            with session_scope() as session:
                workspace = members.rename_workspace(session=session, actor=user, workspace_id=user.workspace_id,
                                                     name=str(form_data.get("workspace_name", ""))[:200],
                                                     ip=client_ip(self))
                name = workspace.name
        except AppError as exc:
            return rx.toast.error(exc.message)
        await refresh_session(self)  # the switcher shows the new name
        return rx.toast.success(f"Renamed to {name}.")

    @rx.event
    @signed_in
    async def change_role(self, user: UserPublic, user_id: str, role: str):
        try:
            with session_scope() as session:
                members.set_role(session=session, actor=user, workspace_id=user.workspace_id,
                                 user_id=parse_id(user_id), role=role, ip=client_ip(self))
        except AppError as exc:
            self._load(user)
            return rx.toast.error(exc.message)
        self._load(user)
        return rx.toast.success(f"Role changed to {permissions.ROLE_LABELS.get(role, role)}.")

    @rx.event
    @signed_in
    async def remove(self, user: UserPublic, user_id: str):
        try:
            with session_scope() as session:
                members.remove_member(session=session, actor=user, workspace_id=user.workspace_id,
                                      user_id=parse_id(user_id), ip=client_ip(self))
        except AppError as exc:
            return rx.toast.error(exc.message)
        self._load(user)
        return rx.toast.success("Removed. Their access to this workspace has ended.")

    @rx.event
    @signed_in
    async def invite(self, user: UserPublic, form_data: dict):
        # A second send would replace the first email's link: a double click sends one email.
        if not first_click(user_id=user.id, scope="invite", key=str(form_data.get("click_key", ""))):
            return None
        self.click_key = new_click_key()
        email = str(form_data.get("invite_email", ""))[:254]
        try:
            with session_scope() as session:
                row, _ = invitations.invite(session=session, actor=user, workspace_id=user.workspace_id, email=email,
                                            role=self.invite_role, ip=client_ip(self))
                email, again = row.email, row.sent_count > 1
        except AppError as exc:
            self.invite_error = exc.message
            return
        self.invite_error = ""
        self._load(user)
        # Inviting an address again refreshes its open invitation: the admin is told the older link ended.
        sent = (f"Invitation sent again to {email}, with a fresh link. The link in the earlier email no longer "
                "works.") if again else f"Invitation sent to {email}."
        return [rx.set_value("invite_email", ""), rx.toast.success(sent)]

    @rx.event
    @signed_in
    async def resend(self, user: UserPublic, invitation_id: str, click_key: str = ""):
        if not first_click(user_id=user.id, scope="invite-resend", key=click_key):
            return None  # the second event of a double click
        self.click_key = new_click_key()
        try:
            with session_scope() as session:
                invitations.resend(session=session, actor=user, workspace_id=user.workspace_id,
                                   invitation_id=parse_id(invitation_id), ip=client_ip(self))
        except AppError as exc:
            return rx.toast.error(exc.message)
        self._load(user)
        return rx.toast.success("Sent again, with a fresh link. The old link no longer works.")

    @rx.event
    @signed_in
    async def revoke(self, user: UserPublic, invitation_id: str):
        try:
            with session_scope() as session:
                invitations.revoke(session=session, actor=user, workspace_id=user.workspace_id,
                                   invitation_id=parse_id(invitation_id), ip=client_ip(self))
        except AppError as exc:
            return rx.toast.error(exc.message)
        self._load(user)
        return rx.toast.success("Invitation revoked. Its link no longer works.")

    @rx.event
    @signed_in
    async def transfer(self, user: UserPublic):
        try:
            with session_scope() as session:
                members.transfer_ownership(session=session, actor=user, workspace_id=user.workspace_id,
                                           to_user_id=parse_id(self.transfer_to), ip=client_ip(self))
        except AppError as exc:
            return rx.toast.error(exc.message)
        # Every role-dependent part of the page (and the switcher's badge) changes: reload it all.
        return full_page_load(routes.WORKSPACE)

    @rx.event
    @signed_in
    async def leave(self, user: UserPublic):
        try:
            with session_scope() as session:
                members.leave(session=session, user_id=user.id, workspace_id=user.workspace_id, ip=client_ip(self))
        except AppError as exc:
            return rx.toast.error(exc.message)
        # Their sessions here went back to the personal workspace with the membership.
        return full_page_load(routes.DASHBOARD)

    @rx.event
    @signed_in
    async def delete_workspace(self, user: UserPublic):
        try:
            deletion.delete_workspace(actor=user, workspace_id=user.workspace_id, confirm_name=self.delete_typed,
                                      ip=client_ip(self))
        except AppError as exc:
            return rx.toast.error(exc.message)
        return full_page_load(routes.DASHBOARD)
