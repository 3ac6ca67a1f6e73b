"""The template library (/templates): cards with kind, status and tags; search, filters, new, duplicate, archive."""

import reflex as rx

from app import routes
from app.services.templates.view import KINDS
from components.layout.confirm import confirm_action
from components.layout.shell import app_shell, page_header
from state.session import SessionState
from state.templates import ANY, STATUSES, TemplatesState

KIND_CHOICES = [("email", "Email", "mail", "MJML with variables, live preview and test sends"),
                ("image_style", "Image style", "palette", "A generation preset: prompt, settings, variables"),
                ("slide", "Slide deck", "presentation", "Made from a deck on the Slides page")]


def can_write() -> rx.Var:
    return SessionState.allowed["templates.write"]


def kind_block(card: rx.Var) -> rx.Component:
    """The card's picture: the thumbnail when there is one, else a block in the kind's color with its icon."""
    return rx.cond(
        card["thumb"] != "",
        rx.image(src=card["thumb"], alt="", width="100%", height="100%", object_fit="cover"),
        rx.center(
            rx.match(card["kind"], *[(k, rx.icon(icon, size=30)) for k, (_, icon, _) in KINDS.items()],
                     rx.icon("file", size=30)),
            width="100%", height="100%",
            color=rx.match(card["kind"], *[(k, rx.color(c, 11)) for k, (_, _, c) in KINDS.items()],
                           rx.color("gray", 11)),
            background=rx.match(card["kind"], *[(k, rx.color(c, 3)) for k, (_, _, c) in KINDS.items()],
                                rx.color("gray", 3)),
        ),
    )


def card_actions(card: rx.Var) -> rx.Component:
    s = TemplatesState
    return rx.cond(can_write(), rx.hstack(
        rx.tooltip(rx.icon_button(rx.icon("copy", size=14), size="1", variant="ghost", color_scheme="gray",
                                  on_click=s.duplicate(card["id"]), aria_label="Duplicate " + card["name"],
                                  class_name="duplicate-template"), content="Duplicate"),
        rx.cond(
            card["archived"] == "yes",
            rx.tooltip(rx.icon_button(rx.icon("archive-restore", size=14), size="1", variant="ghost",
                                      color_scheme="gray", on_click=s.archive(card["id"], False),
                                      aria_label="Restore " + card["name"]), content="Restore"),
            confirm_action(
                rx.icon_button(rx.icon("archive", size=14), size="1", variant="ghost", color_scheme="gray",
                               aria_label="Archive " + card["name"], class_name="archive-template"),
                title="Archive this template?",
                description="It leaves the library and can no longer be edited or sent. Nothing is deleted: "
                            "“Show archived” brings it back.",
                confirm_label="Archive", on_confirm=s.archive(card["id"], True)),
        ),
        spacing="1",
    ))


def template_card(card: rx.Var) -> rx.Component:
    return rx.card(rx.vstack(
        rx.link(rx.box(kind_block(card), height="120px", width="100%", border_radius="8px", overflow="hidden"),
                href=card["url"], tab_index=-1, aria_hidden="true", width="100%"),
        rx.hstack(
            rx.link(rx.text(card["name"], size="3", weight="bold", overflow="hidden",
                            text_overflow="ellipsis", white_space="nowrap", title=card["name"]),
                    href=card["url"], underline="hover", color=rx.color("gray", 12), min_width="0", flex="1"),
            card_actions(card),
            width="100%", align="center", spacing="2",
        ),
        rx.hstack(
            rx.badge(card["kind_label"], color_scheme=card["color"], variant="soft"),
            rx.cond(card["in_review"] == "yes", rx.badge("In review", color_scheme="amber", variant="soft")),
            rx.cond(card["archived"] == "yes", rx.badge("Archived", color_scheme="gray", variant="outline")),
            spacing="2", wrap="wrap",
        ),
        rx.text(card["status"], size="1", color=rx.cond(card["active"] == "yes", rx.color("green", 11),
                                                        rx.color("gray", 10)), class_name="template-status"),
        rx.cond(card["tags"] != "", rx.text(rx.icon("tag", size=11), " ", card["tags"], size="1",
                                            color=rx.color("gray", 10), overflow="hidden", text_overflow="ellipsis",
                                            white_space="nowrap", width="100%")),
        rx.text("Updated " + card["updated"], size="1", color=rx.color("gray", 9)),
        spacing="2", width="100%", align="start",
    ), width="100%", min_width="0", class_name="template-card", data_kind=card["kind"])


def select_filter(name: str, label: str, value: rx.Var, items) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(placeholder=label, aria_label=label, min_width="140px"),
        rx.select.content(rx.select.item("Any " + label.lower(), value=ANY), items),
        value=value, on_change=lambda v: TemplatesState.set_filter(name, v), size="2",
    )


