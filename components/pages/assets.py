"""The Assets page: drop zone, per-file upload progress, a live grid and a detail view."""

import reflex as rx

from components.layout.confirm import confirm_action
from components.layout.numbers import count_of
from components.layout.shell import app_shell, page_header
from state.assets import AssetsState

UPLOAD_ID = "assets"
ACCEPT = {"image/jpeg": [".jpg", ".jpeg"], "image/png": [".png"], "image/webp": [".webp"],
          "image/gif": [".gif"], "image/tiff": [".tif", ".tiff"], "image/heic": [".heic", ".heif"],
          "application/zip": [".zip"]}


def _start_upload():
    return AssetsState.handle_upload(
        rx.upload_files_chunk(upload_id=UPLOAD_ID, on_upload_progress=AssetsState.handle_upload_progress))


def drop_zone() -> rx.Component:
    return rx.upload.root(
        rx.vstack(
            rx.box(rx.icon("cloud-upload", size=28), padding="12px", border_radius="14px",
                   background=rx.color("violet", 3), color=rx.color("violet", 11)),
            rx.text("Drop images here, or click to choose", weight="medium", size="3"),
            rx.text("JPEG, PNG, WebP, GIF, TIFF, HEIC, or a ZIP of them — up to 2,000 at once. Each file is "
                    "checked by its content; duplicates are kept once.", size="2", color=rx.color("gray", 10),
                    text_align="center"),
            align="center", spacing="2", padding="28px",
        ),
        id=UPLOAD_ID, multiple=True, max_files=2000, accept=ACCEPT, no_keyboard=False,
        on_drop=_start_upload(), disabled=AssetsState.uploading,
        border=f"2px dashed {rx.color('violet', 7)}", border_radius="16px", width="100%",
        background=rx.color("violet", 2), cursor="pointer", _hover={"background": rx.color("violet", 3)},
        aria_label="Upload images",
    )


def upload_row(item: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.match(item["state"],
                 ("stored", rx.icon("circle-check", size=16, color=rx.color("green", 10))),
                 ("duplicate", rx.icon("copy", size=16, color=rx.color("gray", 10))),
                 ("error", rx.icon("circle-x", size=16, color=rx.color("red", 10))),
                 rx.spinner(size="1")),
        rx.text(item["name"], size="2", overflow="hidden", text_overflow="ellipsis",
                white_space="nowrap", max_width="50%"),
        rx.spacer(),
        rx.text(rx.cond(item["message"] != "", item["message"],
                        rx.cond(item["state"] == "uploading", item["received"] + " bytes received", item["state"])),
                size="1",
                color=rx.cond(item["state"] == "error", rx.color("red", 11), rx.color("gray", 10))),
        width="100%", align="center", spacing="2",
    )


def upload_panel() -> rx.Component:
    counts = AssetsState.upload_counts
    return rx.cond(
        AssetsState.uploads.length() > 0,
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.text(rx.cond(AssetsState.uploading, "Uploading…", "Upload finished"), weight="bold"),
                    rx.spacer(),
                    rx.badge(counts["stored"].to_string() + " stored", color_scheme="green"),
                    rx.badge(count_of(counts["duplicate"], "duplicate", "duplicates"), color_scheme="gray"),
                    rx.badge(counts["error"].to_string() + " refused", color_scheme="red"),
                    width="100%", align="center", spacing="2", wrap="wrap",
                ),
                rx.progress(value=AssetsState.upload_percent, width="100%"),
                rx.scroll_area(rx.vstack(rx.foreach(AssetsState.upload_rows, upload_row), spacing="1",
                                         width="100%", role="list", aria_label="Uploaded files"),
                               max_height="180px", type="auto"),
                spacing="3", width="100%",
            ),
            width="100%",
        ),
    )


def asset_card(card: rx.Var) -> rx.Component:
    return rx.box(
        rx.cond(
            card["status"] == "ready",
            rx.image(src=card["thumb"], alt=card["filename"], width="100%", height="100%",
                     object_fit="cover", loading="lazy"),
            rx.center(
                rx.cond(card["status"] == "failed",
                        rx.vstack(rx.icon("image-off", color=rx.color("red", 10)),
                                  rx.text("No preview", size="1", color=rx.color("red", 11)), align="center"),
                        rx.vstack(rx.spinner(), rx.text("Processing", size="1", color=rx.color("gray", 10)),
                                  align="center")),
                width="100%", height="100%", background=rx.color("gray", 3),
            ),
        ),
        rx.box(rx.text(card["filename"], size="1", weight="medium", color="white",
                       overflow="hidden", text_overflow="ellipsis", white_space="nowrap"),
               position="absolute", bottom="0", left="0", right="0", padding="20px 8px 6px",
               background="linear-gradient(transparent, rgba(0,0,0,0.65))"),
        position="relative", aspect_ratio="1", border_radius="12px", overflow="hidden", cursor="pointer",
        border=f"1px solid {rx.color('gray', 4)}", _hover={"transform": "translateY(-2px)",
                                                            "box_shadow": "0 8px 20px -8px rgba(0,0,0,.35)"},
        transition="transform .15s, box-shadow .15s", on_click=AssetsState.open_asset(card["id"]),
        role="button", tab_index=0, aria_label="Open " + card["filename"],
        data_status=card["status"], class_name="asset-card",
    )


