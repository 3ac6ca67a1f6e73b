"""One template's page: the editor of its kind, save with a note, the lower panels and the review area."""

import reflex as rx

from app import routes
from components.layout.shell import app_shell
from components.templates.dialogs import compare_dialog, details_dialog, send_dialog
from components.templates.email_editor import FORM_ID, MONO, email_editor, in_save_form
from components.templates.panels import checklist_panel, sample_panel, variables_panel, versions_panel
from components.templates.pictures import links_panel
from state.template_editor import TemplateEditorState
from state.template_tools import TemplateToolsState

try:  # tpl-review's panel (approvals, comments); until it is merged, the version's status shows here
    from components.templates.review_panel import review_panel
except ImportError:
    review_panel = None


def status_area() -> rx.Component:
    s = TemplateEditorState
    if review_panel is not None:
        return review_panel()
    return rx.card(rx.vstack(
        rx.text("Review", size="2", weight="bold"),
        rx.text(s.template["status"], size="2", color=rx.color("gray", 11), id="review-status"),
        spacing="2", width="100%",
    ), width="100%")


def header() -> rx.Component:
    s, t = TemplateEditorState, TemplateToolsState
    facts = s.template
    return rx.vstack(
        rx.link(rx.hstack(rx.icon("arrow-left", size=14), rx.text("Templates", size="2"), spacing="1",
                          align="center"), href=routes.TEMPLATES, color=rx.color("gray", 11), underline="hover"),
        rx.hstack(
            rx.vstack(
                rx.heading(facts["name"], size="6", weight="bold", letter_spacing="-0.02em", line_height="1.3",
                           overflow="hidden", text_overflow="ellipsis", white_space="nowrap", max_width="100%",
                           title=facts["name"], id="template-name"),
                rx.hstack(
                    rx.badge(facts["kind_label"], color_scheme=facts["color"], variant="soft"),
                    rx.text(facts["status"], size="2", color=rx.color("gray", 11), id="template-status"),
                    rx.cond(facts["archived"] == "yes", rx.badge("Archived", variant="outline", color_scheme="gray")),
                    spacing="2", align="center", wrap="wrap",
                ),
                spacing="2", min_width="0", flex="1",
            ),
            rx.hstack(
                rx.cond(s.can_edit, details_dialog()),
                rx.cond(s.versions.length() > 1, rx.button(rx.icon("git-compare", size=14), "Compare",
                                                           variant="soft", color_scheme="gray",
                                                           on_click=t.open_compare(""), id="open-compare")),
                rx.cond(s.can_edit & (facts["kind"] == "email"),
                        rx.button(rx.icon("send", size=14), "Test send", variant="soft", color_scheme="gray",
                                  on_click=t.open_send(True), id="open-send")),
                spacing="2", wrap="wrap",
            ),
            width="100%", align="end", spacing="4", wrap="wrap",
        ),
        rx.cond(facts["description"] != "", rx.text(facts["description"], size="2", color=rx.color("gray", 11),
                                                    max_width="760px")),
        rx.cond(~s.can_edit, rx.callout(
            rx.cond(facts["archived"] == "yes", "This template is archived: restore it in the library to edit it.",
                    "You can read this template and try it with sample data; your role here does not allow "
                    "editing it."), icon="eye", size="1", color_scheme="gray", id="read-only-note")),
        spacing="3", width="100%", margin_bottom="20px",
    )


