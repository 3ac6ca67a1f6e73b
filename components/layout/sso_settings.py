"""Settings → Sign-in methods: the providers linked to this account, link another, unlink."""

import reflex as rx

from components.layout.auth_card import error_callout, notice_callout
from components.layout.confirm import confirm_action
from state.sso_settings import SsoSettingsState


def _identity_row(identity: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(identity["label"], weight="medium")),
        rx.table.cell(identity["email"]),
        rx.table.cell(identity["linked"]),
        rx.table.cell(identity["last_used"]),
        rx.table.cell(confirm_action(
            rx.button("Unlink", color_scheme="red", variant="soft", size="1"),
            title="Unlink this sign-in method?",
            description="You will no longer be able to sign in with it (unless you link it again).",
            confirm_label="Unlink", on_confirm=SsoSettingsState.unlink(identity["id"]))),
    )


def _link_button(provider: rx.Var) -> rx.Component:
    return rx.link(rx.button(rx.icon("link", size=14), "Link ", provider["label"], variant="soft", size="2",
                             tab_index=-1),
                   href=provider["href"], reload_document=True, underline="none")


def sign_in_methods_section() -> rx.Component:
    return rx.cond(
        SsoSettingsState.providers.length() > 0,
        rx.card(
            rx.vstack(
                rx.heading("Sign-in methods", size="4", as_="h2"),
                rx.text(rx.cond(SsoSettingsState.has_password,
                                "Your password, and these provider accounts, sign you in.",
                                "Your account has no password: these provider accounts are how you sign in. "
                                "To add a password, use “Forgot your password?” on the sign-in page."),
                        size="2", color=rx.color("gray", 11)),
                notice_callout(SsoSettingsState.notice),
                error_callout(SsoSettingsState.error),
                rx.cond(
                    SsoSettingsState.identities.length() > 0,
                    rx.table.root(
                        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                                       ("Provider", "Email there", "Linked", "Last used", "")])),
                        rx.table.body(rx.foreach(SsoSettingsState.identities, _identity_row)),
                        width="100%", variant="surface",
                    ),
                    rx.text("No provider linked yet.", size="2", color=rx.color("gray", 10)),
                ),
                rx.hstack(rx.foreach(SsoSettingsState.providers, _link_button), spacing="2", wrap="wrap"),
                spacing="4", width="100%",
            ),
            size="3", width="100%",
        ),
    )
