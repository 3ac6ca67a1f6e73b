"""Library pictures in an email template: the "Insert picture" button and its picker (the library search the
other pickers share), and the "Public picture links" panel with Revoke."""

import reflex as rx

from components.library.picker import picker_caption, picker_search, picture_choices
from state.template_editor import TemplateEditorState
from state.template_pictures import TemplatePicturesState


def insert_button() -> rx.Component:
    s = TemplateEditorState
    return rx.cond(s.can_edit, rx.button(rx.icon("image-plus", size=14), "Insert picture", size="1", variant="soft",
                                         color_scheme="gray", on_click=TemplatePicturesState.open_picker,
                                         id="insert-picture"))


def picker_tile(item: rx.Var) -> rx.Component:
    return rx.button(
        rx.vstack(
            # contain: a tall or wide picture keeps its shape inside the square tile
            rx.image(src=item["thumb"], alt=item["name"], width="100%", height="96px", object_fit="contain",
                     border_radius="6px", background=rx.color("gray", 3), loading="lazy"),
            picker_caption(item["name"]),
            spacing="0", width="100%", min_width="0"),
        on_click=TemplatePicturesState.pick_picture(item["id"]), variant="soft", color_scheme="gray", height="auto",
        padding="6px", width="100%", min_width="0", aria_label="Insert " + item["name"], class_name="picker-tile")


def picture_picker() -> rx.Component:
    p = TemplatePicturesState
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title("Insert a picture"),
        rx.dialog.description("Pictures of this workspace's library. The email gets an image tag with the picture's "
                              "alt text; an email that leaves shows it through a signed public link.", size="2",
                              color=rx.color("gray", 10)),
        rx.box(picker_search(p.picker_query, p.search_picker, p.picker_derived, p.set_picker_derived,
                             label="Search pictures"), margin_y="12px"),
        picture_choices(p.picker, p.picker_query, picker_tile,
                        empty="The library has no ready pictures yet: add some on the Assets page."),
        rx.flex(rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                justify="end", margin_top="12px"),
        max_width="680px", id="email-picture-picker"),
        open=p.picker_open, on_open_change=p.close_picker)


def link_line(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row["filename"], size="2", overflow="hidden", text_overflow="ellipsis",
                              white_space="nowrap", max_width="220px", title=row["filename"])),
        rx.table.cell(rx.text("v" + row["version"] + " · " + row["purpose"], size="1")),
        rx.table.cell(rx.text(row["created_by"], size="1"), rx.text(row["created_at"], size="1",
                                                                     color=rx.color("gray", 10))),
        rx.table.cell(rx.cond(row["active"] == "yes",
                              rx.badge(row["status"], color_scheme="green", variant="soft"),
                              rx.badge(row["status"], color_scheme="gray", variant="soft"))),
        rx.table.cell(rx.cond(row["active"] == "yes", rx.alert_dialog.root(
            rx.alert_dialog.trigger(rx.button("Revoke", size="1", variant="soft", color_scheme="red",
                                              aria_label="Revoke the link of " + row["filename"])),
            rx.alert_dialog.content(
                rx.alert_dialog.title("Revoke this picture link?"),
                rx.alert_dialog.description("Emails already sent stop showing this picture at once, and this version "
                                            "cannot be sent, exported or rendered with it again.", size="2"),
                rx.flex(rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                        rx.alert_dialog.action(rx.button("Revoke", color_scheme="red",
                                                         on_click=TemplatePicturesState.revoke(row["id"]))),
                        spacing="3", justify="end", margin_top="12px"),
                max_width="440px")))),
        align="center")


def links_panel() -> rx.Component:
    p = TemplatePicturesState
    return rx.vstack(
        rx.hstack(
            rx.text("Public picture links", size="2", weight="bold"), rx.spacer(),
            rx.button(rx.icon("refresh-cw", size=14), "Refresh", size="1", variant="ghost", color_scheme="gray",
                      on_click=p.load_links),
            width="100%", align="center"),
        rx.text("Library pictures in emails that leave (test sends, exports, the render API of the active version) "
                "load from these signed addresses, without signing in. Revoke one to stop it at once.", size="1",
                color=rx.color("gray", 10)),
        rx.cond(p.links.length() > 0,
                rx.table.root(rx.table.header(rx.table.row(
                    rx.table.column_header_cell("Picture"), rx.table.column_header_cell("For"),
                    rx.table.column_header_cell("Created"), rx.table.column_header_cell("Status"),
                    rx.table.column_header_cell(""))),
                    rx.table.body(rx.foreach(p.links, link_line)), size="1", width="100%", id="image-links"),
                rx.text("No picture of this template has a public link yet.", size="2", color=rx.color("gray", 10),
                        id="no-image-links")),
        spacing="2", width="100%")
