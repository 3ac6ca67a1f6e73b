"""The generation gallery: filters, image cards and the detail dialog with its actions."""

import reflex as rx

from app import routes
from components.layout.confirm import confirm_action
from components.layout.numbers import count_of
from state.generate import GenerateState


def gallery_card(card: rx.Var) -> rx.Component:
    return rx.box(
        rx.image(src=card["thumb"], alt=card["prompt"], width="100%", height="100%", object_fit="cover",
                 loading="lazy"),
        rx.cond(card["favourite"] == "yes",
                rx.box(rx.icon("star", size=14, fill="currentColor"), position="absolute", top="8px", right="8px",
                       color=rx.color("amber", 9), background="rgba(0,0,0,.45)", border_radius="999px",
                       padding="4px", line_height="0")),
        rx.box(rx.text(card["prompt"], size="1", weight="medium", color="white", overflow="hidden",
                       text_overflow="ellipsis", white_space="nowrap"),
               position="absolute", bottom="0", left="0", right="0", padding="24px 8px 6px",
               background="linear-gradient(transparent, rgba(0,0,0,0.7))"),
        position="relative", aspect_ratio="1", border_radius="12px", overflow="hidden", cursor="pointer",
        border=f"1px solid {rx.color('gray', 4)}",
        _hover={"transform": "translateY(-2px)", "box_shadow": "0 8px 20px -8px rgba(0,0,0,.35)"},
        transition="transform .15s, box-shadow .15s", on_click=GenerateState.open_image(card["id"]),
        role="button", tab_index=0, aria_label="Open " + card["prompt"], class_name="gallery-card",
    )


def filters() -> rx.Component:
    s = GenerateState
    return rx.hstack(
        rx.select.root(
            rx.select.trigger(aria_label="Filter by provider"),
            rx.select.content(rx.select.item("All providers", value="all"),
                              rx.foreach(s.provider_options, lambda p: rx.select.item(p["label"], value=p["name"]))),
            value=s.filter_provider, on_change=s.handle_filter_provider),
        rx.select.root(
            rx.select.trigger(aria_label="Filter by style"),
            rx.select.content(rx.select.item("All styles", value="all"),
                              rx.foreach(s.styles, lambda st: rx.select.item(st["name"], value=st["key"]))),
            value=s.filter_style, on_change=s.handle_filter_style),
        rx.select.root(
            rx.select.trigger(aria_label="Filter by date"),
            rx.select.content(rx.select.item("Any time", value="all"), rx.select.item("Last 24 hours", value="today"),
                              rx.select.item("Last 7 days", value="week"),
                              rx.select.item("Last 30 days", value="month")),
            value=s.filter_range, on_change=s.handle_filter_range),
        rx.button(rx.icon("star", size=14), "Favorites", on_click=s.toggle_favourites_only,
                  variant=rx.cond(s.favourites_only, "solid", "soft"), aria_pressed=s.favourites_only),
        spacing="2", wrap="wrap",
    )


def gallery_section() -> rx.Component:
    s = GenerateState
    return rx.vstack(
        rx.hstack(rx.heading("Gallery", size="5"), rx.badge(count_of(s.total, "image", "images"), variant="soft"),
                  rx.spacer(), filters(), width="100%", align="center", wrap="wrap", spacing="3"),
        rx.cond(
            s.cards.length() > 0,
            rx.grid(rx.foreach(s.cards, gallery_card), columns=rx.breakpoints(initial="2", sm="3", md="4", lg="6"),
                    spacing="3", width="100%", id="gallery-grid"),
            rx.center(rx.text("Nothing here yet. Generate something above.", color=rx.color("gray", 10)),
                      padding="40px", width="100%"),
        ),
        rx.cond(s.has_more, rx.center(rx.button("Load more", variant="soft", on_click=s.load_more), width="100%")),
        spacing="3", width="100%", margin_top="24px",
    )


def fact(label: str, value: rx.Var) -> rx.Component:
    return rx.cond(value != "", rx.hstack(rx.text(label, size="2", color=rx.color("gray", 10), min_width="90px"),
                                          rx.text(value, size="2", word_break="break-word"), align="start",
                                          width="100%"))


def download_menu(item: rx.Var) -> rx.Component:
    base = routes.image_download_url(item["id"])
    return rx.menu.root(
        rx.menu.trigger(rx.button(rx.icon("download", size=16), "Download", rx.icon("chevron-down", size=14))),
        rx.menu.content(*[rx.menu.item(rx.link(label, href=base + fmt, reload_document=True, underline="none",
                                               color="inherit", width="100%"))
                          for label, fmt in (("PNG", "png"), ("JPEG", "jpeg"), ("WebP", "webp"))]),
    )


def detail_dialog() -> rx.Component:
    s = GenerateState
    item = s.selected
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Image details"),
            rx.grid(
                rx.image(src=item["thumb"], alt=item["prompt"], width="100%", border_radius="12px"),
                rx.vstack(
                    rx.text(item["prompt"], size="3", weight="medium"),
                    fact("Negative", item["negative"]), fact("Style", item["style"]), fact("Size", item["dims"]),
                    fact("Seed", item["seed"]), fact("Provider", item["provider"]), fact("Model", item["model"]),
                    fact("Made", item["created"]),
                    spacing="2", width="100%",
                ),
                columns=rx.breakpoints(initial="1", sm="2"), spacing="4", width="100%",
            ),
            rx.hstack(
                rx.button(rx.icon("star", size=16, fill=rx.cond(item["favourite"] == "yes", "currentColor", "none")),
                          rx.cond(item["favourite"] == "yes", "Favorite", "Add to favorites"), variant="soft",
                          color_scheme="amber", on_click=s.toggle_favourite(item["id"], item["favourite"])),
                rx.button(rx.icon("copy", size=16), "Use these settings", variant="soft",
                          on_click=s.use_settings(item["id"])),
                rx.button(rx.icon("shuffle", size=16), "Variation", variant="soft",
                          on_click=s.make_variation(item["id"], s.click_key)),
                confirm_action(rx.button(rx.icon("trash-2", size=16), "Delete", color_scheme="red", variant="soft"),
                               title="Delete this image?",
                               description="It leaves the gallery and your asset library.",
                               confirm_label="Delete", on_confirm=s.delete_image(item["id"])),
                rx.spacer(),
                download_menu(item),
                rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")),
                spacing="2", margin_top="20px", width="100%", wrap="wrap",
            ),
            max_width="820px",
        ),
        open=s.selected_id != "",
        on_open_change=lambda is_open: rx.cond(is_open, rx.noop(), s.close_image()),
    )
