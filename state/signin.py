"""The sign-in page."""

from __future__ import annotations

import reflex as rx

from app import routes
from app.errors import AppError
from app.services.auth import signin
from app.services.auth.sessions import issue_ticket, safe_next
from app.services.auth.sso.errors import message_for
from app.settings import get_settings
from state.session import client_ip, full_page_load, note_throttle


class SignInState(rx.State):
    # The last error shown under the form.
    error: str = ""
    # A notice carried in by the URL (signed out, expired link, password changed).
    notice: str = ""
    # Where to go after signing in (an invitation link brings people back to itself).
    next_path: str = ""
    # Single sign-on buttons: name, label, kind, href (the start URL, carrying ?next=).
    providers: list[dict[str, str]] = []

    @rx.var
    def sign_up_href(self) -> str:
        return routes.sign_up_url(self.next_path)

    @rx.event
    def load_page(self):
        params = self.router.url.query_parameters
        self.error = ""
        self.next_path = safe_next(params["next"]) if params.get("next") else ""
        self.providers = [{"name": p.name, "label": p.label, "kind": p.kind,
                           "href": routes.sso_start_url(p.name, self.next_path)}
                          for p in get_settings().sso.values()]
        if params.get("sso_error"):
            # Looked up by code: the URL cannot put its own words on the page.
            self.error = message_for(str(params["sso_error"])[:64]) or "Single sign-on failed. Please try again."
        if params.get("signed_out"):
            self.notice = "You are signed out."
        elif params.get("expired"):
            self.notice = "That sign-in link expired. Please sign in again."
        elif params.get("reset"):
            self.notice = "Your password was changed. Sign in with the new one."
        else:
            self.notice = ""

    @rx.event
    def handle_submit(self, form_data: dict):
        email = str(form_data.get("email", ""))[:254]
        password = str(form_data.get("password", ""))[:256]
        if not email or not password:
            self.error = "Enter your email and password."
            return
        try:
            user = signin.check_credentials(email=email, password=password, ip=client_ip(self))
        except AppError as exc:
            note_throttle(self, exc)
            self.error = exc.message
            return
        self.error = ""
        next_path = safe_next(self.router.url.query_parameters.get("next", routes.DASHBOARD))
        return full_page_load(routes.complete_sign_in_url(issue_ticket(user_id=user.id,
                                                                       next_path=next_path)))
