"""The sign-up page."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.db import session_scope
from app.errors import AppError
from app.services import accounts, throttle
from app.services.sessions import issue_ticket, safe_next
from app.settings import get_settings
from state.session import client_ip, full_page_load


class SignUpState(rx.State):
    # The last error shown under the form.
    error: str = ""
    # Where to go once the account exists (an invitation link brings people back to itself).
    next_path: str = ""

    @rx.var
    def sign_in_href(self) -> str:
        return routes.sign_in_url(self.next_path)

    @rx.event
    def load_page(self):
        params = self.router.url.query_parameters
        self.error = ""
        self.next_path = safe_next(params["next"]) if params.get("next") else ""

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
        self.error = ""
        return full_page_load(routes.complete_sign_in_url(
            issue_ticket(user_id=user.id, next_path=self.next_path or routes.DASHBOARD)))
