"""The outline editor: one card per slide (title, layout, bullets one per line, notes), reorder, add, delete, lock."""

import reflex as rx

from app import routes
from app.services.slides.outline_data import CHART_TYPES, MAX_DATA_CHARS
from app.services.slides.outline_rows import LAYOUTS
from components.library.picker import picker_search, picture_choices
from components.slides.sortable import sortable_item, sortable_list
from state.slides import SlidesState

TEXT_LAYOUTS = ["bullets", "two_column", "image_text"]


def _edit(row: rx.Var, name: str):
    return lambda value: SlidesState.edit_slide(row["id"], name, value)


def _area(row: rx.Var, name: str, label: str, placeholder: str, rows: str = "4",
          max_length: int = 8000) -> rx.Component:
    return rx.text_area(value=row[name], on_change=_edit(row, name), placeholder=placeholder, rows=rows,
                        width="100%", aria_label=label + " of slide " + row["number"], max_length=max_length,
                        disabled=(row["locked"] == "yes") | SlidesState.busy, resize="vertical", size="2")


def _label(text: str | rx.Var) -> rx.Component:
    return rx.text(text, size="1", weight="medium", color=rx.color("gray", 10), margin_bottom="-4px")


def _line(row: rx.Var, name: str, label: str, placeholder: str, max_length: int = 600) -> rx.Component:
    return rx.input(value=row[name], on_change=_edit(row, name), placeholder=placeholder, width="100%",
                    aria_label=label + " of slide " + row["number"], max_length=max_length,
                    disabled=(row["locked"] == "yes") | SlidesState.busy)


def layout_select(row: rx.Var) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(aria_label="Layout of slide " + row["number"], width="150px"),
        rx.select.content(*[rx.select.item(label, value=value) for value, label in LAYOUTS]),
        value=row["layout"], on_change=lambda v: SlidesState.edit_slide(row["id"], "layout", v),
        disabled=(row["locked"] == "yes") | SlidesState.busy,
    )


def tool(icon: str | rx.Component, label: rx.Var | str, on_click, disabled: rx.Var | bool = False,
         active: rx.Var | bool = False) -> rx.Component:
    glyph = rx.icon(icon, size=15) if isinstance(icon, str) else icon
    return rx.tooltip(rx.icon_button(glyph, size="1", variant=rx.cond(active, "solid", "ghost"),
                                     color_scheme=rx.cond(active, "amber", "gray"), on_click=on_click,
                                     disabled=disabled, aria_label=label, aria_pressed=active),
                      content=label)


def chart_type_select(row: rx.Var) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(aria_label="Chart type of slide " + row["number"], width="150px"),
        rx.select.content(*[rx.select.item(kind.capitalize(), value=kind) for kind in CHART_TYPES]),
        value=row["chart_type"], on_change=lambda v: SlidesState.edit_slide(row["id"], "chart_type", v),
        disabled=(row["locked"] == "yes") | SlidesState.busy, size="1",
    )


def data_fields(row: rx.Var) -> rx.Component:
    """Chart or table data as text: typed with commas, or pasted from a spreadsheet (tabs)."""
    chart = row["layout"] == "chart"
    return rx.vstack(
        rx.hstack(
            rx.cond(chart, rx.icon("chart-column", size=14, color=rx.color("gray", 10)),
                    rx.icon("table", size=14, color=rx.color("gray", 10))),
            _label(rx.cond(chart, "Chart data · header: category label, then one name per series; a line per "
                                  "category", "Table · the first line is the header")),
            rx.spacer(),
            rx.cond(chart, chart_type_select(row)),
            width="100%", align="center", spacing="2"),
        rx.text_area(value=row["data_text"], on_change=_edit(row, "data_text"), rows="6", width="100%",
                     placeholder=rx.cond(chart, "Quarter, Revenue, Costs\nQ1, 120, 80\nQ2, 150, 90",
                                         "Plan, Seats, Price\nStarter, 1, 9\nTeam, 10, 49"),
                     aria_label="Data of slide " + row["number"], max_length=MAX_DATA_CHARS,
                     disabled=(row["locked"] == "yes") | SlidesState.busy, resize="vertical", size="2",
                     font_family="ui-monospace, SFMono-Regular, Menlo, monospace", class_name="slide-data"),
        rx.text("Paste cells from a spreadsheet, or type them with commas (quote a cell that holds one).",
                size="1", color=rx.color("gray", 9)),
        width="100%", spacing="2")


