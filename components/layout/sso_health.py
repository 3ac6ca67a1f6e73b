"""/admin/health → Single sign-on: each configured provider, its discovery document reachable or not."""

import reflex as rx

from state.admin import AdminHealthState


def _row(provider: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.vstack(rx.text(provider["label"], weight="medium"),
                                rx.code(provider["name"], size="1"), spacing="1")),
        rx.table.cell(provider["kind"]),
        rx.table.cell(rx.badge(rx.cond(provider["state"] == "ok", "up", "down"),
                               color_scheme=rx.cond(provider["state"] == "ok", "green", "red"))),
        rx.table.cell(rx.vstack(
            rx.text(provider["detail"], size="1",
                    color=rx.cond(provider["state"] == "ok", rx.color("gray", 11), rx.color("red", 11))),
            rx.cond(provider["mapping"] != "", rx.text(provider["mapping"], size="1", color=rx.color("gray", 11))),
            spacing="1", max_width="480px")),
    )


def sso_health_section() -> rx.Component:
    return rx.fragment(
        rx.heading("Single sign-on", size="4", margin_top="24px", margin_bottom="8px"),
        rx.cond(
            AdminHealthState.sso_providers.length() > 0,
            rx.card(
                rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                                   ("Provider", "Kind", "State", "Detail")])),
                    rx.table.body(rx.foreach(AdminHealthState.sso_providers, _row)),
                    width="100%",
                ),
                size="1", width="100%",
            ),
            rx.text("No sign-in providers: people sign in with a password. Set SSO_PROVIDERS to add some.",
                    size="2", color=rx.color("gray", 11)),
        ),
        rx.text("A provider that is down does not make Atelier unready: password sign-in still works.",
                size="1", color=rx.color("gray", 10), margin_top="8px"),
    )
