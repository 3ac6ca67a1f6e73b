"""Admin pages: users, the development outbox, system health."""

import reflex as rx

from components.layout.shell import app_shell, page_header
from state.admin import AdminHealthState, AdminOutboxState, AdminUsersState


def user_row(user: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.vstack(rx.text(user["email"], weight="medium"),
                                rx.text(user["name"], size="1", color=rx.color("gray", 10)),
                                spacing="0")),
        rx.table.cell(
            rx.select(["admin", "member"], value=user["role"], size="1",
                      on_change=lambda role: AdminUsersState.set_role(user["id"], role),
                      aria_label="Role"),
        ),
        rx.table.cell(rx.cond(user["active"] == "yes",
                              rx.badge("active", color_scheme="green"),
                              rx.badge("disabled", color_scheme="red"))),
        rx.table.cell(user["last_login"]),
        rx.table.cell(user["created"]),
        rx.table.cell(
            rx.button(rx.cond(user["active"] == "yes", "Disable", "Enable"), size="1",
                      variant="soft", color_scheme=rx.cond(user["active"] == "yes", "red", "green"),
                      on_click=AdminUsersState.toggle_active(user["id"], user["active"])),
        ),
    )


def admin_users_page() -> rx.Component:
    return app_shell(
        page_header("Users", "Everyone with an account on this Atelier.",
                    rx.badge(AdminUsersState.total.to_string() + " accounts", size="2", variant="soft")),
        rx.input(rx.input.slot(rx.icon("search", size=16)), placeholder="Search by email or name",
                 value=AdminUsersState.query, on_change=AdminUsersState.handle_search.debounce(300),
                 size="3", width="100%", max_width="420px", margin_bottom="16px",
                 aria_label="Search users"),
        rx.card(
            rx.table.root(
                rx.table.header(rx.table.row(
                    *[rx.table.column_header_cell(h) for h in
                      ("User", "Role", "Status", "Last sign-in", "Joined", "")]
                )),
                rx.table.body(rx.foreach(AdminUsersState.users, user_row)),
                width="100%",
            ),
            size="1", width="100%", overflow_x="auto",
        ),
    )


def email_item(email: rx.Var) -> rx.Component:
    return rx.accordion.item(
        header=rx.hstack(
            rx.badge(email["status"], color_scheme=rx.match(email["status"], ("sent", "green"),
                                                            ("failed", "red"), ("pending", "amber"),
                                                            "gray")),
            rx.text(email["subject"], weight="medium"),
            rx.text("→ " + email["to"], color=rx.color("gray", 10), size="2"),
            rx.spacer(),
            rx.text(email["created"], size="1", color=rx.color("gray", 10)),
            align="center", spacing="3", width="100%",
        ),
        content=rx.vstack(
            rx.cond(email["error"] != "", rx.callout(email["error"], color_scheme="red", size="1")),
            rx.code_block(email["body"], language="markdown", wrap_long_lines=True, width="100%"),
            width="100%",
        ),
        value=email["id"],
    )


def admin_outbox_page() -> rx.Component:
    return app_shell(
        page_header("Outbox", "Every email Atelier wrote. Without SMTP settings, mail stays here."),
        rx.cond(
            AdminOutboxState.emails.length() > 0,
            rx.accordion.root(rx.foreach(AdminOutboxState.emails, email_item), collapsible=True,
                              type="single", width="100%", variant="outline"),
            rx.card(rx.text("No email yet.", color=rx.color("gray", 10)), width="100%"),
        ),
    )


def check_row(row: rx.Var) -> rx.Component:
    ok = row[1].to(str).startswith("ok")
    return rx.table.row(
        rx.table.cell(rx.text(row[0], weight="medium", text_transform="capitalize")),
        rx.table.cell(rx.cond(ok, rx.badge("up", color_scheme="green"), rx.badge("down", color_scheme="red"))),
        rx.table.cell(rx.text(row[1], size="2", color=rx.color("gray", 11))),
    )


def admin_health_page() -> rx.Component:
    return app_shell(
        page_header("System health", "The parts Atelier needs to do its work.",
                    rx.button(rx.icon("refresh-cw", size=16), "Check again", variant="soft",
                              on_click=AdminHealthState.load_page)),
        rx.cond(AdminHealthState.ready,
                rx.callout("Everything is up.", icon="circle-check", color_scheme="green",
                           margin_bottom="16px"),
                rx.callout("Something is down.", icon="circle-alert", color_scheme="red",
                           margin_bottom="16px")),
        rx.card(
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in ("Part", "State", "Detail")])),
                rx.table.body(rx.foreach(AdminHealthState.rows, check_row)),
                width="100%",
            ),
            size="1", width="100%",
        ),
    )
