"""Admin pages for image generation: style presets and moderation (denylist + decision log)."""

import reflex as rx

from components.layout.confirm import confirm_action
from components.layout.shell import app_shell, page_header
from state.admin_generation import AdminModerationState, AdminStylesState


def style_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.vstack(rx.text(row["name"], weight="medium"), rx.code(row["key"], size="1"), spacing="1")),
        rx.table.cell(rx.text(row["template"], size="2")),
        rx.table.cell(rx.text(row["negative"], size="2", color=rx.color("gray", 10))),
        rx.table.cell(rx.cond(row["active"] == "yes", rx.badge("on", color_scheme="green"),
                              rx.badge("off", color_scheme="gray"))),
        rx.table.cell(rx.hstack(
            rx.button("Edit", size="1", variant="soft", on_click=AdminStylesState.open_editor(row["key"])),
            confirm_action(rx.button("Delete", size="1", variant="soft", color_scheme="red"),
                           title="Delete this style?",
                           description="Past images keep their prompt; the style leaves the Generate page.",
                           confirm_label="Delete", on_confirm=AdminStylesState.delete_style(row["key"])),
            spacing="2")),
    )


def style_editor() -> rx.Component:
    s = AdminStylesState
    item = s.edited
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(s.editing == "new", "New style", "Edit style")),
            rx.dialog.description("The template must contain {prompt} once; the user's prompt goes there."),
            rx.form(
                rx.vstack(
                    rx.input(name="key", default_value=item["key"], placeholder="key, e.g. watercolor",
                             required=True, max_length=40, aria_label="Key"),
                    rx.input(name="name", default_value=item["name"], placeholder="Name shown to users",
                             required=True, max_length=60, aria_label="Name"),
                    rx.text_area(name="template", default_value=item["template"], required=True, max_length=500,
                                 rows="3", aria_label="Template"),
                    rx.input(name="negative", default_value=item["negative"], max_length=500,
                             placeholder="Negative words added where the provider supports them",
                             aria_label="Negative words"),
                    rx.hstack(rx.input(name="position", type="number", default_value=item["position"], min=0,
                                       max=1000, width="120px", aria_label="Position"),
                              rx.checkbox("Offered to users", name="active",
                                          default_checked=item["active"] == "yes"),
                              align="center", spacing="4"),
                    rx.cond(s.form_error != "", rx.callout(s.form_error, color_scheme="red", size="1", role="alert")),
                    rx.hstack(rx.button("Cancel", variant="soft", color_scheme="gray", type="button",
                                        on_click=s.close_editor),
                              rx.button("Save", type="submit"), justify="end", spacing="3", width="100%"),
                    spacing="3", margin_top="12px",
                ),
                on_submit=s.save_style, key=s.editing,
            ),
        ),
        open=s.editing != "",
        on_open_change=lambda is_open: rx.cond(is_open, rx.noop(), s.close_editor()),
    )


def admin_styles_page() -> rx.Component:
    return app_shell(
        page_header("Styles", "Prompt templates offered on the Generate page.",
                    rx.button(rx.icon("plus", size=16), "New style", on_click=AdminStylesState.open_editor("new"))),
        rx.card(rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                           ("Style", "Template", "Negative", "Offered", "")])),
            rx.table.body(rx.foreach(AdminStylesState.rows, style_row)),
            width="100%"), size="1", width="100%", overflow_x="auto"),
        style_editor(),
    )


def term_row(term: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(term["term"], white_space="normal", word_break="break-word"), max_width="420px"),
        rx.table.cell(term["kind"]),
        rx.table.cell(rx.badge(term["category"], variant="soft")), rx.table.cell(term["reason"]),
        rx.table.cell(confirm_action(rx.icon_button(rx.icon("trash-2", size=14), size="1", variant="soft",
                                                    color_scheme="red", aria_label="Remove term"),
                                     title="Remove this term?", description="Prompts with it will be allowed again.",
                                     confirm_label="Remove", on_confirm=AdminModerationState.delete_term(term["id"]))),
    )


