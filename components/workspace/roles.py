"""How a workspace role looks wherever it is shown."""

import reflex as rx

ROLE_COLOURS = (("owner", "violet"), ("admin", "blue"), ("editor", "green"), ("approver", "amber"))


def role_badge(role: rx.Var, label: rx.Var, size: str = "1") -> rx.Component:
    return rx.badge(label, color_scheme=rx.match(role, *ROLE_COLOURS, "gray"), variant="soft", size=size,
                    flex_shrink="0")


def workspace_mark(name: rx.Var, kind: rx.Var, size: str = "28px") -> rx.Component:
    """A small square with the workspace's initial (a person icon for the personal one)."""
    return rx.center(
        rx.cond(kind == "personal", rx.icon("user-round", size=15),
                rx.text(name.to(str)[0].upper(), size="2", weight="bold")),
        width=size, height=size, min_width=size, border_radius="8px",
        background=rx.cond(kind == "personal", rx.color("gray", 4), rx.color("violet", 4)),
        color=rx.cond(kind == "personal", rx.color("gray", 11), rx.color("violet", 11)),
        aria_hidden="true",
    )
