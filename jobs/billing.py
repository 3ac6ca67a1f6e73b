"""Billing jobs: the automatic top-up a low balance starts."""

from __future__ import annotations

from app.services.billing import budgets


def run_topup(workspace_id: int) -> int | None:
    """Charge the workspace's top-up pack (within its monthly ceiling); the credits added or None."""
    return budgets.run_topup(workspace_id=workspace_id)
