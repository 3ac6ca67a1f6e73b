"""The bar over the grid while pictures are selected: select every match, collect, tag, download, send, delete."""

import reflex as rx

from components.layout.confirm import confirm_action
from components.layout.numbers import count_of
from state.library import LibraryState
from state.session import SessionState


def _tag_form(label: str, on_submit, placeholder: str) -> rx.Component:
    return rx.form(
        rx.hstack(rx.input(name="tag", placeholder=placeholder, size="2", flex="1", aria_label=placeholder,
                           max_length=60, auto_focus=True),
                  rx.button(label, type="submit", size="2"), spacing="2"),
        on_submit=on_submit, reset_on_submit=True,
    )


def _pop(icon: str, label: str, *content: rx.Component) -> rx.Component:
    return rx.popover.root(
        rx.popover.trigger(rx.button(rx.icon(icon, size=15), label, variant="ghost", size="2")),
        rx.popover.content(rx.vstack(*content, spacing="2", width="260px"), side="bottom", align="start"),
    )


def _collection_choice(row: rx.Var) -> rx.Component:
    return rx.popover.close(
        rx.button(rx.cond(row["depth"] == "1", "↳ ", ""), row["name"], variant="ghost", size="2", width="100%",
                  justify="start", on_click=LibraryState.add_to_collection(row["id"])))


def bulk_bar() -> rx.Component:
    # Past the count's cap the total is a floor: offer "Select all" until more than that many are selected.
    more = rx.cond(LibraryState.total_capped, LibraryState.selected_count <= LibraryState.total,
                   LibraryState.total > LibraryState.selected_count)
    return rx.cond(
        LibraryState.selected_count > 0,
        rx.vstack(
            rx.hstack(
                rx.icon("square-check-big", size=16, color=rx.color("violet", 11)),
                rx.text(count_of(LibraryState.selected_count, "picture", "pictures"), " selected", weight="bold",
                        size="2"),
                rx.cond(more, rx.button("Select all ", LibraryState.total_label, " matching", variant="ghost",
                                        size="2", on_click=LibraryState.select_all_matching)),
                rx.button("Clear", variant="ghost", color_scheme="gray", size="2",
                          on_click=LibraryState.clear_selection),
                rx.spacer(),
                rx.cond(SessionState.allowed["assets.write"], confirm_action(
                    rx.button(rx.icon("trash-2", size=15), "Delete", color_scheme="red", variant="soft", size="2"),
                    title="Delete the selected pictures?",
                    description="They leave the library now; Undo brings them back for a short while.",
                    confirm_label="Delete", on_confirm=LibraryState.delete_selected)),
                width="100%", spacing="2", align="center",
            ),
            rx.hstack(
                _pop("folder-plus", "Add to collection",
                     rx.foreach(LibraryState.collections, _collection_choice),
                     rx.text("New collection", size="1", weight="bold", color=rx.color("gray", 10)),
                     rx.form(rx.hstack(rx.input(name="name", placeholder="Collection name", size="2", flex="1",
                                                aria_label="New collection name", max_length=80),
                                       rx.button("Create and add", type="submit", size="2"), spacing="2"),
                             on_submit=LibraryState.add_to_new_collection, reset_on_submit=True)),
                _pop("tag", "Add tag", _tag_form("Add", LibraryState.add_tag, "Tag to add")),
                _pop("tag", "Remove tag", _tag_form("Remove", LibraryState.remove_tag, "Tag to remove")),
                rx.separator(orientation="vertical", size="1"),
                rx.button(rx.icon("download", size=15), "ZIP", variant="ghost", size="2",
                          on_click=LibraryState.download_zip, aria_label="Download ZIP"),
                rx.button(rx.icon("pencil-line", size=15), "Rename", variant="ghost", size="2",
                          on_click=LibraryState.send_to_rename, aria_label="Send to Rename"),
                rx.button(rx.icon("workflow", size=15), "Workflow", variant="ghost", size="2",
                          on_click=LibraryState.send_to_workflow, aria_label="Send to a workflow"),
                width="100%", spacing="3", wrap="wrap", align="center",
            ),
            width="100%", spacing="2", padding="10px 14px", border_radius="12px",
            background=rx.color("violet", 2), border=f"1px solid {rx.color('violet', 6)}",
            position="sticky", top="8px", z_index="5", box_shadow="0 6px 20px -12px rgba(0,0,0,.35)",
            role="toolbar", aria_label="Selected pictures",
        ),
    )
