"""Ownership, leaving and deleting: the irreversible end of the team page."""

import reflex as rx

from components.layout.confirm import confirm_action
from state.session import SessionState
from state.workspace import WorkspaceState


def _row(title: str, text: str | rx.Var, action: rx.Component) -> rx.Component:
    return rx.flex(
        rx.vstack(rx.text(title, weight="bold", size="2"), rx.text(text, size="2", color=rx.color("gray", 11)),
                  spacing="1", flex="1", min_width="240px"),
        action,
        gap="4", align="center", wrap="wrap", width="100%",
    )


def transfer_row() -> rx.Component:
    return _row(
        "Transfer ownership",
        "The member you choose becomes the owner; you stay on as an admin.",
        rx.hstack(
            rx.select.root(
                rx.select.trigger(placeholder="Choose a member", aria_label="New owner", min_width="180px"),
                rx.select.content(rx.foreach(
                    WorkspaceState.transfer_choices,
                    lambda m: rx.select.item(rx.cond(m["name"] != "", m["name"], m["email"]), value=m["user_id"]),
                )),
                value=WorkspaceState.transfer_to, on_change=WorkspaceState.set_transfer_to,
            ),
            confirm_action(
                rx.button("Transfer", variant="soft", color_scheme="orange", disabled=WorkspaceState.transfer_to == ""),
                title="Transfer ownership to " + WorkspaceState.transfer_label + "?",
                description="They can then delete the workspace or hand it on. You become an admin.",
                confirm_label="Transfer", on_confirm=WorkspaceState.transfer,
            ),
            spacing="2",
        ),
    )


def leave_row() -> rx.Component:
    return _row(
        "Leave this workspace",
        "You lose access to its work at once. An owner or admin can invite you again.",
        confirm_action(rx.button(rx.icon("log-out", size=14), "Leave", variant="soft", color_scheme="red"),
                       title="Leave " + SessionState.workspace_name + "?",
                       description="Your sessions and API tokens for this workspace stop working.",
                       confirm_label="Leave", on_confirm=WorkspaceState.leave),
    )


def delete_row() -> rx.Component:
    return _row(
        "Delete this workspace",
        "Its pictures, batches, generations, runs, decks, credits and jobs are deleted with their files.",
        rx.dialog.root(
            rx.dialog.trigger(rx.button(rx.icon("trash-2", size=14), "Delete workspace", color_scheme="red")),
            rx.dialog.content(
                rx.dialog.title("Delete " + SessionState.workspace_name + "?"),
                rx.dialog.description(
                    "Everything the team made here is deleted, files included. This cannot be undone.",
                    size="2", color=rx.color("gray", 11)),
                rx.vstack(
                    rx.text("Type ", rx.code(SessionState.workspace_name), " to confirm.", size="2",
                            as_="label", html_for="delete-confirm"),
                    rx.input(id="delete-confirm", value=WorkspaceState.delete_typed,
                             on_change=WorkspaceState.set_delete_typed, auto_complete="off", size="3",
                             width="100%"),
                    rx.hstack(
                        rx.dialog.close(rx.button("Keep it", variant="soft", color_scheme="gray")),
                        rx.button("Delete for good", color_scheme="red", on_click=WorkspaceState.delete_workspace,
                                  disabled=WorkspaceState.delete_typed != SessionState.workspace_name),
                        justify="end", spacing="3", width="100%",
                    ),
                    spacing="3", margin_top="16px", width="100%",
                ),
                max_width="460px",
            ),
        ),
    )


def danger_zone() -> rx.Component:
    owner = SessionState.workspace_role == "owner"
    return rx.card(
        rx.vstack(
            rx.heading("Ownership and leaving", size="4", as_="h2"),
            rx.cond(SessionState.allowed["workspace.transfer"], transfer_row()),
            rx.cond(~owner, leave_row()),
            rx.cond(SessionState.allowed["workspace.delete"], rx.fragment(rx.separator(size="4"), delete_row())),
            spacing="4", width="100%",
        ),
        size="3", width="100%", border=f"1px solid {rx.color('red', 6)}",
    )
