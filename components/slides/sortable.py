"""@dnd-kit's sortable list as two Reflex components (the React side is sortable.jsx beside this file)."""

import reflex as rx
from reflex.event import passthrough_event_spec

_LIBRARY = rx.asset("sortable.jsx", shared=True).importable_path
_DEPENDENCIES = ["@dnd-kit/core@6.3.1", "@dnd-kit/sortable@10.0.0", "@dnd-kit/utilities@3.2.2"]


class SortableList(rx.Component):
    """A vertical list whose items can be dragged by their handle; `on_move(dragged_id, target_id)` on drop."""

    library = _LIBRARY
    tag = "SortableList"
    lib_dependencies: list[str] = _DEPENDENCIES

    # The item ids, in the order shown.
    ids: rx.Var[list[str]]
    on_move: rx.EventHandler[passthrough_event_spec(str, str)]


class SortableItem(rx.Component):
    """One draggable item: a grip handle (named `handle_label` for screen readers) beside its children."""

    library = _LIBRARY
    tag = "SortableItem"
    lib_dependencies: list[str] = _DEPENDENCIES

    item_id: rx.Var[str]
    handle_label: rx.Var[str]
    disabled: rx.Var[bool]


sortable_list = SortableList.create
sortable_item = SortableItem.create
