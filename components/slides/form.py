"""The Slides page's left column: the deck request form (with the theme picker and uploads) and the deck list."""

import reflex as rx

from components.layout.ai_hint import connect_hint
from components.layout.confirm import confirm_action
from components.layout.role_notice import may
from components.layout.switches import labelled_switch
from state.slides import SlidesState
from state.slides_form import LANGUAGES, SlidesFormState

DOCUMENT_ID = "slides-document"
BRAND_ID = "slides-brand"
DOCUMENT_TYPES = {"text/markdown": [".md", ".markdown"], "text/plain": [".txt"], "application/pdf": [".pdf"],
                  "application/vnd.openxmlformats-officedocument.wordprocessingml.document": [".docx"]}
BRAND_TYPES = {"application/vnd.openxmlformats-officedocument.presentationml.presentation": [".pptx"],
               "application/vnd.openxmlformats-officedocument.presentationml.template": [".potx"]}
STATUS_COLORS = {"idle": "gray", "outlining": "blue", "generating": "blue", "ready": "green", "failed": "red"}


def field(label: str, control: rx.Component, hint: str | rx.Var = "") -> rx.Component:
    return rx.vstack(rx.text(label, size="2", weight="medium"), control,
                     rx.cond(hint != "", rx.text(hint, size="1", color=rx.color("gray", 10))),
                     spacing="1", width="100%")


def _text_input(name: str, placeholder: str, label: str, max_length: int, value: rx.Var) -> rx.Component:
    return rx.input(value=value, on_change=lambda v: SlidesFormState.set_field(name, v),
                    placeholder=placeholder, width="100%", aria_label=label, max_length=max_length)


def status_badge(status: rx.Var) -> rx.Component:
    return rx.badge(status, color_scheme=rx.match(status, *STATUS_COLORS.items(), "gray"), variant="soft",
                    radius="full")


def small_drop(upload_id: str, accept: dict, on_drop, icon: str, text: str, label: str) -> rx.Component:
    return rx.upload.root(
        rx.hstack(rx.icon(icon, size=16, color=rx.color("violet", 11)), rx.text(text, size="2"),
                  align="center", spacing="2", padding="8px 12px"),
        id=upload_id, accept=accept, max_files=1, multiple=False, on_drop=on_drop, no_keyboard=False,
        border=f"1px dashed {rx.color('violet', 7)}", border_radius="8px", width="100%", cursor="pointer",
        background=rx.color("violet", 2), _hover={"background": rx.color("violet", 3)}, aria_label=label,
    )


def source_field() -> rx.Component:
    s = SlidesFormState
    return field("Source (optional)", rx.vstack(
        rx.text_area(value=s.source_text, on_change=lambda v: s.set_field("source_text", v),
                     placeholder="Paste text or Markdown: headings become slides, lists bullets, tables charts.",
                     rows="5", width="100%", aria_label="Source text", max_length=200_000),
        small_drop(DOCUMENT_ID, DOCUMENT_TYPES, s.handle_document(rx.upload_files(upload_id=DOCUMENT_ID)),
                   "file-up", "Upload .md, .txt, .docx or .pdf", "Upload a source document"),
        rx.cond(s.source_note != "", rx.hstack(
            rx.icon("file-text", size=14, color=rx.color("gray", 10)),
            rx.text(s.source_note, size="1", color=rx.color("gray", 10), id="source-note"),
            rx.spacer(),
            rx.button("Clear", size="1", variant="ghost", color_scheme="gray", on_click=s.clear_source),
            width="100%", align="center", spacing="1")),
        spacing="2", width="100%"))


def theme_swatch(theme: rx.Var) -> rx.Component:
    chosen = SlidesFormState.theme == theme["name"]
    dot = {"width": "10px", "height": "10px", "border_radius": "999px"}
    return rx.vstack(
        rx.box(
            rx.box(width="60%", height="6px", border_radius="3px", background=theme["text"], opacity="0.85"),
            rx.box(width="40%", height="4px", border_radius="2px", background=theme["text"], opacity="0.35",
                   margin_top="6px"),
            rx.hstack(rx.box(background=theme["a1"], **dot), rx.box(background=theme["a2"], **dot),
                      rx.box(background=theme["a3"], **dot), spacing="1", position="absolute", bottom="8px",
                      right="8px"),
            position="relative", width="100%", aspect_ratio="16 / 9", padding="10px", border_radius="8px",
            background=theme["bg"], box_shadow=f"0 0 0 1px {rx.color('gray', 5)}",
        ),
        rx.text(theme["label"], size="1", weight=rx.cond(chosen, "bold", "regular"), trim="both"),
        spacing="1", padding="6px", border_radius="10px", cursor="pointer", width="100%",
        outline=rx.cond(chosen, f"2px solid {rx.color('violet', 9)}", "2px solid transparent"),
        background=rx.cond(chosen, rx.color("violet", 2), "transparent"),
        on_click=SlidesFormState.pick_theme(theme["name"]), role="radio", aria_checked=chosen, tab_index=0,
        aria_label="Theme " + theme["label"], class_name="theme-swatch",
    )


def design_field() -> rx.Component:
    s = SlidesFormState
    return field("Design", rx.vstack(
        rx.cond(s.brand_key != "",
                rx.callout(rx.hstack(rx.text("Brand template: ", rx.text.strong(s.brand_name), size="2"),
                                     rx.spacer(),
                                     rx.button("Remove", size="1", variant="soft", color_scheme="gray",
                                               on_click=s.clear_brand_kit), width="100%", align="center"),
                           icon="stamp", color_scheme="violet", size="1", width="100%"),
                rx.grid(rx.foreach(s.themes, theme_swatch), columns="3", spacing="2", width="100%",
                        role="radiogroup", aria_label="Theme")),
        small_drop(BRAND_ID, BRAND_TYPES, s.handle_brand_kit(rx.upload_files(upload_id=BRAND_ID)), "stamp",
                   "Brand kit: upload a .pptx or .potx", "Upload a brand template"),
        spacing="2", width="100%"))