def picture_fields(row: rx.Var) -> rx.Component:
    """The slide's picture: one from the library (shown), else one generated from the prompt."""
    locked = (row["locked"] == "yes") | SlidesState.busy
    return rx.hstack(
        rx.cond(row["asset_id"] != "",
                rx.image(src=routes.asset_thumbnail_url(row["asset_id"]),
                         alt="Picture of slide " + row["number"], width="44px", height="33px", object_fit="cover",
                         border_radius="4px", class_name="slide-picture"),
                rx.center(rx.icon("image-plus", size=16, color=rx.color("gray", 10)), width="44px", height="33px",
                          border_radius="4px", background=rx.color("gray", 3))),
        _line(row, "image_prompt", "Picture prompt",
              rx.cond(row["asset_id"] != "", "Prompt (used if you remove the picture)",
                      "Describe the picture to generate"), max_length=1000),
        tool("images", "Pick a picture from the library", SlidesState.open_picker(row["id"]), locked),
        rx.cond(row["asset_id"] != "",
                tool("image-off", "Remove the picture", SlidesState.clear_picture(row["id"]), locked)),
        width="100%", align="center", spacing="2")


def picker_tile(item: rx.Var) -> rx.Component:
    return rx.button(
        rx.vstack(rx.image(src=item["thumb"], alt=item["name"], width="100%", height="84px", object_fit="contain",
                           border_radius="6px", background=rx.color("gray", 3)),
                  rx.text(item["name"], size="1", width="100%", text_align="left",
                          white_space="nowrap", overflow="hidden", text_overflow="ellipsis"),
                  spacing="1", width="100%"),
        on_click=SlidesState.pick_picture(item["id"]), variant="soft", color_scheme="gray", height="auto",
        padding="6px",
        width="100%", aria_label="Use " + item["name"], class_name="picker-tile")


def picture_picker() -> rx.Component:
    s = SlidesState
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title("Pick a picture"),
        rx.dialog.description("Your ready images. The slide uses the one you pick as it is, cropped to fit.",
                              size="2", color=rx.color("gray", 10)),
        rx.box(picker_search(s.picker_query, s.search_picker, s.picker_derived, s.set_picker_derived,
                             label="Search pictures"), margin_y="12px"),
        picture_choices(s.picker, s.picker_query, picker_tile,
                        empty="Your library has no ready images yet: add some on the Assets page."),
        rx.flex(rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", on_click=s.close_picker)),
                justify="end", margin_top="12px"),
        max_width="640px", id="picture-picker"),
        open=s.picker_for != "", on_open_change=lambda _open: s.close_picker())


def slide_fields(row: rx.Var) -> rx.Component:
    layout = row["layout"]
    return rx.vstack(
        rx.hstack(_line(row, "title", "Title", "Slide title"), layout_select(row), width="100%", spacing="2"),
        rx.cond((layout == "title") | (layout == "section"),
                _line(row, "subtitle", "Subtitle", "Subtitle (optional)")),
        rx.cond(rx.Var.create(TEXT_LAYOUTS).contains(layout), rx.vstack(
            _label(rx.cond(layout == "two_column", "Left column · one bullet per line", "Bullets · one per line")),
            _area(row, "bullets", "Bullets", "Start a line with “- ” for a sub-point. Leave empty and the engine "
                  "writes them."), width="100%", spacing="2")),
        rx.cond(layout == "two_column", rx.vstack(
            _label("Right column"), _area(row, "right", "Right column", "One bullet per line"), width="100%",
            spacing="2")),
        rx.cond(layout == "quote", rx.vstack(
            _area(row, "quote", "Quote", "The quote", rows="2", max_length=600),
            _line(row, "attribution", "Attribution", "Who said it", max_length=200), width="100%", spacing="2")),
        rx.cond(layout == "image_text", picture_fields(row)),
        rx.cond((layout == "chart") | (layout == "table"), data_fields(row)),
        rx.cond(row["placeholder"] == "yes",
                rx.text("Skeleton slide: replace these prompts with your own points.", size="1",
                        color=rx.color("amber", 11))),
        rx.cond(row["stage"] == "failed", rx.text(row["error"], size="1", color=rx.color("red", 11))),
        _label("Speaker notes"),
        _area(row, "notes", "Speaker notes", "What to say with this slide", rows="2", max_length=4000),
        spacing="2", width="100%",
    )


