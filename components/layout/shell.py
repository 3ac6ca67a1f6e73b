"""The signed-in app shell: sidebar on wide screens, a top bar with a drawer on small ones."""

import reflex as rx

from components.layout.bell import notification_bell
from components.layout.brand import brand
from components.layout.nav import nav_links
from components.layout.user_menu import user_menu
from components.workspace.switcher import create_team_dialog, workspace_switcher
from state.session import SessionState

SIDEBAR_WIDTH = "248px"


def sidebar() -> rx.Component:
    return rx.el.aside(rx.vstack(
        rx.hstack(brand(), rx.spacer(), notification_bell("side"), padding="16px 12px 8px", width="100%",
                  align="center"),
        rx.box(workspace_switcher(), width="100%", padding_x="8px"),
        rx.scroll_area(nav_links(), type="auto", flex="1", padding_x="8px"),
        rx.separator(),
        rx.box(user_menu(), width="100%", padding="8px"),
        width=SIDEBAR_WIDTH, height="100vh", position="fixed", top="0", left="0",
        background=rx.color("gray", 2), border_right=f"1px solid {rx.color('gray', 4)}",
        display=["none", "none", "flex"], spacing="2",
    ))


def mobile_bar() -> rx.Component:
    return rx.hstack(
        rx.drawer.root(
            rx.drawer.trigger(rx.icon_button(rx.icon("menu"), variant="ghost", aria_label="Open menu")),
            rx.drawer.overlay(),
            rx.drawer.portal(
                rx.drawer.content(
                    rx.vstack(brand(), workspace_switcher(), nav_links(), rx.spacer(), user_menu(),
                              padding="16px", height="100%", width="100%"),
                    width="280px", height="100%", top="0", left="0",
                    background=rx.color("gray", 2),
                ),
            ),
            direction="left",
        ),
        brand(),
        rx.spacer(),
        notification_bell("top"),
        display=["flex", "flex", "none"], padding="12px 16px", align="center", spacing="3",
        border_bottom=f"1px solid {rx.color('gray', 4)}", position="sticky", top="0",
        background=rx.color("gray", 1), z_index="10", width="100%",
    )


def loading() -> rx.Component:
    return rx.center(rx.spinner(size="3"), height="60vh", aria_label="Loading")


def page_header(title: str, subtitle: str = "", *actions: rx.Component) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.heading(title, size="7", weight="bold", letter_spacing="-0.02em"),
            rx.cond(subtitle != "", rx.text(subtitle, color=rx.color("gray", 11), size="3")),
            spacing="1",
        ),
        rx.spacer(),
        *actions,
        width="100%", align="end", wrap="wrap", spacing="4", margin_bottom="24px",
    )


def app_shell(*content: rx.Component, wide: bool = False) -> rx.Component:
    """A private page: nothing but a spinner shows until the server confirms the session. `wide`: an editor
    that wants more than a list page's 1200px."""
    return rx.box(
        rx.cond(
            SessionState.signed_in,
            rx.fragment(
                sidebar(),
                rx.box(
                    mobile_bar(),
                    rx.el.main(rx.box(*content, padding=["20px", "28px", "40px"],
                                      max_width="1480px" if wide else "1200px", margin_x="auto", width="100%")),
                    margin_left=["0", "0", SIDEBAR_WIDTH],
                ),
                create_team_dialog(),
            ),
            loading(),
        ),
        min_height="100vh", background=rx.color("gray", 1),
    )
