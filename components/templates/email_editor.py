"""The email template's split editor: MJML source on the left, the live preview (desktop / phone) on the right."""

import reflex as rx

from components.templates.pictures import insert_button, picture_picker
from state.template_editor import TemplateEditorState

# The previews' sandbox: no scripts, forms, popups or top navigation. Same origin only so the browser sends the
# session cookie (SameSite=Lax) with the member-only library pictures; without scripts nothing in the email can
# use that origin.
PREVIEW_SANDBOX = "allow-same-origin"
MONO = "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace"
PHONE = "375px"
FORM_ID = "template-form"  # the save bar's form; the boxes join it wherever they sit on the page


def in_save_form(name: str) -> dict:
    """A box's text rides in the save's form data: a click on Save just after typing sends what the box shows,
    not the debounced copy in the state (which may be one keystroke behind)."""
    return {"name": name, "custom_attrs": {"form": FORM_ID}}


def panel_title(text: str, *extra: rx.Component) -> rx.Component:
    return rx.hstack(rx.text(text, size="2", weight="bold"), rx.spacer(), *extra, width="100%", align="center",
                     min_height="32px")


def error_box() -> rx.Component:
    """The error a save or the preview hit, with the lines around the one it names (numbered, marked)."""
    s = TemplateEditorState
    message = rx.cond(s.save_error != "", s.save_error, s.preview_error)
    return rx.cond(message != "", rx.callout.root(
        rx.callout.icon(rx.icon("triangle-alert", size=16)),
        rx.vstack(
            rx.callout.text(message, weight="medium"),
            rx.cond(s.error_excerpt.length() > 0, rx.box(rx.foreach(s.error_excerpt, lambda row: rx.hstack(
                rx.text(row["number"], width="36px", text_align="right", color=rx.color("gray", 10),
                        flex_shrink="0"),
                rx.text(row["text"], white_space="pre", overflow="hidden", text_overflow="ellipsis"),
                spacing="3", font_family=MONO, font_size="12px", padding_x="4px",
                background=rx.cond(row["bad"] == "yes", rx.color("red", 4), "transparent"))),
                width="100%", border_radius="6px", background=rx.color("gray", 2), padding_y="4px")),
            spacing="2", width="100%",
        ),
        color_scheme="red", size="1", width="100%", role="alert", id="editor-error",
    ))


def source_panel() -> rx.Component:
    s = TemplateEditorState
    return rx.card(rx.vstack(
        panel_title("MJML source", rx.text(s.line_count.to_string() + " lines", size="1",
                                           color=rx.color("gray", 10)), insert_button()),
        rx.text_area(
            value=s.source, on_change=s.set_source.debounce(300), read_only=~s.can_edit, spell_check=False,
            aria_label="MJML source", id="template-source", width="100%", height="560px", resize="vertical",
            **in_save_form("source"),
            # Code reads better unwrapped (the box scrolls sideways); Radix styles the root, so the textarea's own.
            style={"font_family": MONO, "font_size": "12.5px", "line_height": "1.55",
                   "& textarea": {"white_space": "pre", "overflow_x": "auto", "tab_size": "2"}},
        ),
        error_box(),
        picture_picker(),
        spacing="2", width="100%",
    ), width="100%", min_width="0")


def preview_panel() -> rx.Component:
    s = TemplateEditorState
    return rx.card(rx.vstack(
        panel_title(
            "Preview",
            rx.cond(s.preview_ms != "", rx.text(s.preview_ms, size="1", color=rx.color("gray", 9),
                                                id="preview-ms")),
            rx.segmented_control.root(
                rx.segmented_control.item(rx.hstack(rx.icon("monitor", size=14), "Desktop", spacing="1",
                                                    align="center"), value="desktop"),
                rx.segmented_control.item(rx.hstack(rx.icon("smartphone", size=14), "Phone", spacing="1",
                                                    align="center"), value="phone"),
                value=s.width, on_change=s.set_width, size="1", aria_label="Preview width",
            ),
        ),
        rx.box(
            rx.el.iframe(
                src_doc=s.preview_html, title="Email preview", sandbox=PREVIEW_SANDBOX, id="template-preview",
                style={
                    # Desktop: the 600px email scaled down to fit a narrower column (CSS zoom with container
                    # units; a browser without them scrolls instead), the full column when wider.
                    "width": rx.cond(s.width == "phone", PHONE, "max(600px, 100cqw)"),
                    "zoom": rx.cond(s.width == "phone", "1", "min(1, calc(100cqw / 600px))"),
                    "height": "100%", "border": "none", "display": "block", "background": "white",
                    "border_radius": rx.cond(s.width == "phone", "18px", "6px"),
                    "box_shadow": rx.cond(s.width == "phone", "0 2px 10px rgba(0,0,0,.15)", "none")},
            ),
            height="560px", width="100%", overflow="hidden", display="flex", justify_content="center",
            container_type="inline-size", padding=rx.cond(s.width == "phone", "14px 0", "0"),
            background=rx.color("gray", 3), border_radius="8px", data_width=s.width, id="preview-frame",
        ),
        rx.cond(s.preview_error != "", rx.text("Showing the last preview that rendered.", size="1",
                                               color=rx.color("gray", 10))),
        rx.cond(s.external_images, rx.text("Pictures from other sites do not load in this preview (the app's "
                                           "security policy); a test send shows them.", size="1",
                                           color=rx.color("gray", 10))),
        spacing="2", width="100%",
    ), width="100%", min_width="0")


def email_editor() -> rx.Component:
    return rx.grid(source_panel(), preview_panel(),
                   columns=rx.breakpoints(initial="1", lg="minmax(0, 1fr) minmax(0, 1.15fr)"), spacing="4",
                   width="100%", align_items="start")
