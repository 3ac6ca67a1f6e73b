"""The editor's dialogs: compare two versions, test send, and the template's details."""

import reflex as rx

from components.templates.email_editor import MONO, PREVIEW_SANDBOX
from components.templates.panels import DEFAULT_SAMPLE
from state.template_editor import TemplateEditorState
from state.template_tools import TemplateToolsState

DIFF_COLORS = {"add": ("green", "+"), "del": ("red", "−"), "fold": ("gray", " "), "same": ("gray", " ")}


def version_select(side: str, value: rx.Var) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(aria_label="Version " + side.upper(), min_width="110px"),
        rx.select.content(rx.foreach(TemplateEditorState.versions,
                                     lambda v: rx.select.item("Version " + v["number"], value=v["number"]))),
        value=value, on_change=lambda n: TemplateToolsState.set_compare(side, n), size="2",
    )


def diff_line(row: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.text(row["old"], width="40px", text_align="right", color=rx.color("gray", 9), flex_shrink="0"),
        rx.text(row["new"], width="40px", text_align="right", color=rx.color("gray", 9), flex_shrink="0"),
        rx.text(rx.match(row["kind"], ("add", "+"), ("del", "−"), " "), width="14px", flex_shrink="0"),
        rx.text(row["text"], white_space="pre", flex="1"),
        spacing="2", font_family=MONO, font_size="12px", line_height="1.6", padding_x="6px", width="100%",
        background=rx.match(row["kind"], ("add", rx.color("green", 3)), ("del", rx.color("red", 3)),
                            ("fold", rx.color("gray", 3)), "transparent"),
        class_name="diff-" + row["kind"],
    )


def rendered_side(label: rx.Var, html: rx.Var, frame_id: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="bold"),
        rx.el.iframe(src_doc=html, title=label, sandbox=PREVIEW_SANDBOX, id=frame_id,
                     style={"width": "100%", "height": "460px", "border": f"1px solid {rx.color('gray', 5)}",
                            "border_radius": "8px", "background": "white"}),
        spacing="1", width="100%", min_width="0",
    )


def compare_dialog() -> rx.Component:
    t = TemplateToolsState
    return rx.dialog.root(rx.dialog.content(
        rx.hstack(rx.dialog.title("Compare versions", margin="0"), rx.spacer(),
                  rx.dialog.close(rx.icon_button(rx.icon("x", size=16), variant="ghost", aria_label="Close")),
                  width="100%", align="center"),
        rx.hstack(version_select("a", t.compare_a), rx.icon("arrow-right", size=16, color=rx.color("gray", 9)),
                  version_select("b", t.compare_b), rx.text(t.diff_summary, size="2", color=rx.color("gray", 11),
                                                            id="diff-summary"),
                  align="center", spacing="3", wrap="wrap", margin_y="12px"),
        rx.cond(t.compare_error != "", rx.callout(t.compare_error, icon="triangle-alert", color_scheme="red",
                                                  size="1")),
        rx.cond(t.html_a != "", rx.grid(
            rendered_side("Version " + t.compare_a, t.html_a, "compare-a"),
            rendered_side("Version " + t.compare_b, t.html_b, "compare-b"),
            columns="2", spacing="3", width="100%", margin_bottom="12px")),
        rx.cond(t.diff.length() > 0, rx.scroll_area(
            rx.box(rx.foreach(t.diff, diff_line), padding_y="4px"),
            type="auto", max_height="360px", border=f"1px solid {rx.color('gray', 4)}", border_radius="8px",
            id="source-diff")),
        max_width="1100px", width="94vw",
    ), open=t.compare_open, on_open_change=t.close_compare)


def send_dialog() -> rx.Component:
    t, s = TemplateToolsState, TemplateEditorState
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title("Send a test"),
        rx.dialog.description("Version " + s.base_number.to_string() + " goes to these addresses through the "
                              "outbox, marked as a test.", size="2", margin_bottom="12px"),
        rx.form(rx.vstack(
            rx.text("Addresses", size="2", weight="medium"),
            rx.text_area(name="addresses", value=t.addresses, on_change=t.set_addresses,
                         placeholder="ada@example.com, grace@example.com", rows="3", width="100%",
                         aria_label="Addresses", max_length=2000),
            rx.text("Sample data", size="2", weight="medium"),
            rx.select.root(
                rx.select.trigger(width="100%", aria_label="Sample data"),
                rx.select.content(rx.select.item("What the editor shows now", value=DEFAULT_SAMPLE),
                                  rx.foreach(s.samples, lambda r: rx.select.item(r["name"], value=r["id"]))),
                value=t.send_sample, on_change=t.set_send_sample),
            rx.cond(s.dirty, rx.text("The editor has unsaved changes: save first to send them.", size="1",
                                     color=rx.color("amber", 11))),
            rx.cond(t.send_error != "", rx.text(t.send_error, color=rx.color("red", 11), size="2", role="alert")),
            rx.cond(t.send_result != "", rx.callout(t.send_result, icon="send", color_scheme="green", size="1",
                                                    width="100%")),
            rx.hstack(rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray", type="button")),
                      # The click's key rides in the form: a double click sends each email once.
                      rx.el.input(type="hidden", name="click_key", value=t.click_key),
                      rx.button(rx.icon("send", size=14), "Send test", type="submit", id="send-test"),
                      justify="end", width="100%", spacing="3"),
            spacing="2", width="100%",
        ), on_submit=t.send_test, reset_on_submit=False),
        max_width="480px",
    ), open=t.send_open, on_open_change=t.open_send)


def details_dialog() -> rx.Component:
    s = TemplateEditorState
    facts = s.template
    return rx.dialog.root(
        rx.dialog.trigger(rx.button(rx.icon("pencil", size=14), "Details", variant="soft", color_scheme="gray",
                                    id="template-details")),
        rx.dialog.content(
            rx.dialog.title("Template details"),
            rx.form(rx.vstack(
                rx.text("Name", size="2", weight="medium"),
                rx.input(name="name", default_value=facts["name"], max_length=120, width="100%", aria_label="Name"),
                rx.text("Description", size="2", weight="medium"),
                rx.text_area(name="description", default_value=facts["description"], max_length=1000, rows="3",
                             width="100%", aria_label="Description"),
                rx.grid(
                    rx.vstack(rx.text("Category", size="2", weight="medium"),
                              rx.input(name="category", default_value=facts["category"], max_length=60,
                                       width="100%", aria_label="Category"), spacing="1"),
                    rx.vstack(rx.text("Tags", size="2", weight="medium"),
                              rx.input(name="tags", default_value=facts["tags"], placeholder="newsletter, spring",
                                       width="100%", aria_label="Tags"), spacing="1"),
                    columns="2", spacing="3", width="100%"),
                rx.hstack(rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                          rx.dialog.close(rx.button("Save details", type="submit")),
                          justify="end", width="100%", spacing="3", margin_top="8px"),
                spacing="2", width="100%",
            ), on_submit=s.save_details, reset_on_submit=False),
            max_width="520px",
        ),
    )
