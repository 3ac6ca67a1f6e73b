"""What one page hands to the next in this browser tab, so no page's state imports another page's.

The Assets page sends its selection to Rename or Workflows; a picture's own page deletes it and lands on
the Assets page, which offers the Undo. The sender writes here and navigates; the receiver takes it in
its on_load (taking empties it, so a later visit starts clean).
"""

from __future__ import annotations

import reflex as rx


class HandoffState(rx.State):
    # Asset ids chosen on one page for another, by the receiving page's route.
    _chosen: dict[str, list[str]] = {}
    # Asset ids just deleted on another page, for the Assets page's Undo.
    _deleted: list[str] = []

    def give_chosen(self, route: str, asset_ids: list[str]) -> None:
        self._chosen = {**self._chosen, route: [str(i) for i in asset_ids]}

    def take_chosen(self, route: str) -> list[str]:
        """The ids handed to the page at `route` (empty if none), forgotten once taken."""
        chosen = dict(self._chosen)
        ids = chosen.pop(route, [])
        self._chosen = chosen
        return ids

    def give_deleted(self, asset_ids: list[str]) -> None:
        self._deleted = [str(i) for i in asset_ids]

    def take_deleted(self) -> list[str]:
        ids, self._deleted = self._deleted, []
        return ids
