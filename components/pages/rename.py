"""The Rename page: choose images and options; then review the names in a grid and export."""

import reflex as rx

from app import routes
from components.layout.ai_hint import connect_hint, offline_note
from components.layout.auth_card import error_callout
from components.layout.numbers import count_of, count_of_text
from components.layout.role_notice import may, role_notice
from components.layout.shell import app_shell, page_header
from components.layout.switches import labelled_switch
from components.layout.text_wrap import WRAP_CLASS
from components.library.drop_zone import drop_zone, upload_panel
from components.library.picker import picker_caption, picker_search
from state.rename import ROW_FILTERS, RenameState

CASES = ["kebab", "snake", "camel", "title"]
LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "pt", "pl", "sv", "ja"]


def library_tile(asset: rx.Var) -> rx.Component:
    chosen = RenameState.chosen.contains(asset["id"])
    return rx.box(
        rx.box(
            rx.cond(asset["status"] == "ready",
                    rx.image(src=asset["thumb"], alt=asset["filename"], width="100%", height="100%",
                             object_fit="contain", loading="lazy"),
                    rx.center(rx.spinner(), width="100%", height="100%")),
            rx.cond(chosen, rx.center(rx.icon("check", color="white", size=16), position="absolute", top="6px",
                                      right="6px", width="22px", height="22px", border_radius="full",
                                      background=rx.color("violet", 9))),
            position="relative", aspect_ratio="1", border_radius="10px", padding="4px",
            background=rx.color("gray", 3),
            outline=rx.cond(chosen, f"3px solid {rx.color('violet', 9)}", f"1px solid {rx.color('gray', 4)}"),
        ),
        picker_caption(asset["filename"]),
        cursor="pointer", min_width="0",
        on_click=RenameState.toggle_asset(asset["id"]), role="checkbox", aria_checked=chosen, tab_index=0,
        aria_label=asset["filename"], class_name="library-tile",
    )


def option(label: str, control: rx.Component) -> rx.Component:
    return rx.vstack(rx.text(label, size="2", weight="medium"), control, spacing="1", width="100%")


def switch(label: str, name: str, value: rx.Var) -> rx.Component:
    return labelled_switch(label, value, lambda v: RenameState.set_option(name, v))


def options_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Options", size="4", as_="h2"),
            option("Keywords (comma-separated, first in every name)",
                   rx.input(value=RenameState.keywords, on_change=lambda v: RenameState.set_option("keywords", v),
                            placeholder="e.g. acme, summer sale", width="100%", id="rename-keywords")),
            rx.grid(
                option("Case", rx.select(CASES, value=RenameState.case,
                                         on_change=lambda v: RenameState.set_option("case", v))),
                option("Max length", rx.input(value=RenameState.max_length, type="number", min=10, max=120,
                                              on_change=lambda v: RenameState.set_option("max_length", v))),
                option("Language", rx.select(LANGUAGES, value=RenameState.language,
                                             on_change=lambda v: RenameState.set_option("language", v))),
                option("Analyzer", rx.select.root(
                    rx.select.trigger(),
                    rx.select.content(rx.foreach(RenameState.providers,
                                                 lambda p: rx.select.item(p["label"], value=p["name"]))),
                    value=RenameState.provider, on_change=lambda v: RenameState.set_option("provider", v))),
                columns="2", spacing="3", width="100%",
            ),
            rx.cond(RenameState.provider == "local", offline_note("vision")),
            connect_hint("vision"),
            option("Name template", rx.input(value=RenameState.template, width="100%",
                                             on_change=lambda v: RenameState.set_option("template", v))),
            rx.text("Tokens: {keywords} {subject} {detail} {color} {date} {camera} {place} {index}", size="1",
                    color=rx.color("gray", 10)),
            switch("Write alt text", "alt_text", RenameState.alt_text),
            switch("Read text in images (OCR)", "ocr", RenameState.ocr),
            switch("Keep EXIF and GPS in the export", "keep_exif", RenameState.keep_exif),
            switch("Write title, alt text and keywords into the files (XMP/IPTC)", "write_metadata",
                   RenameState.write_metadata),
            error_callout(RenameState.form_error),
            rx.button(rx.icon("wand-sparkles", size=16),
                      "Analyze ", count_of(RenameState.chosen_count, "image", "images"),
                      on_click=RenameState.start_batch(RenameState.click_key),
                      disabled=(RenameState.chosen_count == 0) | ~may("rename.write"), size="3", width="100%"),
            rx.text(RenameState.cost_note, size="1", color=rx.color("gray", 10), align="center", width="100%"),
            spacing="3", width="100%",
        ),
        size="3",
    )