def fact(label: str, value: rx.Var) -> rx.Component:
    return rx.hstack(rx.text(label, size="2", color=rx.color("gray", 10), min_width="90px"),
                     rx.text(value, size="2", word_break="break-all"), align="start", width="100%")


def colour_swatch(hex_: rx.Var) -> rx.Component:
    return rx.cond(hex_ != "", rx.box(width="28px", height="28px", border_radius="8px", background=hex_,
                                      title=hex_, border=f"1px solid {rx.color('gray', 5)}"))


def detail_dialog() -> rx.Component:
    item = AssetsState.selected
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(item["filename"]),
            rx.grid(
                rx.box(rx.cond(item["status"] == "ready",
                               rx.image(src=item["thumb"], alt=item["filename"], width="100%",
                                        border_radius="12px"),
                               rx.center(rx.text(item["status"]), height="200px",
                                         background=rx.color("gray", 3), border_radius="12px"))),
                rx.vstack(
                    fact("Type", item["mime"]), fact("Pixels", item["dims"]), fact("Size", item["size"]),
                    fact("Added", item["created"]),
                    rx.cond(item["camera"] != "", fact("Camera", item["camera"])),
                    rx.cond(item["taken"] != "", fact("Taken", item["taken"])),
                    fact("SHA-256", item["sha256"]),
                    rx.cond(item["error"] != "", rx.callout(item["error"], color_scheme="red", size="1")),
                    rx.hstack(rx.foreach(item["colours"].split(","), colour_swatch), spacing="1"),
                    spacing="2", width="100%",
                ),
                columns=rx.breakpoints(initial="1", sm="2"), spacing="4", width="100%",
            ),
            rx.hstack(
                confirm_action(rx.button(rx.icon("trash-2", size=16), "Delete", color_scheme="red", variant="soft"),
                               title="Delete this image?",
                               description="The original and its thumbnail are removed for good.",
                               confirm_label="Delete", on_confirm=AssetsState.delete_asset(item["id"])),
                rx.spacer(),
                rx.link(rx.button(rx.icon("download", size=16), "Download original", tab_index=-1),
                        href=item["download"], reload_document=True),
                rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")),
                spacing="3", margin_top="20px", width="100%",
            ),
            max_width="760px",
        ),
        open=AssetsState.selected_id != "",
        on_open_change=lambda is_open: rx.cond(is_open, rx.noop(), AssetsState.close_asset()),
    )


def toolbar() -> rx.Component:
    return rx.hstack(
        rx.input(rx.input.slot(rx.icon("search", size=16)), placeholder="Search by name or type",
                 value=AssetsState.query, on_change=AssetsState.handle_search.debounce(300), size="3",
                 flex="1", min_width="200px", aria_label="Search assets"),
        rx.select(["all", "ready", "processing", "failed"], value=AssetsState.status_filter,
                  on_change=AssetsState.handle_status_filter, size="3", aria_label="Filter by status"),
        width="100%", spacing="3", wrap="wrap",
    )


def assets_page() -> rx.Component:
    return app_shell(
        page_header("Assets", "Every image you upload or make, in one library.",
                    rx.badge(count_of(AssetsState.total, "image", "images"), size="2", variant="soft"),
                    rx.cond(AssetsState.processing_count > 0,
                            rx.badge(rx.spinner(size="1"), AssetsState.processing_count.to_string() + " processing",
                                     size="2", color_scheme="amber"))),
        rx.vstack(
            drop_zone(), upload_panel(), toolbar(),
            rx.cond(
                AssetsState.cards.length() > 0,
                rx.grid(rx.foreach(AssetsState.cards, asset_card),
                        columns=rx.breakpoints(initial="2", sm="3", md="4", lg="5"), spacing="3", width="100%",
                        id="asset-grid"),
                rx.center(rx.text("No images yet. Drop some above.", color=rx.color("gray", 10)),
                          padding="48px", width="100%"),
            ),
            rx.cond(AssetsState.has_more, rx.center(rx.button("Load more", variant="soft",
                                                              on_click=AssetsState.load_more), width="100%")),
            spacing="4", width="100%",
        ),
        detail_dialog(),
    )
