"""The Review inbox (/reviews): template versions of this workspace waiting for the signed-in reviewer."""

from __future__ import annotations

import reflex as rx

from app.db import read_scope
from app.errors import AppError
from app.services.auth.accounts import UserPublic
from app.services.templates import reviews
from state.session import signed_in


class ReviewsState(rx.State):
    # Each waiting version: template, kind, number, stage, progress, author, submitted, link.
    items: list[dict[str, str]] = []
    allowed: bool = False
    loaded: bool = False

    @rx.event
    @signed_in
    async def load_page(self, user: UserPublic):
        self.allowed = user.can("approvals.review")
        self.items = []
        if self.allowed:
            try:
                with read_scope() as session:
                    rows = reviews.inbox(session=session, actor=user)
            except AppError as exc:
                self.loaded = True
                return rx.toast.error(exc.message)
            self.items = [{"template": r["name"], "kind": r["kind"].replace("_", " "), "number": str(r["number"]),
                           "stage": r["stage_name"], "progress": f"{r['approvals']}/{r['needed']}",
                           "author": r["author"] or "Someone",
                           "submitted": r["submitted_at"].strftime("%d %b %H:%M") if r["submitted_at"] else "",
                           "link": r["link"]} for r in rows]
        self.loaded = True
