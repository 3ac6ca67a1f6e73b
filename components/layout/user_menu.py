"""The user menu: who is signed in, theme, settings, sign out."""

import reflex as rx

from app import routes
from state.session import SessionState


def user_menu() -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(
            rx.button(
                rx.avatar(fallback=SessionState.initials, size="2", radius="full", color_scheme="violet"),
                rx.vstack(
                    rx.text(SessionState.display_name, size="2", weight="medium"),
                    rx.text(SessionState.email, size="1", color=rx.color("gray", 10)),
                    spacing="1", align="start", overflow="hidden",
                ),
                variant="ghost", color_scheme="gray", size="3", width="100%",
                justify_content="start", aria_label="Account menu", padding="8px",
            ),
        ),
        rx.menu.content(
            rx.menu.item(rx.icon("settings", size=16), "Settings",
                         on_select=rx.redirect(routes.SETTINGS)),
            rx.menu.item(rx.icon("book-open", size=16), "API docs",
                         on_select=rx.redirect(routes.API_DOCS, is_external=True)),
            rx.menu.item(rx.color_mode_cond(rx.icon("moon", size=16), rx.icon("sun", size=16)),
                         rx.color_mode_cond("Dark theme", "Light theme"),
                         on_select=rx.toggle_color_mode),
            rx.menu.separator(),
            rx.menu.item(rx.icon("log-out", size=16), "Sign out", color="red",
                         on_select=SessionState.sign_out),
            width="220px",
        ),
    )