def request_form() -> rx.Component:
    s = SlidesFormState
    return rx.card(rx.vstack(
        rx.heading("New deck", size="4", as_="h2"),
        field("Topic", _text_input("topic", "e.g. Solar panels for schools", "Topic", 300, s.topic)),
        source_field(),
        rx.grid(
            field("Slides", rx.input(value=s.slide_count, on_change=lambda v: s.set_field("slide_count", v),
                                     type="number", min=1, max=60, width="100%", aria_label="Number of slides")),
            field("Language", rx.select.root(
                rx.select.trigger(width="100%", aria_label="Language"),
                rx.select.content(*[rx.select.item(label, value=code) for code, label in LANGUAGES]),
                value=s.language, on_change=lambda v: s.set_field("language", v))),
            field("Audience", _text_input("audience", "e.g. school boards", "Audience", 120, s.audience)),
            field("Tone", _text_input("tone", "e.g. confident", "Tone", 60, s.tone)),
            columns="2", spacing="3", width="100%"),
        design_field(),
        field("Text engine", rx.select.root(
            rx.select.trigger(width="100%", aria_label="Text engine"),
            rx.select.content(rx.foreach(s.providers, lambda p: rx.select.item(p["label"], value=p["name"]))),
            value=s.provider, on_change=lambda v: s.set_field("provider", v)),
            rx.cond(s.provider == "local", "Offline engine — outlines your document; writes no new text (a bare "
                                           "topic becomes a skeleton to fill in).",
                    "Writes every slide with the chat model, in parallel.")),
        connect_hint("text"),
        field("Picture engine", rx.select.root(
            rx.select.trigger(width="100%", aria_label="Picture engine"),
            rx.select.content(rx.foreach(s.image_providers,
                                         lambda p: rx.select.item(p["label"], value=p["name"]))),
            value=s.image_provider, on_change=lambda v: s.set_field("image_provider", v)),
            "Makes the pictures of slides that have a picture prompt; pictures you pick from your library "
            "are used as they are."),
        labelled_switch("Speaker notes", s.notes, s.set_notes),
        rx.cond(s.form_error != "", rx.callout(s.form_error, icon="triangle-alert", color_scheme="red", size="1",
                                               width="100%", role="alert", id="slides-error")),
        rx.button(rx.icon("list-tree", size=16), "Create outline", on_click=s.create_outline(s.click_key), size="3",
                  width="100%", loading=s.creating, disabled=~may("slides.write")),
        spacing="4", width="100%",
    ), width="100%")


def deck_item(deck: rx.Var) -> rx.Component:
    current = SlidesState.deck["id"] == deck["id"]
    return rx.hstack(
        rx.icon("presentation", size=16, color=rx.color("violet", 10), flex_shrink="0"),
        rx.vstack(rx.text(deck["title"], size="2", weight="medium", overflow="hidden", text_overflow="ellipsis",
                          white_space="nowrap", max_width="190px"),
                  rx.text(deck["slides"] + " slides · " + deck["updated"], size="1", color=rx.color("gray", 10)),
                  spacing="0", align="start", on_click=SlidesState.open_deck(deck["id"]), cursor="pointer",
                  flex="1", role="button", aria_label="Open " + deck["title"]),
        status_badge(deck["status"]),
        confirm_action(rx.icon_button(rx.icon("trash-2", size=14), size="1", variant="ghost", color_scheme="gray",
                                      aria_label="Delete " + deck["title"]),
                       title="Delete this deck?", description="Its outline and versions go; files you downloaded stay.",
                       confirm_label="Delete", on_confirm=SlidesState.delete_deck(deck["id"])),
        width="100%", align="center", spacing="2", padding="8px", border_radius="8px",
        background=rx.cond(current, rx.color("violet", 3), "transparent"),
        _hover={"background": rx.color("gray", 3)},
    )


def deck_list() -> rx.Component:
    return rx.card(rx.vstack(
        rx.hstack(rx.heading("Your decks", size="3", as_="h2"), rx.spacer(),
                  rx.cond(SlidesState.has_deck, rx.button(rx.icon("plus", size=14), "New", size="1", variant="soft",
                                                          on_click=SlidesState.new_deck)),
                  width="100%", align="center"),
        rx.cond(SlidesState.deck_list.length() > 0,
                rx.vstack(rx.foreach(SlidesState.deck_list, deck_item), spacing="1", width="100%", id="deck-list"),
                rx.text("Decks you make show up here.", size="2", color=rx.color("gray", 10))),
        leave_deck_dialog(),
        spacing="3", width="100%",
    ), width="100%")


def leave_deck_dialog() -> rx.Component:
    """Asked when another deck (or a new one) is opened over unsaved outline edits: never dropped silently."""
    s = SlidesState
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Save your edits first?"),
            rx.alert_dialog.description("The outline of “" + s.deck["title"] + "” has edits that are not saved. "
                                        "Save them, or leave them behind, before opening another deck."),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Stay on this deck", variant="soft", color_scheme="gray",
                                                 on_click=s.stay_on_deck)),
                rx.alert_dialog.action(rx.button("Discard edits", variant="soft", color_scheme="red",
                                                 on_click=s.leave_deck(False))),
                rx.alert_dialog.action(rx.button("Save and continue", on_click=s.leave_deck(True))),
                justify="end", spacing="3", margin_top="16px", wrap="wrap",
            ),
            max_width="500px",
        ),
        open=s.leaving_to != "",
    )
