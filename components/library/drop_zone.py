"""The drop zone every page that takes pictures in uses, and the list of what the drop did."""

import reflex as rx
from reflex_base.event import parse_args_spec
from reflex_base.utils import format
from reflex_components_core.core.upload import _on_drop_spec

from components.layout.numbers import count_of
from state.assets import AssetsState
from state.library import LibraryState

UPLOAD_ID = "assets"
ACCEPT = {"image/jpeg": [".jpg", ".jpeg"], "image/png": [".png"], "image/webp": [".webp"],
          "image/gif": [".gif"], "image/tiff": [".tif", ".tiff"], "image/heic": [".heic", ".heif"],
          "application/zip": [".zip"]}


def _dropped_names() -> rx.Var:
    """The dropped files' names, read in the browser when they are dropped: the on_drop callback's argument
    (Reflex names it from its drop spec), in the order the upload sends them."""
    files = parse_args_spec(_on_drop_spec)[0][0]
    return files.map(lambda file: file["name"])


def _start_upload(on_done: rx.EventHandler | None):
    upload = rx.upload_files_chunk(upload_id=UPLOAD_ID, on_upload_progress=AssetsState.handle_upload_progress)
    # Bound as the handler's full name (an upload's extra arguments must be JSON): handle_upload calls it with
    # the ids of every image the drop brought in (stored or already there). Always bound, "" for none: an
    # unbound parameter would be offered the dropped files. `names` lets an interrupted upload list the files
    # it never received.
    return AssetsState.handle_upload(upload, on_done=format.format_event_handler(on_done) if on_done else "",
                                     names=_dropped_names())


def _drop_full() -> rx.Component:
    return rx.vstack(
        rx.box(rx.icon("cloud-upload", size=28), padding="12px", border_radius="14px",
               background=rx.color("violet", 3), color=rx.color("violet", 11)),
        rx.text("Drop images here, or click to choose", weight="medium", size="3"),
        rx.text("JPEG, PNG, WebP, GIF, TIFF, HEIC, or a ZIP of them — up to 2,000 at once. Each file is "
                "checked by its content; duplicates are kept once.", size="2", color=rx.color("gray", 10),
                text_align="center"),
        align="center", spacing="2", padding="28px",
    )


def _drop_compact() -> rx.Component:
    # Once the library has pictures the grid is what the page is for: the drop zone becomes one line.
    return rx.hstack(
        rx.icon("cloud-upload", size=20, color=rx.color("violet", 11)),
        rx.text("Drop images or a ZIP here, or click to add more", weight="medium", size="2"),
        rx.text("JPEG, PNG, WebP, GIF, TIFF, HEIC · up to 2,000 at once", size="1", color=rx.color("gray", 10)),
        align="center", justify="center", spacing="3", padding="12px", wrap="wrap",
    )


def drop_zone(on_done: rx.EventHandler | None = None) -> rx.Component:
    """Drop or choose images (or ZIPs of them); they go into the library. `on_done(asset_ids: list[str])`,
    when given, is what the page does with them next (the Rename page chooses them)."""
    return rx.upload.root(
        rx.cond(LibraryState.library_size > 0, _drop_compact(), _drop_full()),
        id=UPLOAD_ID, multiple=True, max_files=2000, accept=ACCEPT, no_keyboard=False,
        on_drop=_start_upload(on_done), disabled=AssetsState.uploading,
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
                 ("missing", rx.icon("circle-dashed", size=16, color=rx.color("amber", 10))),
                 rx.spinner(size="1")),
        # The name takes the room the status leaves (a long status squeezed it to "bat…"); a long status wraps.
        rx.text(item["name"], size="2", overflow="hidden", text_overflow="ellipsis", white_space="nowrap",
                flex="1 1 auto", min_width="0", title=item["name"]),
        rx.text(rx.cond(item["message"] != "", item["message"],
                        rx.cond(item["state"] == "uploading", item["received"] + " received", item["state"])),
                size="1", max_width="60%", text_align="right",
                color=rx.match(item["state"], ("error", rx.color("red", 11)), ("missing", rx.color("amber", 11)),
                               rx.color("gray", 10))),
        width="100%", align="center", spacing="2",
    )


def upload_panel() -> rx.Component:
    counts = AssetsState.upload_counts
    return rx.cond(
        AssetsState.uploads.length() > 0,
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.text(rx.cond(AssetsState.uploading, "Uploading…",
                                    rx.cond(AssetsState.upload_notice != "", "Upload interrupted",
                                            "Upload finished")), weight="bold"),
                    rx.spacer(),
                    rx.badge(counts["stored"].to_string() + " stored", color_scheme="green"),
                    rx.badge(count_of(counts["duplicate"], "duplicate", "duplicates"), color_scheme="gray"),
                    rx.badge(counts["error"].to_string() + " refused", color_scheme="red"),
                    rx.cond(counts["missing"] > 0,
                            rx.badge(counts["missing"].to_string() + " not received", color_scheme="amber")),
                    rx.cond(~AssetsState.uploading,
                            rx.icon_button(rx.icon("x", size=14), size="1", variant="ghost", color_scheme="gray",
                                           on_click=AssetsState.dismiss_uploads, aria_label="Close the upload list")),
                    width="100%", align="center", spacing="2", wrap="wrap",
                ),
                rx.cond(AssetsState.upload_notice != "",
                        rx.callout(AssetsState.upload_notice, icon="triangle-alert", color_scheme="amber",
                                   size="1", width="100%", role="status")),
                rx.progress(value=AssetsState.upload_percent, width="100%"),
                # Room on the right for the scrollbar, which Radix draws over the content (it hid the statuses).
                rx.scroll_area(rx.vstack(rx.foreach(AssetsState.upload_rows, upload_row), spacing="1",
                                         width="100%", role="list", aria_label="Uploaded files", padding_right="14px"),
                               max_height="180px", type="auto"),
                spacing="3", width="100%",
            ),
            width="100%",
        ),
    )
