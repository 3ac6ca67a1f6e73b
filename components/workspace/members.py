"""The members table: who is in the workspace, their role (a select for managers) and removal."""

import reflex as rx

from app.services.workspaces import permissions
from components.layout.confirm import confirm_action
from components.layout.text_wrap import WRAP_CLASS
from components.workspace.roles import role_badge
from state.session import SessionState
from state.workspace import WorkspaceState


def _role_cell(member: rx.Var) -> rx.Component:
    # Owners change only by transfer, and nobody changes their own role here.
    editable = SessionState.allowed["members.manage"] & (member["role"] != "owner") & (member["is_me"] == "")
    return rx.cond(
        editable,
        rx.select.root(
            rx.select.trigger(aria_label="Role of " + member["email"], variant="soft", min_width="110px"),
            rx.select.content(*[rx.select.item(permissions.ROLE_LABELS[r], value=r) for r in permissions.ASSIGNABLE]),
            value=member["role"], size="1",
            on_change=lambda role: WorkspaceState.change_role(member["user_id"], role),
        ),
        role_badge(member["role"], member["role_label"], size="2"),
    )


def _remove_cell(member: rx.Var) -> rx.Component:
    can_remove = SessionState.allowed["members.manage"] & (member["role"] != "owner") & (member["is_me"] == "")
    return rx.cond(
        can_remove,
        confirm_action(
            rx.button(rx.icon("user-minus", size=14), "Remove", size="1", variant="soft", color_scheme="red"),
            title="Remove " + member["email"] + "?",
            description="They lose access to this workspace at once: their sessions here end and their API "
                        "tokens for it stop working. Their work stays with the team.",
            confirm_label="Remove", on_confirm=WorkspaceState.remove(member["user_id"]),
        ),
    )


def _member_row(member: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.vstack(
            rx.hstack(rx.text(rx.cond(member["name"] != "", member["name"], member["email"]), weight="medium",
                              class_name=WRAP_CLASS),
                      rx.cond(member["is_me"] != "", rx.badge("you", variant="outline", size="1", color_scheme="gray")),
                      spacing="2", align="center"),
            rx.cond(member["name"] != "", rx.text(member["email"], size="1", color=rx.color("gray", 10),
                                                  class_name=WRAP_CLASS)),
            spacing="0",
        )),
        rx.table.cell(_role_cell(member)),
        rx.table.cell(rx.text(member["joined"], size="2", color=rx.color("gray", 11))),
        rx.table.cell(_remove_cell(member), text_align="right"),
        align="center",
    )


def members_table() -> rx.Component:
    return rx.table.root(
        rx.table.header(rx.table.row(
            *[rx.table.column_header_cell(h) for h in ("Member", "Role", "Joined")],
            rx.table.column_header_cell(""),
        )),
        rx.table.body(rx.foreach(WorkspaceState.members, _member_row)),
        width="100%", aria_label="Members",
    )