def save_bar() -> rx.Component:
    s = TemplateEditorState
    return rx.cond(s.can_edit, rx.vstack(
        rx.cond(s.conflict != "", rx.callout.root(
            rx.callout.icon(rx.icon("git-merge", size=16)),
            rx.vstack(
                rx.callout.text(s.conflict, weight="medium"),
                rx.callout.text("Your text is still in the editor. Load the newest version (your changes go), or "
                                "save yours as the next version on top of it.", size="1"),
                rx.hstack(rx.button("Save mine on top", size="1", on_click=s.save_mine_on_top, id="save-on-top"),
                          rx.button("Load the newest version", size="1", variant="soft", color_scheme="gray",
                                    on_click=s.reload_latest),
                          rx.button("Dismiss", size="1", variant="ghost", color_scheme="gray",
                                    on_click=s.dismiss_conflict),
                          spacing="2", wrap="wrap"),
                spacing="2",
            ),
            color_scheme="amber", width="100%", role="alert", id="edit-conflict",
        )),
        rx.cond((s.save_error != "") & (s.template["kind"] != "email"),
                rx.callout(s.save_error, icon="triangle-alert", color_scheme="red", size="1", width="100%",
                           role="alert", id="save-error")),
        rx.form(rx.hstack(
            rx.input(name="note", value=s.note, on_change=s.set_note, placeholder="What changed (optional)",
                     max_length=200, aria_label="Change note", flex="1", min_width="200px", id="change-note"),
            # The click's key rides in the form: a double click saves one version.
            rx.el.input(type="hidden", name="click_key", value=s.click_key),
            rx.cond(s.dirty, rx.text("Unsaved changes", size="1", color=rx.color("amber", 11), id="dirty-note")),
            rx.button(rx.icon("save", size=16), rx.cond(s.base_status == "in_review", "Save into the review",
                                                         "Save version"), type="submit", id="save-version"),
            width="100%", align="center", spacing="3", wrap="wrap",
        ), on_submit=s.save, reset_on_submit=False, width="100%", id=FORM_ID),
        rx.cond(s.base_status == "in_review", rx.text(
            "The newest version is in review: saving edits it in place, and this stage's approvals start over.",
            size="1", color=rx.color("amber", 11))),
        spacing="2", width="100%", margin_top="16px",
    ))


def tab_trigger(value: str, label: str, badge: rx.Component | None = None) -> rx.Component:
    return rx.tabs.trigger(rx.hstack(rx.text(label), badge or rx.fragment(), spacing="2", align="center"),
                           value=value)


def lower_tabs() -> rx.Component:
    s = TemplateEditorState
    # Radix draws a tab's label twice (one hidden, for a steady width): a class, not an id.
    failing = rx.cond(s.failing_count > 0, rx.badge(s.failing_count.to_string(), color_scheme="red", size="1",
                                                    class_name="failing-count"),
                      rx.icon("circle-check", size=14, color=rx.color("green", 10)))
    return rx.card(rx.tabs.root(
        rx.tabs.list(
            tab_trigger("sample", "Sample data"),
            tab_trigger("variables", "Variables"),
            rx.cond(s.template["kind"] == "email", tab_trigger("checks", "Checklist", failing)),
            rx.cond((s.template["kind"] == "email") & s.can_edit, tab_trigger("links", "Picture links")),
            tab_trigger("versions", "Versions", rx.badge(s.versions.length().to_string(), variant="soft",
                                                        color_scheme="gray", size="1")),
        ),
        rx.box(rx.tabs.content(sample_panel(), value="sample"),
               rx.tabs.content(variables_panel(), value="variables"),
               rx.tabs.content(checklist_panel(), value="checks"),
               rx.tabs.content(links_panel(), value="links"),
               rx.tabs.content(versions_panel(), value="versions"),
               padding_top="16px"),
        default_value="sample", width="100%",
    ), width="100%", min_width="0")


