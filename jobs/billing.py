"""Billing jobs: reconciliation against Stripe's events (app/services/billing/reconcile.py) and the automatic
top-up a low balance starts (app/services/billing/budgets.py)."""

from __future__ import annotations

from app.services.billing import budgets, client
from app.services.billing.reconcile import reconcile

RECONCILE_JOB_ID = "billing-reconcile"


def reconcile_billing() -> dict[str, object]:
    return reconcile()


def queue_reconcile() -> str:
    """The periodic task: hand the pass to a worker (its Stripe calls must not hold up the reaper thread)."""
    if not client.enabled():
        return "billing is off"
    from app.queue import UNTRACKED, get_queue

    get_queue("default").enqueue(UNTRACKED["billing.reconcile"], job_id=RECONCILE_JOB_ID, job_timeout=900,
                                 result_ttl=3600, failure_ttl=7 * 24 * 3600)
    return "queued"


def run_topup(workspace_id: int) -> int | None:
    """Charge the workspace's top-up pack (within its monthly ceiling); the credits added or None."""
    return budgets.run_topup(workspace_id=workspace_id)
