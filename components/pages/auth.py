"""Sign in, sign up and the two password-reset pages."""

import reflex as rx

from app import routes
from components.layout.auth_card import auth_frame, error_callout, field, notice_callout
from components.layout.sso import sso_buttons
from state.reset import ResetConfirmState, ResetRequestState
from state.signin import SignInState
from state.signup import SignUpState


def _submit(label: str) -> rx.Component:
    return rx.button(label, type="submit", size="3", width="100%", loading=~rx.State.is_hydrated)


def _footer(*parts: rx.Component) -> rx.Component:
    return rx.hstack(*parts, justify="center", spacing="2", width="100%", wrap="wrap")


def sign_in_page() -> rx.Component:
    return auth_frame(
        "Sign in", "To your Atelier studio.",
        notice_callout(SignInState.notice),
        sso_buttons(),
        rx.form(
            rx.vstack(
                field("Email", "email", type_="email", placeholder="you@studio.com",
                      autocomplete="email", max_length=254),
                field("Password", "password", type_="password", autocomplete="current-password"),
                error_callout(SignInState.error),
                _submit("Sign in"),
                spacing="4", width="100%",
            ),
            on_submit=SignInState.handle_submit, reset_on_submit=False, width="100%",
        ),
        _footer(rx.link("Forgot your password?", href=routes.RESET, size="2")),
        _footer(rx.text("New here?", size="2", color=rx.color("gray", 11)),
                rx.link("Create an account", href=SignInState.sign_up_href, size="2")),
    )


def sign_up_page() -> rx.Component:
    return auth_frame(
        "Create your account", "The first account on a new Atelier becomes its admin.",
        notice_callout(SignUpState.invite_notice),
        rx.cond(SignUpState.waiting != "", rx.callout(SignUpState.waiting, icon="hourglass", color_scheme="green",
                                                      role="status", width="100%")),
        rx.form(
            rx.vstack(
                field("Name", "name", placeholder="Ada Lovelace", autocomplete="name",
                      required=False, max_length=120),
                field("Email", "email", type_="email", placeholder="you@studio.com",
                      autocomplete="email", max_length=254, default_value=SignUpState.invite_email),
                field("Password", "password", type_="password", autocomplete="new-password",
                      hint=SignUpState.password_hint),
                field("Confirm password", "confirm", type_="password", autocomplete="new-password"),
                error_callout(SignUpState.error),
                _submit("Create account"),
                spacing="4", width="100%",
            ),
            on_submit=SignUpState.handle_submit, reset_on_submit=False, width="100%",
            display=rx.cond(SignUpState.waiting != "", "none", "block"),
        ),
        _footer(rx.text("Already have an account?", size="2", color=rx.color("gray", 11)),
                rx.link("Sign in", href=SignUpState.sign_in_href, size="2")),
    )


def reset_request_page() -> rx.Component:
    return auth_frame(
        "Reset your password", "We will email you a link to choose a new one.",
        rx.cond(
            ResetRequestState.sent_message != "",
            rx.vstack(
                rx.callout(ResetRequestState.sent_message, icon="mail-check", color_scheme="green",
                           role="status", width="100%"),
                rx.button("Use another address", variant="soft", size="3", width="100%",
                          on_click=ResetRequestState.ask_again),
                spacing="4", width="100%",
            ),
            rx.form(
                rx.vstack(
                    field("Email", "email", type_="email", placeholder="you@studio.com",
                          autocomplete="email", max_length=254),
                    error_callout(ResetRequestState.error),
                    _submit("Send reset link"),
                    spacing="4", width="100%",
                ),
                on_submit=ResetRequestState.handle_submit, reset_on_submit=False, width="100%",
            ),
        ),
        _footer(rx.link("Back to sign in", href=routes.SIGN_IN, size="2")),
    )


def reset_confirm_page() -> rx.Component:
    return auth_frame(
        "Choose a new password", "Signing in again will be needed on every device.",
        rx.cond(
            ResetConfirmState.has_token,
            rx.form(
                rx.vstack(
                    field("New password", "password", type_="password", autocomplete="new-password",
                          hint=SignUpState.password_hint),
                    field("Confirm new password", "confirm", type_="password",
                          autocomplete="new-password"),
                    error_callout(ResetConfirmState.error),
                    _submit("Set new password"),
                    spacing="4", width="100%",
                ),
                on_submit=ResetConfirmState.handle_submit, reset_on_submit=False, width="100%",
            ),
            # Without the link's token no password can be set: say so before anyone types one.
            rx.callout("This page opens from the link in a password-reset email, and this address has "
                       "no link code in it. Open the link from the email again, or ask for a new one.",
                       icon="link-2-off", color_scheme="amber", role="alert"),
        ),
        _footer(rx.link("Ask for a new link", href=routes.RESET, size="2")),
    )
