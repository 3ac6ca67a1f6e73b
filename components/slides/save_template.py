"""The Slides page's "Save as template" button and its dialog."""

import reflex as rx

from state.session import SessionState
from state.slides_template import SlidesTemplateState


def save_as_template() -> rx.Component:
    s = SlidesTemplateState
    return rx.cond(SessionState.allowed["templates.write"], rx.dialog.root(
        rx.dialog.trigger(rx.button(rx.icon("layout-template", size=16), "Save as template", variant="soft",
                                    color_scheme="gray", on_click=s.show(True), id="save-as-template")),
        rx.dialog.content(
            rx.dialog.title("Save as template"),
            rx.dialog.description("The saved deck (its outline, theme and brand kit) becomes a slide template your "
                                  "team can start new decks from once it is approved.", size="2",
                                  margin_bottom="12px"),
            rx.form(rx.vstack(
                rx.input(name="name", value=s.name, on_change=s.set_name, placeholder="Template name",
                         max_length=120, width="100%", aria_label="Template name"),
                rx.cond(s.error != "", rx.text(s.error, color=rx.color("red", 11), size="2", role="alert")),
                rx.cond(s.saved_url != "", rx.callout(
                    rx.hstack(rx.text("Saved."), rx.link("Open the template", href=s.saved_url), spacing="2"),
                    icon="circle-check", color_scheme="green", size="1", width="100%")),
                rx.hstack(rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray", type="button")),
                          rx.button("Save as template", type="submit", disabled=s.saved_url != ""),
                          justify="end", width="100%", spacing="3"),
                spacing="3", width="100%",
            ), on_submit=s.save, reset_on_submit=False),
            max_width="460px",
        ),
        open=s.open, on_open_change=s.show,
    ))