def image_style_editor() -> rx.Component:
    s, t = TemplateEditorState, TemplateToolsState
    return rx.card(rx.vstack(
        rx.text("Prompt", size="2", weight="medium"),
        rx.text_area(value=s.prompt, on_change=s.set_prompt.debounce(300), read_only=~s.can_edit, rows="4",
                     width="100%", aria_label="Prompt template", max_length=2000, id="style-prompt",
                     **in_save_form("prompt")),
        rx.text("Use {{ variable }} for the parts a person fills in; declare them under Variables.", size="1",
                color=rx.color("gray", 10)),
        rx.box(rx.text("With the sample data", size="1", weight="bold", color=rx.color("gray", 10)),
               rx.text(s.prompt_preview, size="2", id="prompt-preview"),
               width="100%", padding="8px 12px", border_radius="8px", background=rx.color("gray", 2),
               border=f"1px solid {rx.color('gray', 4)}"),
        rx.text("Negative prompt", size="2", weight="medium"),
        rx.input(value=s.negative_prompt, on_change=s.set_negative_prompt.debounce(300), read_only=~s.can_edit,
                 width="100%", aria_label="Negative prompt", max_length=2000, **in_save_form("negative_prompt")),
        rx.text("Generation settings", size="2", weight="medium"),
        rx.text_area(value=s.settings_text, on_change=s.set_settings_text.debounce(300), read_only=~s.can_edit,
                     rows="5", width="100%", aria_label="Generation settings (JSON)", spell_check=False,
                     **in_save_form("settings"),
                     style={"font_family": MONO, "font_size": "12.5px"}),
        rx.text("JSON with any of: style, size, n, seed, provider, model.", size="1", color=rx.color("gray", 10)),
        rx.hstack(rx.spacer(), rx.tooltip(rx.box(rx.button(
            rx.icon("sparkles", size=14), "Use in Generate", variant="soft", on_click=t.use_in_generate,
            id="use-in-generate", disabled=s.template["active_number"] == "")),
            content="Generate uses the active (approved) version"), width="100%"),
        spacing="2", width="100%",
    ), width="100%")


def slide_summary() -> rx.Component:
    s, t = TemplateEditorState, TemplateToolsState
    return rx.card(rx.vstack(
        rx.hstack(
            rx.text("Outline", size="2", weight="bold"), rx.spacer(),
            rx.tooltip(rx.box(rx.button(rx.icon("presentation", size=14), "New deck from this template",
                                        on_click=t.new_deck, disabled=s.template["active_number"] == "",
                                        id="new-deck-from-template")),
                       content="Made from the active (approved) version"),
            width="100%", align="center"),
        rx.cond(s.outline.length() > 0, rx.vstack(rx.foreach(s.outline, lambda row: rx.hstack(
            rx.text(row["number"], size="1", color=rx.color("gray", 9), width="24px", text_align="right"),
            rx.text(row["title"], size="2", flex="1"),
            rx.badge(row["layout"], variant="soft", color_scheme="gray", size="1"),
            width="100%", align="center", spacing="3")), spacing="2", width="100%"),
            rx.text("This template holds no slides.", size="2", color=rx.color("gray", 10))),
        rx.text("To change the slides, edit a deck on the Slides page and save it as this template again.",
                size="1", color=rx.color("gray", 10)),
        spacing="3", width="100%",
    ), width="100%")


def body() -> rx.Component:
    s = TemplateEditorState
    kind = s.template["kind"]
    return rx.fragment(
        rx.match(kind, ("email", email_editor()), ("image_style", image_style_editor()), slide_summary()),
        rx.cond(kind != "slide", save_bar()),
        rx.grid(
            rx.cond(kind == "slide", rx.card(versions_panel(), width="100%"), lower_tabs()),
            status_area(),
            columns=rx.breakpoints(initial="1", lg="minmax(0, 1fr) 320px"), spacing="4", width="100%",
            align_items="start", margin_top="20px",
        ),
        compare_dialog(),
        send_dialog(),
    )


def missing() -> rx.Component:
    return rx.center(rx.vstack(
        rx.icon("file-question", size=36, color=rx.color("gray", 9)),
        rx.text("This template does not exist in this workspace.", weight="bold"),
        rx.link("Back to the templates", href=routes.TEMPLATES),
        align="center", spacing="3", padding="48px"), width="100%", id="template-missing")


def template_editor_page() -> rx.Component:
    s = TemplateEditorState
    # The split editor wants more room than a list page.
    return app_shell(rx.cond(s.missing, missing(), rx.cond(s.template.contains("id"), rx.fragment(header(), body()))),
                     wide=True)
