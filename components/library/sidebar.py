"""The collections sidebar: all pictures, each collection with its count (children indented), create,
rename, a collection inside another (one level), delete behind a confirm. A click filters the grid."""

import reflex as rx

from components.layout.confirm import confirm_action
from state.library import LibraryState


def _name_form(on_submit, *, label: str, hidden: dict[str, rx.Var | str], placeholder: str,
               default: rx.Var | str = "") -> rx.Component:
    return rx.form(
        rx.hstack(*[rx.el.input(type="hidden", name=k, value=v) for k, v in hidden.items()],
                  rx.input(name="name", placeholder=placeholder, default_value=default, size="2", flex="1",
                           aria_label=placeholder, max_length=80),
                  rx.button(label, type="submit", size="2"), spacing="2", width="100%"),
        on_submit=on_submit, reset_on_submit=True, width="100%",
    )


def _row_menu(row: rx.Var) -> rx.Component:
    return rx.popover.root(
        rx.popover.trigger(rx.icon_button(rx.icon("ellipsis", size=14), size="1", variant="ghost",
                                          color_scheme="gray", aria_label="Manage " + row["name"])),
        rx.popover.content(
            rx.vstack(
                rx.text("Rename", size="1", weight="bold", color=rx.color("gray", 10)),
                _name_form(LibraryState.rename_collection, label="Save", hidden={"collection_id": row["id"]},
                           placeholder="New name", default=row["name"]),
                rx.cond(row["depth"] == "0", rx.fragment(
                    rx.text("New collection inside", size="1", weight="bold", color=rx.color("gray", 10)),
                    _name_form(LibraryState.create_collection, label="Add", hidden={"parent": row["id"]},
                               placeholder="Name"))),
                confirm_action(rx.button(rx.icon("trash-2", size=14), "Delete collection", size="2",
                                         variant="soft", color_scheme="red", width="100%"),
                               title="Delete this collection?",
                               description="The collection (and any inside it) goes; its pictures stay in "
                                           "the library.",
                               confirm_label="Delete", on_confirm=LibraryState.delete_collection(row["id"])),
                spacing="2", width="240px",
            ),
            side="right", align="start",
        ),
    )


def _icon(name: str, active) -> rx.Component:
    return rx.icon(name, size=15, color=rx.cond(active, rx.color("violet", 11), rx.color("gray", 10)))


def _row(label, count, active, on_click, *, depth="0", icon: rx.Component, menu=None) -> rx.Component:
    return rx.hstack(
        rx.hstack(icon,
                  rx.text(label, size="2", weight=rx.cond(active, "bold", "regular"), overflow="hidden",
                          text_overflow="ellipsis", white_space="nowrap", flex="1"),
                  rx.text(count, size="1", color=rx.color("gray", 10)),
                  spacing="2", align="center", flex="1", min_width="0", on_click=on_click, cursor="pointer",
                  role="button", tab_index=0, aria_current=rx.cond(active, "true", "false")),
        menu or rx.fragment(),
        padding="6px 8px", padding_left=rx.cond(depth == "1", "26px", "8px"), border_radius="8px", width="100%",
        background=rx.cond(active, rx.color("violet", 3), "transparent"), align="center", spacing="1",
        _hover={"background": rx.cond(active, rx.color("violet", 4), rx.color("gray", 3))},
        class_name="collection-row",
    )


def collection_row(row: rx.Var) -> rx.Component:
    active = LibraryState.collection == row["id"]
    return _row(row["name"], row["count"], active,
                LibraryState.show_collection(row["id"]), depth=row["depth"],
                # Two fixed icons under a cond: an icon named by a Var is lucide's DynamicIcon, whose 257 KB
                # chunk (every icon's name) the page then loaded and parsed before its first paint.
                icon=rx.cond(row["depth"] == "1", _icon("folder-open", active), _icon("folder", active)),
                menu=_row_menu(row))


def collections_sidebar() -> rx.Component:
    everything = LibraryState.collection == ""
    return rx.vstack(
        rx.text("Library", size="1", weight="bold", color=rx.color("gray", 10), text_transform="uppercase",
                letter_spacing="0.06em"),
        _row("All pictures", LibraryState.library_label, everything, LibraryState.show_collection(""),
             icon=_icon("images", everything)),
        rx.text("Collections", size="1", weight="bold", color=rx.color("gray", 10), text_transform="uppercase",
                letter_spacing="0.06em", margin_top="12px"),
        rx.cond(LibraryState.collections.length() > 0,
                rx.vstack(rx.foreach(LibraryState.collections, collection_row), spacing="0", width="100%",
                          role="list", aria_label="Collections"),
                rx.text("None yet. Group pictures for a client, a shoot or a campaign.", size="1",
                        color=rx.color("gray", 10))),
        _name_form(LibraryState.create_collection, label="Create", hidden={}, placeholder="New collection"),
        spacing="1", width="100%", min_width="220px",
    )
