"""Admin pages: users, the development outbox, system health."""

import reflex as rx

from app import routes
from components.layout.numbers import as_number
from components.layout.shell import app_shell, page_header
from components.layout.sso_health import sso_health_section
from components.layout.text_wrap import WRAP_CLASS
from state.admin import AdminAuditState, AdminHealthState, AdminJobsState, AdminOutboxState, AdminUsersState


def user_row(user: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.vstack(rx.text(user["email"], weight="medium", class_name=WRAP_CLASS),
                                rx.text(user["name"], size="1", color=rx.color("gray", 10), class_name=WRAP_CLASS),
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
        rx.table.cell(rx.hstack(rx.text(user["credits"]), grant_dialog(user), align="center", spacing="2")),
        rx.table.cell(
            rx.button(rx.cond(user["active"] == "yes", "Disable", "Enable"), size="1",
                      variant="soft", color_scheme=rx.cond(user["active"] == "yes", "red", "green"),
                      on_click=AdminUsersState.toggle_active(user["id"], user["active"])),
        ),
    )


def grant_dialog(user: rx.Var) -> rx.Component:
    # Open from state, not rx.dialog.close around Record: closing on click dropped a refused grant's
    # error and the typed values; it closes once the grant is recorded.
    return rx.dialog.root(
        rx.dialog.trigger(rx.icon_button(rx.icon("plus", size=14), size="1", variant="soft",
                                         aria_label="Grant credits")),
        rx.dialog.content(
            rx.dialog.title("Grant or adjust credits"),
            rx.dialog.description(user["email"] + " · balance " + user["credits"], size="2",
                                  color=rx.color("gray", 11)),
            rx.form(
                rx.vstack(
                    # A plain hidden input: Radix's text field draws an empty box even for type=hidden.
                    rx.el.input(type="hidden", name="user_id", value=user["id"]),
                    rx.vstack(rx.text("Credits", size="2", weight="medium"),
                              rx.input(name="amount", type="number", placeholder="100, or -20 to take back",
                                       required=True, aria_label="Credits", width="100%"),
                              spacing="1", width="100%"),
                    rx.vstack(rx.text("Reason", size="2", weight="medium"),
                              rx.input(name="reason", placeholder="Kept in the ledger and the audit log",
                                       required=True, max_length=300, aria_label="Reason", width="100%"),
                              spacing="1", width="100%"),
                    rx.cond(AdminUsersState.grant_error != "",
                            rx.callout(AdminUsersState.grant_error, icon="triangle-alert", color_scheme="red",
                                       size="1", role="alert", width="100%")),
                    rx.hstack(rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray",
                                                        type="button")),
                              rx.button("Record", type="submit"), justify="end", spacing="3",
                              width="100%", margin_top="4px"),
                    spacing="3", margin_top="12px", width="100%",
                ),
                on_submit=AdminUsersState.grant_credits, width="100%",
            ),
            max_width="420px",
        ),
        open=AdminUsersState.grant_user_id == user["id"],
        on_open_change=lambda value: AdminUsersState.set_grant_open(user["id"], value),
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
                      ("User", "Role", "Status", "Last sign-in", "Joined", "Credits (personal)", "")]
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
        rx.heading("AI connections", size="4", margin_top="24px", margin_bottom="8px"),
        rx.cond(
            AdminHealthState.connections.length() > 0,
            rx.card(
                rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                                   ("Connection", "Kind", "State", "Latency", "Detail")])),
                    rx.table.body(rx.foreach(AdminHealthState.connections, connection_row)),
                    width="100%",
                ),
                size="1", width="100%",
            ),
            rx.text("No AI connections: every feature uses its offline engine. ",
                    rx.link("Connect a model", href=routes.ADMIN_AI), size="2", color=rx.color("gray", 11)),
        ),
        rx.text("AI connections are reported here but do not make Atelier unready: work falls back to, or "
                "offers, the offline engines.", size="1", color=rx.color("gray", 10), margin_top="8px"),
        sso_health_section(),
    )


def connection_row(conn: rx.Var) -> rx.Component:
    colour = rx.match(conn["state"], ("ok", "green"), ("down", "red"), ("disabled", "gray"), "amber")
    return rx.table.row(
        rx.table.cell(rx.text(conn["name"], weight="medium")),
        rx.table.cell(conn["preset"]),
        rx.table.cell(rx.badge(conn["state"], color_scheme=colour)),
        rx.table.cell(conn["latency"]),
        rx.table.cell(rx.text(conn["error"], " ", conn["breaker"], size="1",
                              color=rx.cond(conn["state"] == "down", rx.color("red", 11), rx.color("gray", 11)),
                              max_width="420px")),
    )


