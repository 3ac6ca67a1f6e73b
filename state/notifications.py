"""The notification bell in the shell: the unread count, the latest notices, mark read, open the link."""

from __future__ import annotations

import reflex as rx

from app.db import read_scope, session_scope
from app.services import notifications
from app.services.auth.accounts import UserPublic
from state.session import signed_in


class NotificationsState(rx.State):
    unread: int = 0
    # The latest notices: id, title, body, link, when, unread ("yes" | "").
    items: list[dict[str, str]] = []

    def _refresh(self, user) -> None:
        with read_scope() as session:  # read inside: the scope's rollback expires the rows
            rows = notifications.list_for(session=session, actor=user, limit=20)
            self.unread = notifications.unread_count(session=session, actor=user)
            self.items = [{"id": str(n.id), "title": n.title, "body": n.body[:160], "link": n.link,
                           "when": n.created_at.strftime("%d %b %H:%M"), "unread": "" if n.read_at else "yes"}
                          for n in rows]

    @rx.event
    @signed_in
    async def load(self, user: UserPublic):
        self._refresh(user)

    @rx.event
    def load_on_open(self, is_open: bool):
        if is_open:
            return NotificationsState.load

    @rx.event
    @signed_in
    async def open_notice(self, user: UserPublic, notice_id: str, link: str):
        with session_scope() as session:
            notifications.mark_read(session=session, actor=user, ids=[int(notice_id)] if notice_id.isdigit() else [])
        self._refresh(user)
        # Only our own paths: a notice's link is written by the server, but never follow anything else.
        return rx.redirect(link) if link.startswith("/") and not link.startswith("//") else None

    @rx.event
    @signed_in
    async def mark_all_read(self, user: UserPublic):
        with session_scope() as session:
            notifications.mark_read(session=session, actor=user)
        self._refresh(user)
