"""The workspace switcher in the shell: change the workspace this browser acts in, or make a team."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.db import session_scope
from app.errors import AppError
from app.ids import parse_id
from app.services.auth.accounts import UserPublic
from app.services.click_keys import first_click, new_click_key
from app.services.workspaces import service as workspaces
from state.session import cookie_token, full_page_load, signed_in


class SwitcherState(rx.State):
    # Whether the "Create team workspace" dialog is open.
    create_open: bool = False
    create_error: str = ""
    # A key per click of "Create workspace", armed when the dialog opens (app/services/click_keys.py).
    click_key: str = ""

    @rx.event
    def set_create_open(self, value: bool):
        self.create_open = bool(value)
        self.create_error = ""
        if self.create_open:
            self.click_key = new_click_key()

    @rx.event
    @signed_in
    async def handle_switch(self, user: UserPublic, workspace_id: str):
        target = parse_id(workspace_id)
        if target == user.workspace_id:
            return
        try:
            with session_scope() as session:
                workspaces.switch(session=session, session_token=cookie_token(self), user_id=user.id,
                                  workspace_id=target)
        except AppError as exc:
            return rx.toast.error(exc.message)
        # A full load, so every page state reloads its data from the new workspace.
        return full_page_load(routes.after_switch(self.router.url.path))

    @rx.event
    @signed_in
    async def create_team(self, user: UserPublic, form_data: dict):
        if not first_click(user_id=user.id, scope="team", key=str(form_data.get("click_key", ""))):
            return None  # the second event of a double click: one workspace
        self.click_key = new_click_key()
        try:
            with session_scope() as session:
                team = workspaces.create_team(session=session, user_id=user.id,
                                              name=str(form_data.get("name", ""))[:200])
                workspaces.switch(session=session, session_token=cookie_token(self), user_id=user.id,
                                  workspace_id=team.id)
        except AppError as exc:
            self.create_error = exc.message
            return
        self.create_open = False
        # Straight to the new team's page: inviting people is the next thing to do.
        return full_page_load(routes.WORKSPACE)
