"""The live preview (slide thumbnails with their stage as they fill in), the large view, and the versions."""

import reflex as rx

from components.layout.confirm import confirm_action
from state.slides import SlidesState

STAGE_COLORS = {"outline": "gray", "writing": "blue", "image": "violet", "chart": "amber", "ready": "green",
                "failed": "red"}
WORKING = ["writing", "image", "chart"]


def stage_badge(row: rx.Var) -> rx.Component:
    return rx.badge(
        rx.cond(rx.Var.create(WORKING).contains(row["stage"]), rx.spinner(size="1")),
        row["stage_label"], color_scheme=rx.match(row["stage"], *STAGE_COLORS.items(), "gray"), variant="soft",
        radius="full", class_name="stage-badge", data_stage=row["stage"])


def thumbnail(row: rx.Var) -> rx.Component:
    working = rx.Var.create(WORKING).contains(row["stage"])
    return rx.vstack(
        rx.box(
            rx.cond(row["preview"] != "",
                    rx.image(src=row["preview"], alt="Slide " + row["number"] + ": " + row["title"], width="100%",
                             height="100%", object_fit="cover", loading="lazy"),
                    rx.center(rx.text("Save the outline to see this slide", size="1", color=rx.color("gray", 10)),
                              height="100%")),
            rx.cond(working, rx.center(
                rx.hstack(rx.spinner(size="2"), rx.text(row["stage_label"] + "…", size="2", weight="medium"),
                          align="center", spacing="2", padding="6px 12px", border_radius="999px",
                          background=rx.color("gray", 1), box_shadow="0 4px 14px -6px rgba(0,0,0,.4)"),
                position="absolute", inset="0",
                background=rx.color_mode_cond("rgba(255,255,255,0.45)", "rgba(0,0,0,0.35)"),
                backdrop_filter="blur(1px)")),
            rx.cond(row["locked"] == "yes", rx.box(rx.icon("lock", size=12), position="absolute", top="8px",
                                                   left="8px", padding="4px", border_radius="6px", line_height="0",
                                                   background="rgba(0,0,0,.55)", color="white")),
            position="relative", width="100%", aspect_ratio="16 / 9", border_radius="10px", overflow="hidden",
            border=f"1px solid {rx.color('gray', 5)}", background=rx.color("gray", 3), cursor="zoom-in",
            on_click=SlidesState.zoom(row["id"]), role="button", tab_index=0,
            aria_label="Show slide " + row["number"] + " large",
        ),
        rx.hstack(
            rx.text(row["number"] + " · " + row["title"], size="2", weight="medium", overflow="hidden",
                    text_overflow="ellipsis", white_space="nowrap", flex="1"),
            rx.cond(row["placeholder"] == "yes", rx.badge("placeholder", color_scheme="amber", variant="soft",
                                                          radius="full", class_name="placeholder-badge")),
            stage_badge(row),
            rx.tooltip(rx.icon_button(rx.icon("refresh-cw", size=14), size="1", variant="ghost", color_scheme="gray",
                                      on_click=SlidesState.regenerate_slide(row["id"]),
                                      disabled=SlidesState.busy | (row["locked"] == "yes"),
                                      aria_label="Regenerate slide " + row["number"]),
                       content="Regenerate this slide"),
            width="100%", align="center", spacing="2"),
        rx.cond(row["stage"] == "failed", rx.text(row["error"], size="1", color=rx.color("red", 11))),
        spacing="2", width="100%", class_name="preview-slide", data_stage=row["stage"],
    )


def preview_tab() -> rx.Component:
    s = SlidesState
    return rx.vstack(
        rx.grid(rx.foreach(s.rows, thumbnail), columns=rx.breakpoints(initial="1", sm="2"), spacing="4",
                width="100%", id="preview-grid"),
        zoom_dialog(),
        regenerate_dialog(),
        spacing="3", width="100%",
    )


def regenerate_dialog() -> rx.Component:
    """Asked when the slide to regenerate holds the user's own text: their words are never replaced silently."""
    s = SlidesState
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Replace your edits?"),
            rx.alert_dialog.description(s.confirm_regenerate_message),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Keep my text", variant="soft", color_scheme="gray",
                                                 on_click=s.dismiss_regenerate)),
                rx.alert_dialog.action(rx.button("Regenerate anyway", color_scheme="red",
                                                 on_click=s.confirm_regenerate)),
                justify="end", spacing="3", margin_top="16px",
            ),
            max_width="480px",
        ),
        open=s.confirm_regenerate_id != "",
    )


def zoom_dialog() -> rx.Component:
    s = SlidesState
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Slide " + s.zoomed["number"] + " · " + s.zoomed["title"]),
            rx.image(src=s.zoomed["large"], alt=s.zoomed["title"], width="100%", border_radius="8px",
                     border=f"1px solid {rx.color('gray', 5)}"),
            rx.hstack(rx.spacer(), rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")),
                      margin_top="12px"),
            max_width="980px",
        ),
        open=s.zoom_id != "",
        on_open_change=lambda is_open: rx.cond(is_open, rx.noop(), s.close_zoom()),
    )


def version_row(version: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.center(rx.text("v" + version["number"], size="2", weight="bold"), min_width="40px", height="28px",
                  border_radius="8px", background=rx.color("gray", 3)),
        rx.vstack(rx.text(version["note"], size="2", weight="medium"),
                  rx.text(version["slides"] + " slides · " + version["created"], size="1",
                          color=rx.color("gray", 10)), spacing="0", flex="1"),
        confirm_action(rx.button(rx.icon("history", size=14), "Restore", size="1", variant="soft",
                                 disabled=SlidesState.busy),
                       title="Restore version " + version["number"] + "?",
                       description="The outline goes back to this version; the current one is kept as a version.",
                       confirm_label="Restore", on_confirm=SlidesState.restore_version(version["number"])),
        width="100%", align="center", spacing="3", padding="8px 0",
        border_bottom=f"1px solid {rx.color('gray', 4)}", class_name="version-row",
    )


def versions_tab() -> rx.Component:
    s = SlidesState
    return rx.vstack(
        rx.hstack(rx.input(value=s.version_note, on_change=s.set_version_note, placeholder="Note (optional)",
                           width="100%", max_length=200, aria_label="Version note"),
                  rx.button(rx.icon("bookmark-plus", size=16), "Save version", on_click=s.save_version,
                            disabled=s.busy),
                  width="100%", spacing="2"),
        rx.cond(s.versions.length() > 0,
                rx.vstack(rx.foreach(s.versions, version_row), spacing="0", width="100%", id="version-list"),
                rx.text("A version is saved after every generation, and whenever you save one here.", size="2",
                        color=rx.color("gray", 10))),
        spacing="3", width="100%",
    )
