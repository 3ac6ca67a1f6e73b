"""The open deck: its header (status, generate, downloads), progress, and the outline / preview / versions tabs."""

import reflex as rx

from components.slides.form import status_badge
from components.slides.outline import outline_tab
from components.slides.preview import preview_tab, versions_tab
from state.slides import SlidesState

STEPS = [("list-tree", "Outline", "Start from a topic, pasted text or a document. Every slide is editable."),
         ("sparkles", "Generate", "Slides fill in live: text, pictures from prompts, native charts."),
         ("download", "Export", "An editable .pptx (and PDF) with your theme or brand template.")]


def empty_state() -> rx.Component:
    return rx.card(rx.vstack(
        rx.box(rx.icon("presentation", size=30), padding="14px", border_radius="16px",
               background=rx.color("violet", 3), color=rx.color("violet", 11)),
        rx.heading("From a topic or a document to an editable deck", size="5", text_align="center"),
        rx.grid(*[rx.vstack(rx.hstack(rx.icon(icon, size=16, color=rx.color("violet", 10)),
                                      rx.text(title, weight="bold", size="2"), align="center", spacing="2"),
                            rx.text(text, size="2", color=rx.color("gray", 11)), spacing="1")
                  for icon, title, text in STEPS],
                columns=rx.breakpoints(initial="1", md="3"), spacing="4", width="100%"),
        align="center", spacing="5", padding="32px 16px", width="100%",
    ), width="100%")


def download_buttons() -> rx.Component:
    s = SlidesState
    pdf = rx.link(rx.button(rx.icon("file-down", size=16), "PDF", variant="soft"),
                  href=s.download_pdf, reload_document=True, underline="none", aria_label="Download PDF")
    return rx.hstack(
        rx.cond(s.placeholder_count > 0, rx.tooltip(
            rx.badge(rx.icon("triangle-alert", size=12),
                     rx.cond(s.placeholder_count == 1, "1 slide", s.placeholder_count.to_string() + " slides"),
                     " with placeholder text", color_scheme="amber", variant="soft", size="2",
                     id="placeholder-warning"),
            content="These slides still hold the skeleton's hints (“Add a fact…”): write them before you present.")),
        rx.link(rx.button(rx.icon("download", size=16), "Download .pptx", variant="soft"), href=s.download_pptx,
                reload_document=True, underline="none"),
        rx.cond(s.pdf_available, pdf,
                rx.tooltip(rx.box(rx.button(rx.icon("file-down", size=16), "PDF", variant="soft", disabled=True)),
                           content="PDF export needs LibreOffice on the server")),
        spacing="2",
    )


def deck_header() -> rx.Component:
    s = SlidesState
    deck = s.deck
    return rx.vstack(
        rx.hstack(
            rx.vstack(
                rx.heading(deck["title"], size="5", as_="h2", id="deck-title"),
                rx.hstack(status_badge(deck["status"]),
                          rx.badge(rx.icon("palette", size=12), deck["design"], variant="soft", color_scheme="gray"),
                          rx.badge(rx.icon("pen-line", size=12), deck["provider"], variant="soft",
                                   color_scheme="gray"),
                          rx.cond(s.rows.length() > 0, rx.text(rx.cond(s.ready_count > 0,
                                          s.ready_count.to_string() + " of " + s.rows.length().to_string()
                                          + " slides ready",
                                          s.rows.length().to_string() + " slides · not generated yet"),
                                  size="1", color=rx.color("gray", 10))),
                          rx.cond(s.dirty, rx.badge(rx.icon("pencil", size=12), "unsaved edits", color_scheme="amber",
                                                    variant="soft")),
                          spacing="2", align="center", wrap="wrap"),
                spacing="2", flex="1", min_width="0"),
            rx.cond(s.busy,
                    rx.button("Cancel", variant="soft", color_scheme="gray", on_click=s.cancel_generation),
                    rx.button(rx.icon("sparkles", size=16), rx.cond(s.ready_count > 0, "Generate again", "Generate"),
                              on_click=s.generate, size="3", disabled=s.rows.length() == 0)),
            width="100%", align="start", spacing="3"),
        rx.cond(s.busy, rx.vstack(rx.progress(value=s.progress, width="100%"),
                                  rx.text(deck["message"], size="1", color=rx.color("gray", 10), id="deck-message"),
                                  spacing="1", width="100%")),
        rx.cond(deck["error"] != "", rx.callout(
            rx.hstack(rx.text(deck["error"], size="2"), rx.spacer(),
                      rx.cond(s.rows.length() == 0, rx.button("Plan the outline again", size="1",
                                                              on_click=s.rebuild_outline)),
                      width="100%", align="center"),
            icon="triangle-alert", color_scheme=rx.cond(deck["status"] == "failed", "red", "amber"), size="1",
            width="100%", id="deck-error")),
        spacing="3", width="100%",
    )


def tab_trigger(value: str, label: str, icon: str, count: rx.Var | None = None) -> rx.Component:
    parts = [rx.icon(icon, size=14), rx.text(label)]
    if count is not None:
        parts.append(rx.badge(count.to_string(), size="1", variant="soft", radius="full"))
    return rx.tabs.trigger(rx.hstack(*parts, align="center", spacing="2"), value=value)


def workspace() -> rx.Component:
    s = SlidesState
    return rx.cond(
        s.has_deck,
        rx.card(rx.vstack(
            deck_header(),
            rx.tabs.root(
                rx.tabs.list(tab_trigger("outline", "Outline", "list-tree", s.rows.length()),
                             tab_trigger("preview", "Preview", "layout-grid"),
                             tab_trigger("versions", "Versions", "history", s.versions.length())),
                rx.tabs.content(rx.box(outline_tab(), padding_top="16px"), value="outline"),
                rx.tabs.content(rx.box(preview_tab(), padding_top="16px"), value="preview"),
                rx.tabs.content(rx.box(versions_tab(), padding_top="16px"), value="versions"),
                value=s.tab, on_change=s.set_tab, width="100%"),
            spacing="4", width="100%",
        ), width="100%", id="deck-workspace", data_status=s.deck["status"]),
        empty_state(),
    )
