"""The notification bell: unread count, the latest notices (assignments, mentions, decisions), mark read."""

import reflex as rx

from state.notifications import NotificationsState as N


def _notice(n: dict) -> rx.Component:
    return rx.box(
        rx.hstack(rx.cond(n["unread"] == "yes", rx.box(width="8px", height="8px", border_radius="50%",
                                                       background=rx.color("violet", 9), flex_shrink="0")),
                  rx.text(n["title"], size="2", weight=rx.cond(n["unread"] == "yes", "bold", "regular")),
                  align="center", spacing="2"),
        rx.text(n["when"], size="1", color=rx.color("gray", 10)),
        on_click=N.open_notice(n["id"], n["link"]), cursor="pointer", padding="8px", border_radius="6px",
        _hover={"background": rx.color("gray", 3)}, width="100%", class_name="notice",
    )


def notification_bell(where: str = "side") -> rx.Component:
    # The count loads with each page (the shell mounts; once: both bells are mounted, one hidden by the
    # breakpoint), the list when the popover opens.
    return rx.box(rx.popover.root(
        rx.popover.trigger(rx.button(
            rx.icon("bell", size=18),
            rx.cond(N.unread > 0, rx.badge(N.unread, color_scheme="red", variant="solid", radius="full", size="1",
                                           id=f"unread-count-{where}")),
            variant="ghost", color_scheme="gray", aria_label="Notifications", id=f"notification-bell-{where}",
        )),
        rx.popover.content(rx.vstack(
            rx.hstack(rx.text("Notifications", size="2", weight="bold"), rx.spacer(),
                      rx.cond(N.unread > 0, rx.link("Mark all read", size="1", on_click=N.mark_all_read,
                                                    cursor="pointer")), width="100%", align="center"),
            rx.cond(N.items.length() == 0, rx.text("Nothing yet.", size="2", color=rx.color("gray", 10))),
            rx.scroll_area(rx.vstack(rx.foreach(N.items, _notice), spacing="1", width="100%", padding_right="14px"),
                           max_height="360px",
                           type="auto"),
            spacing="2", width="320px",
        ), align="start"),
        on_open_change=N.load_on_open,
    ), on_mount=N.load if where == "side" else None)
