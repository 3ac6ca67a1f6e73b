"""The workspace switcher at the top of the sidebar: where this browser acts, and the way to another."""

import reflex as rx

from app import routes
from components.workspace.roles import role_badge, workspace_mark
from state.session import SessionState
from state.workspace_switch import SwitcherState


def _entry(row: rx.Var) -> rx.Component:
    current = row["id"] == SessionState.workspace_id.to_string()
    return rx.menu.item(
        rx.hstack(
            workspace_mark(row["name"], row["kind"], size="24px"),
            rx.text(row["name"], size="2", weight=rx.cond(current, "bold", "regular"), overflow="hidden",
                    text_overflow="ellipsis", white_space="nowrap", flex="1", min_width="0", max_width="170px"),
            role_badge(row["role"], row["role_label"]),
            rx.cond(current, rx.icon("check", size=14, flex_shrink="0"), rx.box(width="14px", flex_shrink="0")),
            align="center", spacing="2", flex="1", min_width="0",
        ),
        on_select=SwitcherState.handle_switch(row["id"]),
        aria_current=rx.cond(current, "true", "false"),
        height="36px",
    )


def workspace_switcher() -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(
            rx.button(
                workspace_mark(SessionState.workspace_name, SessionState.workspace_kind),
                rx.vstack(
                    rx.text(SessionState.workspace_name, size="2", weight="medium", overflow="hidden",
                            text_overflow="ellipsis", white_space="nowrap", max_width="140px"),
                    rx.text(SessionState.workspace_role_label, size="1", color=rx.color("gray", 10)),
                    spacing="0", align="start", flex="1",
                ),
                rx.icon("chevrons-up-down", size=14, color=rx.color("gray", 10)),
                variant="surface", color_scheme="gray", size="3", width="100%", height="auto",
                justify_content="start", padding="6px 8px", gap="10px", text_align="left",
                aria_label="Switch workspace",
            ),
        ),
        rx.menu.content(
            rx.text("Workspaces", size="1", weight="bold", color=rx.color("gray", 10), text_transform="uppercase",
                    letter_spacing="0.06em", padding="4px 8px"),
            rx.foreach(SessionState.workspaces, _entry),
            rx.menu.separator(),
            rx.menu.item(rx.icon("users", size=16), "Team & members", on_select=rx.redirect(routes.WORKSPACE)),
            rx.menu.item(rx.icon("plus", size=16), "Create team workspace",
                         on_select=SwitcherState.set_create_open(True)),
            # Grows with a long name (up to the name's own cap) rather than scrolling sideways.
            min_width="264px",
        ),
    )


def create_team_dialog() -> rx.Component:
    """Rendered once in the shell (not in the switcher: the sidebar and the mobile drawer both hold one)."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Create a team workspace"),
            rx.dialog.description("A shared library, credits and work for a team. You will be its owner "
                                  "and can invite people next.", size="2", color=rx.color("gray", 11)),
            rx.form(
                rx.vstack(
                    rx.vstack(rx.text("Name", size="2", weight="medium", as_="label", html_for="team-name"),
                              rx.input(name="name", id="team-name", placeholder="e.g. Brand studio",
                                       max_length=80, required=True, size="3", width="100%", auto_focus=True),
                              spacing="1", width="100%"),
                    rx.cond(SwitcherState.create_error != "",
                            rx.callout(SwitcherState.create_error, icon="triangle-alert", color_scheme="red",
                                       role="alert", width="100%")),
                    rx.hstack(rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray",
                                                        type="button")),
                              # The click's key rides in the form: a double click makes one workspace.
                              rx.el.input(type="hidden", name="click_key", value=SwitcherState.click_key),
                              rx.button("Create workspace", type="submit"),
                              justify="end", spacing="3", width="100%"),
                    spacing="4", margin_top="16px", width="100%",
                ),
                on_submit=SwitcherState.create_team, reset_on_submit=False, width="100%",
            ),
            max_width="440px",
        ),
        open=SwitcherState.create_open, on_open_change=SwitcherState.set_create_open,
    )
