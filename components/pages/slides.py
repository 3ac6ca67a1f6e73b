"""The Slides page: the deck request form and the user's decks on the left, the open deck on the right."""

import reflex as rx

from components.layout.role_notice import role_notice
from components.layout.shell import app_shell, page_header
from components.slides.form import deck_list, request_form
from components.slides.save_template import save_as_template
from components.slides.workspace import download_buttons, workspace
from state.slides import SlidesState


def slides_page() -> rx.Component:
    return app_shell(
        page_header("Slides", "Topic or document → editable outline → live slides → an editable .pptx.",
                    rx.cond(SlidesState.has_deck, rx.hstack(save_as_template(), download_buttons(), spacing="2",
                                                            wrap="wrap"))),
        role_notice("slides.write", "make or change decks"),
        rx.grid(
            rx.vstack(request_form(), deck_list(), spacing="4", width="100%"),
            workspace(),
            columns=rx.breakpoints(initial="1", lg="340px minmax(0, 1fr)"), spacing="5", width="100%",
            align_items="start",
        ),
    )
