"""The editor's lower panels: sample data (a form the variables make), the variables, the checklist, versions."""

import reflex as rx

from components.templates.email_editor import MONO, in_save_form
from state.template_editor import TemplateEditorState
from state.template_tools import TemplateToolsState

DEFAULT_SAMPLE = "default"  # the select's "the variables' fallbacks" entry


def _control(field: rx.Var) -> rx.Component:
    s = TemplateEditorState
    return rx.match(
        field.kind,
        ("boolean", rx.switch(checked=field.value == "true", on_change=lambda v: s.set_sample_value(field.name, v),
                              aria_label=field.title)),
        ("choice", rx.select.root(
            rx.select.trigger(width="100%", aria_label=field.title),
            rx.select.content(rx.foreach(field.options, lambda o: rx.select.item(o["label"], value=o["value"]))),
            value=field.value, on_change=lambda v: s.set_sample_value(field.name, v))),
        rx.input(value=field.value, on_change=lambda v: s.set_sample_value(field.name, v).debounce(250),
                 aria_label=field.title, name=field.name, width="100%", max_length=2000,
                 type=rx.cond((field.kind == "integer") | (field.kind == "number"), "number", "text")),
    )


def sample_field(field: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.text(field.title, size="2", weight="medium"),
                  rx.cond(field.required == "yes", rx.text("*", color=rx.color("red", 10))),
                  rx.text(field.name, size="1", color=rx.color("gray", 9), font_family=MONO), spacing="2",
                  align="baseline"),
        _control(field),
        rx.cond(field.description != "", rx.text(field.description, size="1", color=rx.color("gray", 10))),
        spacing="1", width="100%", class_name="sample-field", data_field=field.name,
    )


def sample_panel() -> rx.Component:
    s = TemplateEditorState
    return rx.vstack(
        rx.hstack(
            rx.select.root(
                rx.select.trigger(aria_label="Sample set", min_width="200px"),
                rx.select.content(rx.select.item("Fallback values", value=DEFAULT_SAMPLE),
                                  rx.foreach(s.samples, lambda r: rx.select.item(r["name"], value=r["id"]))),
                value=rx.cond(s.sample_id != "", s.sample_id, DEFAULT_SAMPLE),
                on_change=s.pick_sample, size="2",
            ),
            rx.text("The preview and test sends use this data.", size="1", color=rx.color("gray", 10)),
            width="100%", align="center", wrap="wrap", spacing="3",
        ),
        rx.cond(s.fields.length() > 0,
                rx.grid(rx.foreach(s.fields, sample_field), columns=rx.breakpoints(initial="1", md="2"),
                        spacing="3", width="100%"),
                rx.text("This template declares no variables yet (see Variables).", size="2",
                        color=rx.color("gray", 10))),
        rx.cond(s.can_edit, rx.hstack(
            rx.input(value=s.sample_name, on_change=s.set_sample_name, placeholder="Name of this sample set",
                     max_length=60, aria_label="Sample set name", flex="1", min_width="180px"),
            rx.button(rx.cond(s.sample_id != "", "Save set", "Save as a set"), variant="soft",
                      on_click=s.save_sample(False), id="save-sample"),
            rx.cond(s.sample_id != "", rx.button("Save as new", variant="soft", color_scheme="gray",
                                                 on_click=s.save_sample(True))),
            rx.cond(s.sample_id != "", rx.button("Delete set", variant="ghost", color_scheme="red",
                                                 on_click=s.delete_sample)),
            width="100%", align="center", wrap="wrap", spacing="2", padding_top="8px",
            border_top=f"1px solid {rx.color('gray', 4)}",
        )),
        spacing="4", width="100%", id="sample-panel",
    )


def variables_panel() -> rx.Component:
    s = TemplateEditorState
    return rx.vstack(
        rx.text("A JSON Schema: each variable has a type (string, number, integer, boolean or array), a title, and "
                "a default used as the fallback; list the ones every send must fill in “required”.", size="2",
                color=rx.color("gray", 11)),
        rx.text_area(value=s.schema_text, on_change=s.set_schema_text.debounce(400), read_only=~s.can_edit,
                     spell_check=False, aria_label="Variables (JSON Schema)", id="template-schema", width="100%",
                     **in_save_form("schema"),
                     height="260px", resize="vertical",
                     style={"font_family": MONO, "font_size": "12.5px", "& textarea": {"white_space": "pre"}}),
        spacing="2", width="100%",
    )


