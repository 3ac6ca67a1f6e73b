"""The frame of the public pages (sign in, sign up, password reset)."""

import reflex as rx

from components.layout.brand import logo_mark


def auth_frame(title: str, subtitle: str, *content: rx.Component) -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.hstack(logo_mark("40px"), rx.text("Atelier", size="6", weight="bold"),
                      align="center", spacing="3"),
            rx.card(
                rx.vstack(
                    rx.heading(title, size="6", weight="bold", as_="h1"),
                    rx.text(subtitle, color=rx.color("gray", 11), size="2"),
                    *content,
                    spacing="4", width="100%",
                ),
                size="4", width="100%",
            ),
            rx.text("Your self-hosted design studio", size="1", color=rx.color("gray", 9)),
            spacing="5", align="center", width="100%", max_width="420px",
        ),
        min_height="100vh", padding="24px",
        background=f"radial-gradient(1200px 600px at 10% -10%, {rx.color('violet', 4)}, transparent),"
                   f" radial-gradient(900px 500px at 110% 110%, {rx.color('pink', 3)}, transparent),"
                   f" {rx.color('gray', 1)}",
    )


def field(label: str, name: str, *, type_: str = "text", placeholder: str = "",
          autocomplete: str = "", hint: str | rx.Var = "", required: bool = True,
          max_length: int = 256, default_value: str | rx.Var = "") -> rx.Component:
    return rx.vstack(
        rx.text(label, as_="label", html_for=name, size="2", weight="medium"),
        rx.input(id=name, name=name, type=type_, placeholder=placeholder,
                 auto_complete=autocomplete, required=required, size="3", width="100%",
                 max_length=max_length, default_value=default_value,
                 # A new key when the value arrives after the page: an uncontrolled input keeps its first one.
                 key=default_value if isinstance(default_value, rx.Var) else None),
        rx.cond(hint != "", rx.text(hint, size="1", color=rx.color("gray", 10))),
        spacing="1", width="100%",
    )


def error_callout(message: rx.Var) -> rx.Component:
    return rx.cond(
        message != "",
        rx.callout(message, icon="triangle-alert", color_scheme="red", role="alert", width="100%"),
    )


def notice_callout(message: rx.Var) -> rx.Component:
    return rx.cond(
        message != "",
        rx.callout(message, icon="info", color_scheme="violet", role="status", width="100%"),
    )
