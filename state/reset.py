"""The two password-reset pages: ask for a link, then choose a new password."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.errors import AppError
from app.services.auth import password_reset
from state.session import client_ip, note_throttle


class ResetRequestState(rx.State):
    # The answer shown after submitting (the same whether the account exists or not).
    sent_message: str = ""
    error: str = ""

    @rx.event
    def load_page(self):
        # A fresh form on every visit: the answer stayed for good in this tab's state otherwise, and
        # someone who mistyped the address could not ask again.
        self.sent_message, self.error = "", ""

    @rx.event
    def ask_again(self):
        self.sent_message, self.error = "", ""

    @rx.event
    def handle_submit(self, form_data: dict):
        try:
            self.sent_message = password_reset.request_reset(
                email=str(form_data.get("email", ""))[:254], ip=client_ip(self))
            self.error = ""
        except AppError as exc:
            note_throttle(self, exc)
            self.error = exc.message


class ResetConfirmState(rx.State):
    error: str = ""

    @rx.event
    def load_page(self):
        self.error = ""

    @rx.var
    def has_token(self) -> bool:
        return bool(self.router.url.query_parameters.get("token"))

    @rx.event
    def handle_submit(self, form_data: dict):
        password = str(form_data.get("password", ""))
        if password != str(form_data.get("confirm", "")):
            self.error = "The two passwords are not the same."
            return
        token = self.router.url.query_parameters.get("token", "")
        try:
            password_reset.complete_reset(token=token, new_password=password)
        except AppError as exc:
            self.error = exc.message
            return
        self.error = ""
        return rx.redirect(routes.sign_in_after_reset_url(), replace=True)