def setup_view() -> rx.Component:
    return rx.vstack(
        rx.grid(
            rx.card(
                rx.vstack(
                    rx.hstack(rx.heading("Choose images", size="4", as_="h2"), rx.spacer(),
                              rx.button("All", size="1", variant="soft", on_click=RenameState.choose_all),
                              rx.button("None", size="1", variant="soft", color_scheme="gray",
                                        on_click=RenameState.choose_none), width="100%", align="center"),
                    picker_search(RenameState.library_query, RenameState.search_library, RenameState.include_derived,
                                  RenameState.set_include_derived),
                    rx.cond(RenameState.library.length() > 0,
                            rx.grid(rx.foreach(RenameState.library, library_tile),
                                    columns=rx.breakpoints(initial="3", md="5"), spacing="2", width="100%"),
                            rx.text(rx.cond(RenameState.library_query != "", "No picture matches that search.",
                                            "Your library is empty: drop photos or a ZIP below."),
                                    color=rx.color("gray", 10))),
                    rx.text(RenameState.chosen_count, " chosen · showing ", RenameState.library.length(),
                            " of ", RenameState.library_total, " matching (All takes every match, up to 2,000)",
                            size="1", color=rx.color("gray", 10)),
                    drop_zone(on_done=RenameState.take_uploads), upload_panel(),
                    spacing="3", width="100%",
                ),
                size="3",
            ),
            options_card(),
            columns=rx.breakpoints(initial="1", lg="2"), spacing="4", width="100%",
        ),
        rx.cond(RenameState.batches.length() > 0, rx.vstack(
            rx.heading("Recent batches", size="4", as_="h2"),
            rx.foreach(RenameState.batches, lambda b: rx.link(
                rx.card(rx.hstack(rx.text("Batch #", b["id"], weight="medium"), rx.badge(b["status"]),
                                  rx.text(count_of_text(b["images"], "image", "images"), size="2"), rx.spacer(),
                                  rx.text(b["created"], size="1", color=rx.color("gray", 10)), align="center"),
                        width="100%"),
                href=routes.rename_batch_url(b["id"]), underline="none", color="inherit", width="100%")),
            spacing="2", width="100%", margin_top="16px")),
        width="100%",
    )


def review_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.image(src=row["thumb"], alt=row["original"], width="56px", height="56px",
                               min_width="56px", object_fit="cover", border_radius="8px"), min_width="72px"),
        rx.table.cell(rx.vstack(
            rx.text(row["original"], size="1", color=rx.color("gray", 10)),
            rx.input(default_value=row["final"], key=row["id"] + row["final"] + row["reset"], size="2", width="100%",
                     on_blur=lambda v: RenameState.save_name(row["id"], v), aria_label="New name",
                     class_name="final-name"),
            rx.cond(row["error"] != "", rx.text(row["error"], size="1", color=rx.color("red", 11))),
            rx.cond(row["needs_subject"] == "yes", rx.badge("Needs a subject", color_scheme="amber", size="1",
                                                            class_name="needs-subject")),
            spacing="1", min_width="260px")),
        rx.table.cell(rx.text_area(default_value=row["alt"], key=row["id"] + row["alt"], rows="2", size="1",
                                   on_blur=lambda v: RenameState.save_alt(row["id"], v), aria_label="Alt text",
                                   # Empty when the engine did not know what is in the picture: say so.
                                   placeholder=rx.cond(row["needs_subject"] == "yes",
                                                       "Not recognized: describe the picture", "Describe the picture"),
                                   min_width="200px")),
        rx.table.cell(rx.text(row["tags"], size="1", color=rx.color("gray", 11), class_name=WRAP_CLASS),
                      min_width="140px"),
        rx.table.cell(rx.match(row["status"],
                               ("done", rx.badge(row["confidence"], "%", color_scheme=rx.cond(
                                   row["confidence"].to(int) >= 50, "green", "amber"))),
                               ("failed", rx.badge("failed", color_scheme="red")),
                               rx.spinner(size="1"))),
        rx.table.cell(rx.hstack(
            rx.switch(checked=row["accepted"] == "yes", on_change=lambda v: RenameState.toggle_accept(row["id"], v),
                      aria_label="Accept"),
            rx.icon_button(rx.icon("refresh-cw", size=14), size="1", variant="soft", aria_label="Regenerate",
                           on_click=RenameState.regenerate_row(row["id"])),
            spacing="2", align="center")),
        class_name="review-row",
    )


