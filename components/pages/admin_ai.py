"""The AI connections admin page: outside AI servers, their tests, and the default per capability."""

import reflex as rx

from components.admin_ai.connections import connections_section
from components.admin_ai.defaults import defaults_section
from components.admin_ai.form import connection_dialog
from components.layout.shell import app_shell, page_header
from state.admin_ai import AdminAIState


def admin_ai_page() -> rx.Component:
    return app_shell(
        page_header("AI connections", "Outside AI servers Atelier may call, and which one each task uses.",
                    rx.button(rx.icon("plus", size=16), "Add connection", on_click=AdminAIState.open_add)),
        rx.vstack(connections_section(), defaults_section(), spacing="5", width="100%"),
        connection_dialog(),
    )
