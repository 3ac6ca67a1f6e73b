"""The sign-up page (also the way in from an invitation link: ?next=/invite?token=...)."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.db import read_scope, session_scope
from app.errors import AppError
from app.services import throttle
from app.services.auth import accounts
from app.services.auth.sessions import issue_ticket, safe_next
from app.services.workspaces import invitations
from app.settings import get_settings
from state.session import client_ip, full_page_load, note_throttle


class SignUpState(rx.State):
    # The last error shown under the form.
    error: str = ""
    # Where to go once the account exists (an invitation link brings people back to itself).
    next_path: str = ""
    # Coming from an invitation: what it invites to, and the address it was sent to (the form starts with it).
    invite_notice: str = ""
    invite_email: str = ""
    # Set once an account was made that waits for a site admin's approval (SIGNUP_APPROVAL): no sign-in yet.
    waiting: str = ""

    @rx.var
    def password_hint(self) -> str:
        return f"At least {get_settings().password_min_length} characters."

    @rx.var
    def sign_in_href(self) -> str:
        return routes.sign_in_url(self.next_path)

    @rx.event
    def load_page(self):
        params = self.router.url.query_parameters
        self.error, self.invite_notice, self.invite_email, self.waiting = "", "", "", ""
        self.next_path = safe_next(params["next"]) if params.get("next") else ""
        token = routes.invite_token_in(self.next_path)
        if token:
            try:
                with read_scope() as session:
                    offer = invitations.preview(session=session, token=token)
            except AppError as exc:
                self.error = exc.message
                return
            self.invite_email = offer["email"]
            self.invite_notice = (f"You are joining {offer['workspace_name']} as {offer['role_label']}. "
                                  f"The invitation was sent to {offer['email']}.")

    @rx.event
    def handle_submit(self, form_data: dict):
        password = str(form_data.get("password", ""))
        if password != str(form_data.get("confirm", "")):
            self.error = "The two passwords are not the same."
            return
        token = routes.invite_token_in(self.next_path)
        next_path = self.next_path or routes.DASHBOARD
        try:
            throttle.hit(rule=get_settings().register_limit_per_ip, scope="register-ip",
                         key=client_ip(self) or "unknown")
            with session_scope() as session:
                if token:
                    # The account joins the team as it is made; back on the invitation page it then acts there.
                    next_path = routes.invite_joined_url(invitations.preview(session=session, token=token)
                                                         ["workspace_id"])
                user = accounts.register_user(session=session, email=str(form_data.get("email", "")),
                                              password=password, name=str(form_data.get("name", "")),
                                              invitation_token=token or None)
        except AppError as exc:
            note_throttle(self, exc)
            self.error = exc.message
            return
        self.error = ""
        if user.pending:  # SIGNUP_APPROVAL: no session until a site admin approves the account
            self.waiting = ("Your account was created. An admin of this Atelier approves new accounts: you can sign "
                            "in once they have.")
            return
        return full_page_load(routes.complete_sign_in_url(issue_ticket(user_id=user.id, next_path=next_path)))
