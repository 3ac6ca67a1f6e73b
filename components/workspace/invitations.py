"""Inviting people: the form (email + role, with what the role means) and the pending invitations."""

import reflex as rx

from app.services.workspaces import permissions
from components.layout.auth_card import error_callout
from components.layout.confirm import confirm_action
from components.layout.text_wrap import WRAP_CLASS
from components.workspace.roles import role_badge
from state.workspace import WorkspaceState


def invite_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.flex(
                rx.input(rx.input.slot(rx.icon("mail", size=16)), name="invite_email", id="invite_email",
                         type="email", placeholder="name@studio.com", required=True, max_length=254, size="3",
                         flex="1", min_width="220px", aria_label="Email to invite"),
                rx.select.root(
                    rx.select.trigger(aria_label="Role for the invitation", min_width="130px"),
                    rx.select.content(*[rx.select.item(permissions.ROLE_LABELS[r], value=r)
                                        for r in permissions.ASSIGNABLE]),
                    value=WorkspaceState.invite_role, on_change=WorkspaceState.set_invite_role, size="3",
                ),
                # The click's key rides in the form: a double click sends one email.
                rx.el.input(type="hidden", name="click_key", value=WorkspaceState.click_key),
                rx.button(rx.icon("send", size=16), "Send invitation", type="submit", size="3"),
                gap="3", wrap="wrap", width="100%",
            ),
            rx.text(WorkspaceState.invite_role_help, size="2", color=rx.color("gray", 11)),
            error_callout(WorkspaceState.invite_error),
            spacing="2", width="100%",
        ),
        on_submit=WorkspaceState.invite, reset_on_submit=False, width="100%",
    )


def _invitation_row(invite: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(invite["email"], weight="medium", class_name=WRAP_CLASS)),
        rx.table.cell(role_badge(invite["role"], invite["role_label"], size="2")),
        rx.table.cell(rx.cond(invite["status"] == "expired",
                              rx.badge("expired", color_scheme="red", variant="soft"),
                              rx.text(invite["expires"], size="2", color=rx.color("gray", 11)))),
        rx.table.cell(rx.text(invite["sent"] + "×", size="2", color=rx.color("gray", 11))),
        rx.table.cell(rx.hstack(
            rx.button(rx.icon("rotate-cw", size=14), "Resend", size="1", variant="soft",
                      on_click=WorkspaceState.resend(invite["id"], WorkspaceState.click_key)),
            confirm_action(rx.button(rx.icon("x", size=14), "Revoke", size="1", variant="soft", color_scheme="red"),
                           title="Revoke the invitation to " + invite["email"] + "?",
                           description="Its link stops working at once. You can invite them again later.",
                           confirm_label="Revoke", on_confirm=WorkspaceState.revoke(invite["id"])),
            spacing="2", justify="end",
        )),
        align="center",
    )


def pending_invitations() -> rx.Component:
    return rx.cond(
        WorkspaceState.invitations.length() > 0,
        rx.table.root(
            rx.table.header(rx.table.row(
                *[rx.table.column_header_cell(h) for h in ("Invited", "Role", "Link expires", "Sent", "")]
            )),
            rx.table.body(rx.foreach(WorkspaceState.invitations, _invitation_row)),
            width="100%", aria_label="Pending invitations",
        ),
        rx.text("No invitations waiting.", size="2", color=rx.color("gray", 10)),
    )
