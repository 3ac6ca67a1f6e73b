"""The default connection and model per capability, with its price in credits."""

import reflex as rx

from state.admin_ai import AdminAIState

MUTED = rx.color("gray", 10)


def default_row(row: rx.Var) -> rx.Component:
    s = AdminAIState
    capability = row["capability"]
    error = s.default_errors[capability]
    return rx.form(
        rx.grid(
            rx.vstack(rx.text(row["label"], weight="medium", size="2"),
                      rx.cond(row["value"] == "offline", rx.text(row["note"], size="1", color=MUTED)),
                      spacing="1", min_width="0"),
            rx.select.root(
                rx.select.trigger(width="100%", aria_label=row["label"] + " default"),
                rx.select.content(rx.foreach(s.default_options[capability],
                                             lambda o: rx.select.item(o["label"], value=o["value"]))),
                name="choice", default_value=row["value"]),
            rx.hstack(rx.input(name="price", type="number", min=0, max=10000, step=1, default_value=row["price"],
                               aria_label=row["label"] + " price", width="96px"),
                      rx.text("credits", size="1", color=MUTED), align="center", spacing="2"),
            rx.button("Save", type="submit", variant="soft", size="2"),
            columns="minmax(0, 1.3fr) minmax(0, 1.4fr) auto auto", spacing="3", align="center", width="100%",
        ),
        rx.cond(error, rx.text(error, size="1", color=rx.color("red", 11), role="alert", margin_top="6px")),
        # The capability travels in the form: a submit handler cannot see the foreach row.
        rx.el.input(type="hidden", name="capability", value=capability),
        on_submit=s.save_default, key=row["key"], width="100%",
        padding_y="12px", border_bottom=f"1px solid {rx.color('gray', 4)}",
    )


def defaults_section() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Defaults", size="4", as_="h2"),
        rx.text("What each page uses unless the user picks another, and what one unit costs (an image, a "
                "photo analyzed, a deck). Only models a successful test listed can be chosen.", size="2",
                color=rx.color("gray", 11)),
        rx.box(rx.foreach(AdminAIState.defaults, default_row), width="100%"),
        spacing="2", width="100%",
    ), width="100%", size="2")
