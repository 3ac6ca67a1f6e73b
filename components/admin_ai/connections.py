"""The list of AI connections: where each points, whether it works, and what it offers."""

import reflex as rx

from components.layout.confirm import confirm_action
from components.layout.text_wrap import WRAP_CLASS
from state.admin_ai import AdminAIState

MUTED = rx.color("gray", 10)


def offer_chip(text: rx.Var) -> rx.Component:
    # Long model ids (org/model-name:tag) are cut with an ellipsis; the whole id is in the tooltip.
    return rx.badge(text, variant="surface", color_scheme="gray", size="1", max_width="260px",
                    overflow="hidden", text_overflow="ellipsis", white_space="nowrap", display="inline-block",
                    title=text)


def test_line(row: rx.Var) -> rx.Component:
    s = AdminAIState
    return rx.cond(
        s.testing == row["id"],
        rx.hstack(rx.spinner(size="1"), rx.text("Testing…", size="1", color=MUTED), align="center", spacing="2"),
        rx.match(
            row["status"],
            ("ok", rx.text("Tested " + row["tested"] + " · " + row["latency"] + " · " + row["models"], size="1",
                           color=rx.color("green", 11))),
            ("failed", rx.text("Test failed " + row["tested"] + ": " + row["error"], size="1",
                               color=rx.color("red", 11), role="alert")),
            rx.text("Not tested yet", size="1", color=MUTED),
        ),
    )


def connection_card(row: rx.Var) -> rx.Component:
    s = AdminAIState
    chips = s.offers[row["id"]]
    return rx.card(rx.vstack(
        rx.hstack(
            rx.vstack(
                # A long name with no space breaks inside the card instead of running under the toggle.
                rx.hstack(rx.text(row["name"], weight="bold", size="3", class_name=WRAP_CLASS, min_width="0"),
                          rx.badge(row["preset_label"], variant="soft", size="1"),
                          rx.cond(row["has_key"] == "yes",
                                  rx.badge(rx.icon("key-round", size=12), "key set", color_scheme="green",
                                           variant="soft", size="1")),
                          align="center", spacing="2", wrap="wrap", min_width="0", width="100%"),
                rx.code(row["base_url"], size="1", variant="ghost", color=MUTED, word_break="break-all"),
                spacing="1", min_width="0", flex="1",
            ),
            rx.el.label(rx.hstack(
                rx.switch(checked=row["enabled"] == "yes", aria_label="Enabled",
                          on_change=lambda v: s.toggle_enabled(row["id"], v)),
                rx.text(rx.cond(row["enabled"] == "yes", "Enabled", "Disabled"), size="2"),
                align="center", spacing="2"), style={"cursor": "pointer", "display": "flex", "flexShrink": "0"}),
            align="start", spacing="4", width="100%",
        ),
        test_line(row),
        rx.cond(chips.length() > 0, rx.flex(rx.foreach(chips, offer_chip), wrap="wrap", gap="6px", width="100%")),
        rx.hstack(
            rx.button(rx.icon("plug-zap", size=14), "Test", size="1", variant="soft",
                      loading=s.testing == row["id"], disabled=s.testing != "",
                      on_click=s.test_connection(row["id"])),
            rx.button(rx.icon("pencil", size=14), "Edit", size="1", variant="soft", color_scheme="gray",
                      on_click=s.open_editor(row["id"])),
            confirm_action(rx.button(rx.icon("trash-2", size=14), "Delete", size="1", variant="soft",
                                     color_scheme="red"),
                           title="Delete this connection?",
                           description="Pages stop offering its models. A connection that is a default or is "
                                       "running work cannot be deleted.",
                           confirm_label="Delete", on_confirm=s.delete_connection(row["id"])),
            spacing="2",
        ),
        spacing="3", width="100%",
    ), width="100%", size="2")


def empty_state() -> rx.Component:
    return rx.card(rx.vstack(
        rx.icon("plug", size=28, color=MUTED),
        rx.text("No AI connections yet", weight="bold", size="3"),
        rx.text("Every page works offline with the built-in engines. Connect a server (Ollama on this machine, "
                "OpenAI, ComfyUI…) to recognize objects in photos, draw realistic images and write slide text.",
                size="2", color=rx.color("gray", 11), text_align="center", max_width="520px"),
        rx.button(rx.icon("plus", size=16), "Add connection", on_click=AdminAIState.open_add, margin_top="4px"),
        align="center", spacing="2", padding_y="20px", width="100%",
    ), width="100%")


def connections_section() -> rx.Component:
    s = AdminAIState
    return rx.vstack(
        rx.cond(s.last_test["text"] != "",
                rx.callout(s.last_test["text"], icon=rx.cond(s.last_test["ok"] == "yes", "circle-check",
                                                              "circle-alert"),
                           color_scheme=rx.cond(s.last_test["ok"] == "yes", "green", "red"), size="1",
                           width="100%", id="ai-test-result")),
        rx.cond(s.connections.length() > 0,
                rx.grid(rx.foreach(s.connections, connection_card), columns=rx.breakpoints(initial="1", lg="2"),
                        spacing="3", width="100%"),
                empty_state()),
        spacing="3", width="100%",
    )
