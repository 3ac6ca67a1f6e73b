"""What each role may do, drawn from the one permission matrix (so the page cannot drift from the checks)."""

import reflex as rx

from app.services.workspaces import permissions

# How each matrix action reads to people; an action missing here shows its key rather than disappearing.
ACTION_LABELS = {
    "work.read": "See and download the team's work",
    "assets.write": "Upload, edit and delete library pictures",
    "rename.write": "Run bulk renames",
    "generate.write": "Generate images",
    "workflows.write": "Run workflows, save recipes",
    "slides.write": "Make and edit slide decks",
    "jobs.cancel": "Cancel running jobs",
    "approvals.review": "Review and approve submitted work",
    "members.read": "See the members",
    "members.manage": "Invite, remove, change roles",
    "workspace.manage": "Rename the workspace",
    "workspace.transfer": "Transfer ownership",
    "workspace.delete": "Delete the workspace",
    "credits.read": "See the credit balance",
}


def _mark(allowed: bool) -> rx.Component:
    if allowed:
        return rx.icon("check", size=16, color=rx.color("green", 10), aria_label="allowed")
    return rx.text("—", color=rx.color("gray", 8), aria_label="not allowed")


def permissions_table() -> rx.Component:
    header = rx.table.row(
        rx.table.column_header_cell("Can…"),
        *[rx.table.column_header_cell(permissions.ROLE_LABELS[role], text_align="center")
          for role in permissions.ROLES],
    )
    rows = [
        rx.table.row(
            rx.table.row_header_cell(rx.text(ACTION_LABELS.get(action, action), size="2", weight="regular")),
            *[rx.table.cell(rx.center(_mark(ok))) for ok in allowed],
        )
        for action, _scope, allowed in permissions.matrix_rows()
        # Actions on one's own account (feat/scopes' account.*) are the same for every role: not a team matter.
        if not action.startswith("account.")
    ]
    return rx.table.root(rx.table.header(header), rx.table.body(*rows), size="1", width="100%",
                         aria_label="What each role can do")


def role_help_list() -> rx.Component:
    """One line per role, for the personal page and the invite form's neighbourhood."""
    return rx.vstack(
        *[rx.hstack(rx.text(permissions.ROLE_LABELS[role], weight="bold", size="2", min_width="80px"),
                    rx.text(permissions.ROLE_HELP[role], size="2", color=rx.color("gray", 11)),
                    spacing="3", align="baseline") for role in permissions.ROLES],
        spacing="2", width="100%",
    )
