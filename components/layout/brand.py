"""The Atelier mark and word."""

import reflex as rx


def logo_mark(size: str = "32px") -> rx.Component:
    return rx.box(
        rx.text("A", weight="bold", color="white", size="4"),
        width=size, height=size, border_radius="10px",
        background="linear-gradient(135deg, var(--violet-9), var(--pink-9))",
        display="flex", align_items="center", justify_content="center",
        box_shadow="0 4px 14px -4px var(--violet-a8)", flex_shrink="0",
        aria_hidden="true",
    )


def brand() -> rx.Component:
    return rx.hstack(
        logo_mark(),
        rx.text("Atelier", size="5", weight="bold", letter_spacing="-0.02em"),
        align="center", spacing="2",
    )