def check_icon(check: rx.Var) -> rx.Component:
    return rx.cond(
        check.ok == "yes",
        rx.icon("circle-check", size=18, color=rx.color("green", 10)),
        rx.cond(check.blocking == "yes", rx.icon("circle-x", size=18, color=rx.color("red", 10)),
                rx.icon("info", size=18, color=rx.color("amber", 10))),
    )


def proposal_row(proposal: rx.Var) -> rx.Component:
    s = TemplateEditorState
    return rx.hstack(
        rx.text(proposal["src"], size="1", color=rx.color("gray", 10), overflow="hidden", text_overflow="ellipsis",
                white_space="nowrap", max_width="220px"),
        rx.text("“", proposal["alt"], "”", size="2", flex="1"),
        rx.cond(s.can_edit, rx.button("Accept", size="1", variant="soft",
                                      on_click=s.accept_alt(proposal["src"], proposal["alt"]))),
        width="100%", align="center", spacing="2", class_name="alt-proposal",
    )


def check_row(check: rx.Var) -> rx.Component:
    return rx.hstack(
        check_icon(check),
        rx.vstack(
            rx.text(check.label, size="2", weight="medium"),
            rx.text(check.detail, size="1", color=rx.color("gray", 10)),
            rx.foreach(check.faults, lambda item: rx.text("• ", item, size="1", color=rx.color("gray", 11),
                                                         word_break="break-all")),
            rx.cond(check.proposals.length() > 0, rx.vstack(
                rx.text("Proposed alt text", size="1", weight="bold", color=rx.color("gray", 10)),
                rx.foreach(check.proposals, proposal_row), spacing="1", width="100%")),
            spacing="1", width="100%", min_width="0",
        ),
        width="100%", align="start", spacing="3", padding_y="8px",
        border_bottom=f"1px solid {rx.color('gray', 3)}", class_name="check-row", data_key=check.key,
        data_ok=check.ok,
    )


def checklist_panel() -> rx.Component:
    s = TemplateEditorState
    return rx.vstack(
        rx.hstack(
            rx.text("Checked on every edit; moderation, brand and alt text proposals run when a version is saved.",
                    size="1", color=rx.color("gray", 10)),
            rx.spacer(),
            rx.cond(s.can_edit & (s.base_number > 0), rx.button(rx.icon("refresh-cw", size=12), "Check again",
                                                               size="1", variant="ghost", on_click=s.recheck)),
            width="100%", align="center"),
        rx.foreach(s.checks, check_row),
        spacing="1", width="100%", id="checklist",
    )


def version_row(row: rx.Var) -> rx.Component:
    s, t = TemplateEditorState, TemplateToolsState
    latest = row["number"] == s.base_number.to_string()
    return rx.hstack(
        rx.text("v" + row["number"], weight="bold", size="2", min_width="36px"),
        rx.vstack(
            rx.hstack(
                rx.badge(row["status_label"], color_scheme=row["color"], variant="soft", size="1"),
                rx.cond(row["active"] == "yes", rx.badge(rx.icon("circle-check", size=12), "Active",
                                                         color_scheme="green", size="1", class_name="active-marker")),
                rx.cond(row["revision"] != "0", rx.text("revision " + row["revision"], size="1",
                                                        color=rx.color("gray", 10))),
                spacing="2", align="center", wrap="wrap",
            ),
            rx.text(row["author"] + " · " + row["time"], size="1", color=rx.color("gray", 10)),
            rx.cond(row["note"] != "", rx.text(row["note"], size="2", color=rx.color("gray", 12))),
            rx.cond(row["reason"] != "", rx.text("Reason: " + row["reason"], size="1", color=rx.color("red", 11))),
            spacing="1", flex="1", min_width="0",
        ),
        rx.hstack(
            rx.cond(~latest, rx.button("Compare", size="1", variant="soft", color_scheme="gray",
                                       on_click=t.open_compare(row["number"]), class_name="compare-version")),
            rx.cond(s.can_edit & ~latest, rx.button("Restore", size="1", variant="soft",
                                                    on_click=s.restore(row["number"]))),
            spacing="2", align="center",
        ),
        width="100%", align="start", spacing="3", padding_y="10px", border_bottom=f"1px solid {rx.color('gray', 3)}",
        class_name="version-row", data_number=row["number"],
    )


def versions_panel() -> rx.Component:
    s = TemplateEditorState
    return rx.vstack(
        rx.cond(s.versions.length() > 0, rx.foreach(s.versions, version_row),
                rx.text("No version saved yet.", size="2", color=rx.color("gray", 10))),
        spacing="0", width="100%", id="versions",
    )