def review_view() -> rx.Component:
    return rx.vstack(
        rx.cond(RenameState.batch_status == "analyzing", rx.card(rx.vstack(
            rx.hstack(rx.spinner(size="1"), rx.text("Analyzing… ", RenameState.progress_message, size="2"),
                      align="center", spacing="2"),
            rx.progress(value=RenameState.progress, width="100%"), spacing="2", width="100%"), width="100%")),
        rx.cond(RenameState.offline_retry, rx.callout.root(
            rx.callout.icon(rx.icon("cloud-off", size=16)),
            rx.vstack(
                rx.text(RenameState.failed_rows, " of ", RenameState.rows.length(),
                        " images could not be described.", weight="medium", size="2"),
                rx.text(RenameState.failed_reason, size="1", color=rx.color("gray", 11)),
                rx.button(rx.icon("rotate-ccw", size=14), "Describe them with the offline analyzer", size="2",
                          variant="soft", on_click=RenameState.retry_failed_offline, id="retry-offline"),
                spacing="2", align="start"),
            color_scheme="amber", width="100%")),
        rx.hstack(
            rx.form(rx.hstack(rx.input(name="keyword", id="keyword", placeholder="Add a keyword to every name",
                                       max_length=40, size="2"),
                              rx.button("Add", type="submit", size="2", variant="soft"), spacing="2"),
                    on_submit=RenameState.add_keyword_to_all, reset_on_submit=False),
            rx.select(list(ROW_FILTERS), value=RenameState.row_filter,
                      on_change=RenameState.set_row_filter, size="2", aria_label="Show"),
            rx.select(["position", "confidence", "name"], value=RenameState.sort_by, on_change=RenameState.set_sort,
                      size="2", aria_label="Sort by"),
            rx.spacer(),
            rx.button(rx.icon("undo-2", size=16), "Undo", variant="soft", color_scheme="gray",
                      on_click=RenameState.apply_names(True, RenameState.click_key)),
            rx.button(rx.icon("check-check", size=16), "Apply to library", variant="soft",
                      on_click=RenameState.apply_names(False, RenameState.click_key)),
            # Document navigation, not client-side routing: the API answers with an attachment.
            rx.link(rx.button(rx.icon("download", size=16), "Download ZIP", tab_index=-1),
                    href=RenameState.download_url, reload_document=True, id="download-zip"),
            width="100%", wrap="wrap", spacing="3", align="center",
        ),
        rx.card(rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                           ("", "Original → new name", "Alt text", "Tags", "Confidence", "Accept")])),
            rx.table.body(rx.foreach(RenameState.visible_rows, review_row)),
            width="100%"), size="1", width="100%", overflow_x="auto"),
        spacing="4", width="100%",
    )


def rename_page() -> rx.Component:
    return app_shell(
        page_header("Bulk rename", "SEO file names and alt text for whole shoots, reviewed before anything changes.",
                    rx.cond(RenameState.batch_id > 0,
                            rx.link(rx.button(rx.icon("plus", size=16), "New batch", variant="soft"),
                                    href=routes.RENAME))),
        role_notice("rename.write", "rename pictures"),
        rx.cond(RenameState.batch_id > 0, review_view(), setup_view()),
    )
