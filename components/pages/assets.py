"""The Assets page: the drop zone and upload progress over the library (collections, search, grid, bulk bar)."""

import reflex as rx

from components.layout.role_notice import role_notice
from components.layout.shell import app_shell, page_header
from components.library.bulk import bulk_bar
from components.library.drop_zone import drop_zone, upload_panel
from components.library.grid import library_grid
from components.library.search import search_bar
from components.library.sidebar import collections_sidebar
from state.assets import AssetsState
from state.library import LibraryState


def assets_page() -> rx.Component:
    return app_shell(
        page_header("Assets", "Every picture you upload or make: search, filter, collect and act on many at once.",
                    rx.badge(rx.cond(LibraryState.library_size == 1, "1 picture",
                                     LibraryState.library_label + " pictures"), size="2", variant="soft"),
                    rx.cond(AssetsState.processing_count > 0,
                            rx.badge(rx.spinner(size="1"), AssetsState.processing_count.to_string() + " processing",
                                     size="2", color_scheme="amber"))),
        role_notice("assets.write", "upload or change pictures"),
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