def slide_card(row: rx.Var) -> rx.Component:
    locked = row["locked"] == "yes"
    busy = SlidesState.busy
    return rx.card(rx.hstack(
        rx.vstack(
            rx.center(rx.text(row["number"], size="2", weight="bold"), width="28px", height="28px",
                      border_radius="8px", background=rx.color("violet", 3), color=rx.color("violet", 11)),
            rx.cond(locked, rx.icon("lock", size=14, color=rx.color("amber", 10))),
            align="center", spacing="2"),
        slide_fields(row),
        rx.vstack(
            tool("arrow-up", "Move up", SlidesState.move_slide(row["id"], -1), busy | (row["number"] == "1")),
            tool("arrow-down", "Move down", SlidesState.move_slide(row["id"], 1),
                 busy | (row["number"] == SlidesState.rows.length().to_string())),
            tool(rx.cond(locked, rx.icon("lock", size=15), rx.icon("lock-open", size=15)),
                 rx.cond(locked, "Unlock slide", "Lock slide"),
                 SlidesState.toggle_lock(row["id"]), busy, active=locked),
            tool("trash-2", "Delete slide", SlidesState.delete_slide(row["id"]), busy | locked),
            spacing="1"),
        align="start", spacing="3", width="100%",
    ), width="100%", class_name="outline-slide", data_slide=row["id"])


def draggable_card(row: rx.Var) -> rx.Component:
    """The card with a grip to drag it elsewhere (the Move buttons stay: they are the plain keyboard way)."""
    return sortable_item(slide_card(row), item_id=row["id"], handle_label="Drag slide " + row["number"],
                         disabled=SlidesState.busy, key=row["id"])


def outline_tab() -> rx.Component:
    s = SlidesState
    return rx.cond(
        s.rows.length() > 0,
        rx.vstack(
            rx.cond(s.busy, rx.callout("Slides are being written: the outline is read-only until they are done.",
                                       icon="lock", size="1", width="100%")),
            rx.cond(s.edits_stale & s.dirty, rx.callout(
                rx.vstack(rx.text("This deck was changed elsewhere (another tab or a teammate) since you started "
                                  "editing. Your unsaved edits are still here."),
                          rx.hstack(rx.button(rx.icon("save", size=14), "Save my edits over it", size="1",
                                              on_click=s.save_over_changes, disabled=s.busy),
                                    rx.button("Discard my edits", size="1", variant="soft", color_scheme="gray",
                                              on_click=s.discard_edits),
                                    spacing="2", wrap="wrap"),
                          spacing="2"),
                icon="triangle-alert", color_scheme="amber", size="1", width="100%", id="edits-stale")),
            rx.cond(s.undo_row.contains("id"), rx.callout(
                rx.hstack(rx.text("Deleted slide “" + s.undo_row["title"] + "”."), rx.spacer(),
                          rx.button(rx.icon("undo-2", size=14), "Undo", size="1", variant="soft",
                                    on_click=s.undo_delete),
                          align="center", width="100%"),
                icon="trash-2", size="1", color_scheme="gray", width="100%", id="undo-delete")),
            sortable_list(rx.foreach(s.rows, draggable_card), ids=s.slide_ids, on_move=s.drop_slide,
                          id="outline-list"),
            picture_picker(),
            rx.hstack(
                rx.button(rx.icon("plus", size=16), "Add slide", variant="soft", on_click=s.add_slide,
                          disabled=s.busy),
                rx.spacer(),
                rx.cond(s.dirty, rx.button(rx.icon("save", size=16), "Save outline", variant="soft",
                                           on_click=s.save_outline)),
                width="100%", align="center"),
            spacing="3", width="100%",
        ),
        rx.center(rx.cond(
            s.deck["status"] == "outlining",
            rx.vstack(rx.spinner(size="3"), rx.text("Planning the outline with the chat model…", weight="medium"),
                      rx.text("It shows up here for you to edit before any slide is written.", size="2",
                              color=rx.color("gray", 10)), align="center", spacing="2"),
            rx.text("No outline yet: plan it again from the deck's request.", size="2", color=rx.color("gray", 10))),
            padding="40px 16px", width="100%", id="outline-pending"),
    )