def status_badge(status: rx.Var) -> rx.Component:
    return rx.badge(status, color_scheme=rx.match(status, ("succeeded", "green"), ("failed", "red"),
                                                  ("running", "blue"), ("queued", "amber"), "gray"))


def job_row(job: rx.Var) -> rx.Component:
    active = (job["status"] == "queued") | (job["status"] == "running")
    return rx.table.row(
        rx.table.cell(rx.code(job["short"]), title=job["id"]),
        rx.table.cell(job["kind"]),
        rx.table.cell(job["owner"]),
        rx.table.cell(status_badge(job["status"])),
        rx.table.cell(rx.progress(value=as_number(job["progress"]), width="80px")),
        rx.table.cell(rx.text(rx.cond(job["error"] != "", job["error"], job["message"]), size="1",
                              color=rx.cond(job["error"] != "", rx.color("red", 11), rx.color("gray", 11)),
                              max_width="320px")),
        rx.table.cell(job["attempts"]),
        rx.table.cell(job["created"]),
        rx.table.cell(rx.cond(active,
                              rx.button("Cancel", size="1", variant="soft", color_scheme="red",
                                        on_click=AdminJobsState.cancel_job(job["id"])),
                              rx.cond((job["status"] == "failed") | (job["status"] == "canceled"),
                                      rx.button("Retry", size="1", variant="soft",
                                                on_click=AdminJobsState.retry_job(job["id"]))))),
    )


def depth_card(item: rx.Var) -> rx.Component:
    return rx.card(rx.vstack(rx.text(item[0], size="1", color=rx.color("gray", 10), text_transform="uppercase"),
                             rx.text(item[1], size="6", weight="bold"), spacing="0"), size="1")


def admin_jobs_page() -> rx.Component:
    return app_shell(
        page_header("Jobs", "Everything running in the background, on every worker.",
                    rx.button(rx.icon("refresh-cw", size=16), "Refresh", variant="soft",
                              on_click=AdminJobsState.load_page)),
        rx.grid(rx.foreach(AdminJobsState.depths, depth_card),
                rx.card(rx.vstack(rx.text("LIVE WORKERS", size="1", color=rx.color("gray", 10)),
                                  rx.text(AdminJobsState.workers.length(), size="6", weight="bold"), spacing="0"),
                        size="1"),
                columns=rx.breakpoints(initial="2", md="4"), spacing="3", width="100%", margin_bottom="16px"),
        rx.hstack(rx.select(["all", "queued", "running", "succeeded", "failed", "canceled"],
                            value=AdminJobsState.status_filter, on_change=AdminJobsState.handle_status_filter,
                            aria_label="Filter by status"),
                  rx.select(AdminJobsState.kinds, value=rx.cond(AdminJobsState.kind_filter == "", "all",
                                                                AdminJobsState.kind_filter),
                            on_change=AdminJobsState.handle_kind_filter, aria_label="Filter by kind"),
                  rx.text(AdminJobsState.total.to_string() + " jobs", color=rx.color("gray", 10), size="2"),
                  align="center", spacing="3", margin_bottom="12px"),
        rx.card(
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                               ("Job", "Kind", "Workspace", "Status", "Progress", "Message",
                                                "Tries", "Created", "")])),
                rx.table.body(rx.foreach(AdminJobsState.rows, job_row)),
                width="100%",
            ),
            size="1", width="100%", overflow_x="auto",
        ),
        rx.heading("Workers", size="4", margin_top="24px", margin_bottom="8px", as_="h2"),
        rx.card(
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                               ("Name", "State", "Current job", "Last heartbeat")])),
                rx.table.body(rx.foreach(AdminJobsState.workers, lambda w: rx.table.row(
                    rx.table.cell(rx.code(w["name"])), rx.table.cell(w["state"]), rx.table.cell(w["job"]),
                    rx.table.cell(w["heartbeat"])))),
                width="100%",
            ),
            size="1", width="100%", overflow_x="auto",
        ),
    )


def admin_audit_page() -> rx.Component:
    return app_shell(
        page_header("Audit log", "Admin actions and security events, newest first."),
        rx.card(
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                               ("When", "Actor", "Action", "Target", "IP", "Detail")])),
                rx.table.body(rx.foreach(AdminAuditState.events, lambda e: rx.table.row(
                    rx.table.cell(e["at"]), rx.table.cell(e["actor"]), rx.table.cell(rx.code(e["action"])),
                    rx.table.cell(e["target"]), rx.table.cell(e["ip"]), rx.table.cell(e["detail"])))),
                width="100%",
            ),
            size="1", width="100%", overflow_x="auto",
        ),
    )
