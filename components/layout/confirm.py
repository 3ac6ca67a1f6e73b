"""A destructive action behind a confirmation dialog."""

import reflex as rx


def confirm_action(trigger: rx.Component, *, title: str, description: str, confirm_label: str,
                   on_confirm) -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(trigger),
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(description),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Keep it", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(rx.button(confirm_label, color_scheme="red", on_click=on_confirm)),
                justify="end", spacing="3", margin_top="16px",
            ),
        ),
    )
