"""Settings: profile, password, API tokens."""

import reflex as rx

from components.layout.auth_card import error_callout
from components.layout.confirm import confirm_action
from components.layout.shell import app_shell, page_header
from components.layout.sso_settings import sign_in_methods_section
from state.session import SessionState
from state.settings import PERSONAL, TOKEN_EXPIRY, TOKEN_SCOPES, SettingsState
from state.sso_settings import SsoSettingsState


def labelled(label: str, for_id: str, control: rx.Component) -> rx.Component:
    return rx.vstack(rx.text(label, size="2", weight="medium", as_="label", html_for=for_id),
                     control, spacing="1", width="100%")


def section(title: str, text: str, *content: rx.Component) -> rx.Component:
    return rx.card(
        rx.grid(
            rx.vstack(rx.heading(title, size="4", as_="h2"),
                      rx.text(text, size="2", color=rx.color("gray", 11)), spacing="1"),
            rx.vstack(*content, spacing="4", width="100%"),
            columns=rx.breakpoints(initial="1", md="2"), spacing="6", width="100%",
        ),
        size="3", width="100%",
    )


def profile_section() -> rx.Component:
    return section(
        "Profile", "How you appear to your team.",
        rx.form(
            rx.vstack(
                labelled("Email", "account-email", rx.input(value=SessionState.email, read_only=True,
                                                   size="3", width="100%", id="account-email",
                                                   name="account_email")),
                labelled("Name", "name", rx.input(name="name", id="name", default_value=SettingsState.profile_name,
                                          max_length=120, size="3", width="100%")),
                rx.button("Save profile", type="submit", size="3"),
                spacing="4", width="100%",
            ),
            on_submit=SettingsState.save_profile, reset_on_submit=False, width="100%",
        ),
    )


def password_section() -> rx.Component:
    def pw(name: str, autocomplete: str) -> rx.Component:
        return rx.input(name=name, id=name, type="password", auto_complete=autocomplete,
                        size="3", width="100%", required=True, max_length=256)

    return section(
        "Password", "Changing it signs out every other session.",
        rx.form(
            rx.vstack(
                labelled("Current password", "current_password", pw("current_password", "current-password")),
                labelled("New password", "new_password", pw("new_password", "new-password")),
                labelled("Confirm new password", "confirm", pw("confirm", "new-password")),
                rx.checkbox("Also revoke my API tokens", checked=SettingsState.revoke_tokens,
                            on_change=SettingsState.set_revoke_tokens, size="2"),
                error_callout(SettingsState.password_error),
                rx.button("Change password", type="submit", size="3"),
                spacing="4", width="100%",
            ),
            on_submit=SettingsState.change_password, reset_on_submit=False, width="100%",
        ),
    )


def token_row(token: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(token["name"], weight="medium")),
        rx.table.cell(rx.code(token["prefix"] + "…")),
        rx.table.cell(token["workspace"]),
        rx.table.cell(rx.text(token["scopes"], size="1")),
        rx.table.cell(token["created"]),
        rx.table.cell(token["last_used"]),
        rx.table.cell(token["expires"]),
        rx.table.cell(confirm_action(rx.button("Revoke", color_scheme="red", variant="soft", size="1"),
                                     title="Revoke this token?", description="Scripts using it stop working at once.",
                                     confirm_label="Revoke", on_confirm=SettingsState.revoke_token(token["id"]))),
    )


def new_secret_callout() -> rx.Component:
    return rx.cond(
        SettingsState.new_secret != "",
        rx.callout.root(
            rx.callout.icon(rx.icon("key-round")),
            rx.vstack(
                rx.text("Copy your new token now. It will not be shown again.", weight="bold", size="2"),
                rx.hstack(rx.code(SettingsState.new_secret, id="new-token-secret", size="2",
                                  word_break="break-all"),
                          rx.icon_button(rx.icon("copy", size=14), size="1", variant="soft",
                                         aria_label="Copy token",
                                         on_click=[rx.set_clipboard(SettingsState.new_secret),
                                                   rx.toast.success("Copied.")]),
                          align="center", spacing="2"),
                rx.button("Done", size="1", variant="soft", on_click=SettingsState.dismiss_secret),
                spacing="2", align="start",
            ),
            color_scheme="green", width="100%",
        ),
    )


def token_options() -> rx.Component:
    """Where the new token acts, what it may do (none ticked: everything you may), and how long it lives."""
    return rx.grid(
        labelled("Workspace", "token_workspace", rx.select.root(
            rx.select.trigger(width="100%", id="token_workspace", aria_label="Token workspace"),
            rx.select.content(rx.foreach(SettingsState.token_workspaces,
                                         lambda w: rx.select.item(w["name"], value=w["id"]))),
            name="token_workspace", default_value=PERSONAL)),
        labelled("Expires after", "token_expiry", rx.select.root(
            rx.select.trigger(width="100%", id="token_expiry", aria_label="Token expiry"),
            rx.select.content(*[rx.select.item(label, value=value) for value, label in TOKEN_EXPIRY]),
            name="token_expiry", default_value="90")),
        rx.vstack(
            rx.text("Scopes (none ticked: full access)", size="2", weight="medium"),
            rx.flex(*[rx.checkbox(scope, checked=SettingsState.token_scopes.contains(scope),
                                  on_change=lambda checked, scope=scope: SettingsState.toggle_scope(scope, checked),
                                  size="2")
                      for scope in TOKEN_SCOPES], wrap="wrap", spacing="3"),
            spacing="1", grid_column="1 / -1",
        ),
        columns=rx.breakpoints(initial="1", sm="2"), spacing="3", width="100%",
    )


def tokens_section() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("API tokens", size="4", as_="h2"),
            rx.text("Tokens act as you on the REST API in one workspace, with your role there and only within "
                    "their scopes: send 'Authorization: Bearer <token>'. They are stored hashed.",
                    size="2", color=rx.color("gray", 11)),
            rx.form(
                rx.vstack(
                    rx.hstack(
                        rx.input(name="token_name", id="token_name", placeholder="Token name, e.g. CI uploader",
                                 max_length=80, required=True, size="3", flex="1",
                                 aria_label="Token name"),
                        # The click's key rides in the form: a double click makes one token.
                        rx.el.input(type="hidden", name="click_key", value=SettingsState.click_key),
                        rx.button(rx.icon("plus", size=16), "Create token", type="submit", size="3"),
                        spacing="3", width="100%",
                    ),
                    token_options(),
                    spacing="3", width="100%",
                ),
                on_submit=SettingsState.create_token, reset_on_submit=False, width="100%",
            ),
            error_callout(SettingsState.token_error),
            new_secret_callout(),
            rx.cond(
                SettingsState.tokens.length() > 0,
                rx.table.root(
                    rx.table.header(rx.table.row(
                        *[rx.table.column_header_cell(h) for h in ("Name", "Token", "Workspace", "Scopes", "Created",
                                                               "Last used", "Expires", "")]
                    )),
                    rx.table.body(rx.foreach(SettingsState.tokens, token_row)),
                    width="100%", variant="surface",
                ),
                rx.text("No tokens yet.", size="2", color=rx.color("gray", 10)),
            ),
            spacing="4", width="100%",
        ),
        size="3", width="100%",
    )


def settings_page() -> rx.Component:
    return app_shell(
        page_header("Settings", "Your profile, password and API access."),
        # An account made by single sign-on has no password to change (a reset sets one).
        rx.vstack(profile_section(), rx.cond(SsoSettingsState.has_password, password_section()),
                  sign_in_methods_section(), tokens_section(), spacing="5", width="100%"),
    )
