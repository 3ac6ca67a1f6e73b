"""The Assets page: the drop zone and upload progress over the library (collections, search, grid, bulk bar)."""

import reflex as rx

from components.layout.numbers import count_of
from components.layout.shell import app_shell, page_header
from components.library.bulk import bulk_bar
from components.library.grid import library_grid
from components.library.search import search_bar
from components.library.sidebar import collections_sidebar
from state.assets import AssetsState
from state.library import LibraryState

UPLOAD_ID = "assets"
ACCEPT = {"image/jpeg": [".jpg", ".jpeg"], "image/png": [".png"], "image/webp": [".webp"],
          "image/gif": [".gif"], "image/tiff": [".tif", ".tiff"], "image/heic": [".heic", ".heif"],
          "application/zip": [".zip"]}


def _start_upload():
    return AssetsState.handle_upload(
        rx.upload_files_chunk(upload_id=UPLOAD_ID, on_upload_progress=AssetsState.handle_upload_progress))


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


def drop_zone() -> rx.Component:
    return rx.upload.root(
        rx.cond(LibraryState.library_size > 0, _drop_compact(), _drop_full()),
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
                    rx.cond(~AssetsState.uploading,
                            rx.icon_button(rx.icon("x", size=14), size="1", variant="ghost", color_scheme="gray",
                                           on_click=AssetsState.dismiss_uploads, aria_label="Close the upload list")),
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


def assets_page() -> rx.Component:
    return app_shell(
        page_header("Assets", "Every picture you upload or make: search, filter, collect and act on many at once.",
                    rx.badge(rx.cond(LibraryState.library_size == 1, "1 picture",
                                     LibraryState.library_label + " pictures"), size="2", variant="soft"),
                    rx.cond(AssetsState.processing_count > 0,
                            rx.badge(rx.spinner(size="1"), AssetsState.processing_count.to_string() + " processing",
                                     size="2", color_scheme="amber"))),
        rx.vstack(
            drop_zone(), upload_panel(),
            rx.flex(
                rx.box(collections_sidebar(), width=rx.breakpoints(initial="100%", md="240px"), flex_shrink="0",
                       position=rx.breakpoints(initial="static", md="sticky"), top="16px", align_self="start"),
                rx.vstack(search_bar(), bulk_bar(), library_grid(), spacing="3", flex="1", min_width="0"),
                direction=rx.breakpoints(initial="column", md="row"), spacing="5", width="100%",
            ),
            spacing="4", width="100%",
        ),
    )