def filters() -> rx.Component:
    s = TemplatesState
    return rx.hstack(
        rx.input(rx.input.slot(rx.icon("search", size=16)), default_value=s.q, placeholder="Search templates",
                 on_change=s.search.debounce(300), max_length=200, aria_label="Search templates",
                 min_width="220px", flex="1", id="template-search"),
        select_filter("kind", "Kind", s.kind,
                      rx.fragment(*[rx.select.item(label, value=k) for k, (label, _, _) in KINDS.items()])),
        rx.cond(s.categories.length() > 0, select_filter(
            "category", "Category", s.category, rx.foreach(s.categories, lambda c: rx.select.item(c, value=c)))),
        rx.cond(s.known_tags.length() > 0, select_filter(
            "tag", "Tag", s.tag, rx.foreach(s.known_tags, lambda t: rx.select.item(t, value=t)))),
        select_filter("status", "Status", s.status,
                      rx.fragment(*[rx.select.item(label, value=v) for v, label in STATUSES])),
        rx.el.label(rx.hstack(rx.switch(checked=s.show_archived, on_change=s.set_show_archived, size="1"),
                                rx.text("Show archived", size="2"), align="center", spacing="2")),
        width="100%", wrap="wrap", spacing="3", align="center", margin_bottom="20px",
    )


def kind_choice(kind: str, label: str, icon: str, hint: str) -> rx.Component:
    s = TemplatesState
    chosen = s.new_kind == kind
    return rx.box(
        rx.hstack(rx.icon(icon, size=20), rx.vstack(rx.text(label, size="2", weight="bold"),
                                                   rx.text(hint, size="1", color=rx.color("gray", 10)), spacing="0"),
                  align="center", spacing="3"),
        on_click=s.set_new_kind(kind), role="radio", aria_checked=chosen, tab_index=0,
        padding="10px 12px", border_radius="8px", cursor="pointer", width="100%",
        border=rx.cond(chosen, f"2px solid {rx.color('violet', 9)}", f"2px solid {rx.color('gray', 4)}"),
        background=rx.cond(chosen, rx.color("violet", 2), "transparent"), class_name="kind-choice",
        data_kind=kind,
    )


def new_dialog() -> rx.Component:
    s = TemplatesState
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("New template"),
            rx.form(rx.vstack(
                rx.vstack(*[kind_choice(*c) for c in KIND_CHOICES], spacing="2", width="100%", role="radiogroup",
                          aria_label="Kind"),
                rx.cond(
                    s.new_kind == "slide",
                    rx.callout("A slide template is a deck made reusable: open a deck on the Slides page and "
                               "choose “Save as template”.", icon="info", size="1", width="100%"),
                    rx.input(name="name", value=s.new_name, on_change=s.set_new_name, placeholder="Template name",
                             max_length=120, width="100%", aria_label="Template name", auto_focus=True),
                ),
                rx.cond(s.new_error != "", rx.text(s.new_error, color=rx.color("red", 11), size="2", role="alert")),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                    # The click's key rides in the form: a double click makes one template.
                    rx.el.input(type="hidden", name="click_key", value=s.click_key),
                    rx.cond(s.new_kind == "slide",
                            rx.link(rx.button("Open Slides", type="button"), href=routes.SLIDES),
                            rx.button("Create", type="submit", id="create-template")),
                    justify="end", width="100%", spacing="3",
                ),
                spacing="4", width="100%",
            ), on_submit=s.create, reset_on_submit=False),
            max_width="460px",
        ),
        open=s.new_open, on_open_change=s.open_new,
    )


def empty_state() -> rx.Component:
    s = TemplatesState
    return rx.center(rx.vstack(
        rx.icon("layout-template", size=36, color=rx.color("gray", 9)),
        rx.cond(
            s.filtered,
            rx.vstack(rx.text("No template matches.", weight="bold"),
                      rx.button("Clear search and filters", variant="soft", on_click=s.clear_filters),
                      align="center", spacing="2"),
            rx.vstack(rx.text("No templates yet.", weight="bold"),
                      rx.text(rx.cond(can_write(), "Make an email, an image style, or save a deck as a template "
                                                   "to share it with your team.",
                                      "Your team's email, slide and image style templates will show here."),
                              size="2", color=rx.color("gray", 10), text_align="center", max_width="360px"),
                      align="center", spacing="2"),
        ),
        align="center", spacing="3", padding="48px 16px",
    ), width="100%", border=f"1px dashed {rx.color('gray', 6)}", border_radius="12px", id="templates-empty")


def templates_page() -> rx.Component:
    s = TemplatesState
    return app_shell(
        page_header("Templates", "Emails, slide decks and image styles your team shares; approved versions go out.",
                    rx.cond(can_write(), rx.button(rx.icon("plus", size=16), "New template",
                                                   on_click=s.open_new(True), id="new-template"))),
        filters(),
        rx.cond(s.error != "", rx.callout(s.error, icon="triangle-alert", color_scheme="red", size="1",
                                          margin_bottom="16px")),
        rx.cond(
            s.cards.length() > 0,
            rx.grid(rx.foreach(s.cards, template_card), columns=rx.breakpoints(initial="1", sm="2", lg="3", xl="4"),
                    spacing="4", width="100%", id="template-grid"),
            rx.cond(s.loaded, empty_state()),
        ),
        new_dialog(),
    )
