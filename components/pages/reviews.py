"""The Review inbox: what waits for the signed-in reviewer's approval, oldest first."""

import reflex as rx

from components.layout.shell import app_shell, page_header
from state.reviews import ReviewsState as S


def _row(item: dict) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(item["template"], href=item["link"], weight="medium")),
        rx.table.cell(rx.badge(item["kind"], variant="soft", color_scheme="gray")),
        rx.table.cell("v" + item["number"]),
        rx.table.cell(item["stage"] + " · " + item["progress"]),
        rx.table.cell(item["author"]),
        rx.table.cell(item["submitted"]),
        rx.table.cell(rx.link(rx.button("Review", size="1"), href=item["link"])),
        class_name="inbox-row",
    )


def _table() -> rx.Component:
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                       ("Template", "Kind", "Version", "Stage", "Author", "Sent", "")])),
        rx.table.body(rx.foreach(S.items, _row)),
        width="100%", variant="surface", id="review-inbox",
    )


def reviews_page() -> rx.Component:
    return app_shell(
        page_header("Reviews", "Template versions waiting for your approval in this workspace."),
        rx.cond(~S.loaded, rx.spinner(),
                rx.cond(~S.allowed,
                        rx.callout("Your role here does not review: owners, admins and approvers do.", icon="info"),
                        rx.cond(S.items.length() == 0,
                                rx.center(rx.vstack(rx.icon("inbox", size=32, color=rx.color("gray", 9)),
                                                    rx.text("Nothing waits for you.", color=rx.color("gray", 11)),
                                                    align="center"), padding="48px", id="inbox-empty"),
                                _table()))),
    )
