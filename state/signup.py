"""The sign-up page."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.db import session_scope
from app.errors import AppError
from app.services import accounts, throttle
from app.services.sessions import issue_ticket
from app.settings import get_settings
from state.session import client_ip, full_page_load


class SignUpState(rx.State):
    # The last error shown under the form.
    error: str = ""

    @rx.var
    def password_hint(self) -> str:
        return f"At least {get_settings().password_min_length} characters."

    @rx.event
    def handle_submit(self, form_data: dict):
        password = str(form_data.get("password", ""))
        if password != str(form_data.get("confirm", "")):
            self.error = "The two passwords are not the same."
            return
        try:
            throttle.hit(rule=get_settings().register_limit_per_ip, scope="register-ip",
                         key=client_ip(self) or "unknown")
            with session_scope() as session:
                user = accounts.register_user(session=session, email=str(form_data.get("email", "")),
                                              password=password, name=str(form_data.get("name", "")))
        except AppError as exc:
            self.error = exc.message
            return
        if user.pending:  # SIGNUP_APPROVAL: no session until a site admin approves the account
            self.error = "Your account was created and is waiting for an admin's approval. Sign in once it is approved."
            return
        self.error = ""
        return full_page_load(routes.complete_sign_in_url(issue_ticket(user_id=user.id)))