def add_term_form() -> rx.Component:
    s = AdminModerationState
    return rx.form(
        rx.vstack(
            rx.hstack(
                rx.input(name="term", id="term", placeholder="word, phrase, or 'a|b + c|d' for a combo",
                         required=True, max_length=200, flex="2", aria_label="Term"),
                rx.select(["word", "phrase", "substring", "combo"], name="kind", default_value="word",
                          aria_label="Kind"),
                rx.input(name="category", placeholder="category, e.g. violence", required=True, max_length=32,
                         flex="1", aria_label="Category"),
                rx.input(name="reason", placeholder="Reason shown to users (optional)", max_length=200, flex="2",
                         aria_label="Reason"),
                # The click's key rides in the form: a double click adds the term once, with no error.
                rx.el.input(type="hidden", name="click_key", value=s.click_key),
                rx.button(rx.icon("plus", size=16), "Add", type="submit"),
                width="100%", wrap="wrap", spacing="2",
            ),
            rx.text("Words match whole words after normalising case, spacing, punctuation, leetspeak and look-alike "
                    "letters, so 'Scunthorpe' is not refused for what it contains. Use 'substring' only for terms "
                    "that must match inside other words.", size="1", color=rx.color("gray", 10)),
            rx.cond(s.form_error != "", rx.callout(s.form_error, color_scheme="red", size="1", role="alert")),
            spacing="2", width="100%",
        ),
        on_submit=s.add_term,
    )


def event_row(e: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(e["at"], size="1")), rx.table.cell(e["user"]), rx.table.cell(e["surface"]),
        rx.table.cell(rx.cond(e["decision"] == "allowed", rx.badge("allowed", color_scheme="green"),
                              rx.badge("refused", color_scheme="red"))),
        rx.table.cell(e["source"]), rx.table.cell(e["category"]),
        rx.table.cell(rx.code(e["matched"], white_space="normal", word_break="break-word"), max_width="260px"),
        rx.table.cell(rx.text(e["text"], size="1", max_width="320px")),
    )


def admin_moderation_page() -> rx.Component:
    s = AdminModerationState
    return app_shell(
        page_header("Moderation", "Checked before any provider is called; every decision is logged."),
        rx.card(rx.vstack(
            rx.hstack(rx.heading("Denylist", size="4", as_="h2"), rx.badge(s.terms.length().to_string()
                               + rx.cond(s.terms.length() == 1, " term", " terms")),
                      rx.spacer(),
                      rx.input(rx.input.slot(rx.icon("search", size=14)), placeholder="Search terms or categories",
                               value=s.term_query, on_change=s.handle_term_query.debounce(300),
                               aria_label="Search terms"),
                      width="100%", align="center"),
            add_term_form(),
            rx.scroll_area(rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                               ("Term", "Kind", "Category", "Reason", "")])),
                rx.table.body(rx.foreach(s.terms, term_row)), width="100%"), max_height="360px", type="auto"),
            spacing="3", width="100%",
        ), width="100%"),
        rx.hstack(rx.heading("Decisions", size="4", as_="h2"), rx.badge(s.events_total.to_string()),
                  rx.spacer(),
                  rx.select(["all", "refused", "allowed"], value=s.decision_filter, on_change=s.handle_decision_filter,
                            aria_label="Filter decisions"),
                  width="100%", align="center", margin_top="24px", margin_bottom="8px"),
        rx.card(rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                           ("When", "Workspace", "Checked", "Decision", "By", "Category", "Matched",
                                            "Text")])),
            rx.table.body(rx.foreach(s.events, event_row)), width="100%"),
            rx.cond(s.events.length() == 0,
                    rx.text(rx.cond(s.decision_filter == "all",
                                    "No decisions yet: every prompt the filter checks shows here, allowed or refused.",
                                    "No decisions of that kind."),
                            size="2", color=rx.color("gray", 10), padding="12px")),
            size="1", width="100%", overflow_x="auto", id="moderation-log"),
    )
