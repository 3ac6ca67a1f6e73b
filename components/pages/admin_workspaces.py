"""/admin/workspaces: every workspace on this Atelier, and accounts waiting for approval."""

import reflex as rx

from components.layout.confirm import confirm_action
from components.layout.shell import app_shell, page_header
from state.admin_workspaces import AdminWorkspacesState


def _kind_badge(kind: rx.Var) -> rx.Component:
    return rx.cond(kind == "team", rx.badge(rx.icon("users", size=12), "team", color_scheme="violet", variant="soft"),
                   rx.badge(rx.icon("user-round", size=12), "personal", color_scheme="gray", variant="soft"))


def _workspace_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row["name"], weight="medium")),
        rx.table.cell(_kind_badge(row["kind"])),
        rx.table.cell(rx.text(row["owners"], size="2")),
        rx.table.cell(row["members"], text_align="right"),
        rx.table.cell(row["storage"], text_align="right", white_space="nowrap"),
        rx.table.cell(row["credits"], text_align="right"),
        rx.table.cell(rx.text(row["created"], size="2", color=rx.color("gray", 11))),
        align="center",
    )


def _pending_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.vstack(rx.text(row["email"], weight="medium"),
                                rx.text(row["name"], size="1", color=rx.color("gray", 10)), spacing="0")),
        rx.table.cell(row["created"]),
        rx.table.cell(rx.hstack(
            rx.button(rx.icon("check", size=14), "Approve", size="1", color_scheme="green", variant="soft",
                      on_click=AdminWorkspacesState.approve(row["id"])),
            confirm_action(rx.button("Turn away", size="1", color_scheme="red", variant="soft"),
                           title="Turn " + row["email"] + " away?",
                           description="The account stays disabled; you can enable it later from Users.",
                           confirm_label="Turn away", on_confirm=AdminWorkspacesState.reject(row["id"])),
            spacing="2", justify="end",
        )),
        align="center",
    )


def pending_card() -> rx.Component:
    return rx.cond(
        AdminWorkspacesState.pending.length() > 0,
        rx.card(
            rx.vstack(
                rx.hstack(rx.icon("user-check", size=18), rx.heading("Waiting for approval", size="4", as_="h2"),
                          rx.badge(AdminWorkspacesState.pending.length().to_string(), color_scheme="amber"),
                          align="center", spacing="2"),
                rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h)
                                                   for h in ("Account", "Signed up", "")])),
                    rx.table.body(rx.foreach(AdminWorkspacesState.pending, _pending_row)),
                    width="100%",
                ),
                spacing="3", width="100%",
            ),
            size="2", width="100%", margin_bottom="20px",
        ),
    )


def admin_workspaces_page() -> rx.Component:
    headers = [("Workspace", "left"), ("Kind", "left"), ("Owner", "left"), ("Members", "right"),
               ("Storage", "right"), ("Credits", "right"), ("Created", "left")]
    return app_shell(
        page_header("Workspaces", "Every personal and team workspace, with what it holds.",
                    rx.badge(AdminWorkspacesState.total.to_string() + " workspaces", size="2", variant="soft")),
        pending_card(),
        rx.hstack(
            rx.input(rx.input.slot(rx.icon("search", size=16)), placeholder="Search by name",
                     value=AdminWorkspacesState.query, on_change=AdminWorkspacesState.handle_search.debounce(300),
                     size="3", flex="1", max_width="420px", aria_label="Search workspaces"),
            rx.segmented_control.root(
                rx.segmented_control.item("All", value="all"),
                rx.segmented_control.item("Teams", value="team"),
                rx.segmented_control.item("Personal", value="personal"),
                value=rx.cond(AdminWorkspacesState.kind == "", "all", AdminWorkspacesState.kind),
                on_change=AdminWorkspacesState.handle_kind, size="2",
            ),
            spacing="3", align="center", wrap="wrap", margin_bottom="16px", width="100%",
        ),
        rx.card(
            rx.cond(
                AdminWorkspacesState.workspaces.length() > 0,
                rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, text_align=a) for h, a in headers])),
                    rx.table.body(rx.foreach(AdminWorkspacesState.workspaces, _workspace_row)),
                    width="100%", aria_label="Workspaces",
                ),
                rx.text("No workspace matches.", color=rx.color("gray", 10), padding="12px"),
            ),
            size="1", width="100%", overflow_x="auto",
        ),
    )
