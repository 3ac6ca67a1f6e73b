"""The dashboard's figures: library size, credits, work in progress."""

from __future__ import annotations

import reflex as rx

from app.db import session_scope
from app.models import JobStatus
from app.services import credits, jobs
from app.services.ai import guidance
from app.services.assets import service as assets
from app.services.auth.accounts import UserPublic
from state.session import signed_in


class DashboardState(rx.State):
    asset_count: int = 0
    credit_balance: int = 0
    credits_held: int = 0
    active_jobs: int = 0
    # Admins only: the AI setup checklist (key, label, done "yes"/""); empty once every item is done.
    setup: list[dict[str, str]] = []

    @rx.event
    @signed_in
    async def load_page(self, user: UserPublic):
        with session_scope() as session:
            _, self.asset_count = assets.list_assets(session=session, workspace_id=user.workspace_id, limit=1)
            self.credit_balance, self.credits_held = credits.balance(session=session, workspace_id=user.workspace_id)
            workspace_id = user.workspace_id
            _, running = jobs.list_jobs(session=session, workspace_id=workspace_id, status=JobStatus.RUNNING, limit=1)
            _, queued = jobs.list_jobs(session=session, workspace_id=workspace_id, status=JobStatus.QUEUED, limit=1)
        self.active_jobs = running + queued
        items = guidance.checklist() if user.is_admin else []
        done = all(item["done"] for item in items)
        self.setup = [] if done else [{"key": i["key"], "label": i["label"], "done": "yes" if i["done"] else ""}
                                      for i in items]
