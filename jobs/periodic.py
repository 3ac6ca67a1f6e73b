"""Periodic work, declared as data: what runs, how often. Every worker's reaper thread calls run_due();
a short Redis lock per task makes one worker in the fleet do each task per interval."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from app.redis_client import get_redis
from app.services import reaper
from app.services.assets import service as assets
from app.services.library import bulk
from jobs import billing

log = logging.getLogger("atelier.periodic")


@dataclass(frozen=True)
class Periodic:
    name: str
    every: int  # seconds between runs, fleet-wide
    run: Callable[[], object]


PERIODIC: tuple[Periodic, ...] = (
    # Rows left "processing", "queued", "running" or "analyzing" by a job that died: finished or failed.
    Periodic("stuck-rows", every=60, run=reaper.reap_stuck),
    # Uploads stored while the queue was down (parked "failed" with assets.QUEUE_UNAVAILABLE): queued again.
    Periodic("parked-uploads", every=60, run=lambda: assets.requeue_unqueued(stale_after=timedelta(days=1))),
    # Pictures deleted from the library whose Undo window is over: removed for good, rows and files.
    Periodic("library-purge", every=30, run=bulk.purge_expired),
    # Billing (when on): Stripe's events since the cursor against the ledger; applies deliveries that never came.
    Periodic("billing-reconcile", every=900, run=billing.queue_reconcile),
)


def run_due(tasks: tuple[Periodic, ...] = PERIODIC) -> dict[str, object]:
    """Run each task whose interval has passed (and that no other worker holds); one failing task does not
    stop the others."""
    done: dict[str, object] = {}
    for task in tasks:
        if not get_redis().set(f"atelier:periodic:{task.name}", "1", nx=True, ex=task.every):
            continue
        try:
            done[task.name] = task.run()
        except Exception:  # a passing database or Redis error: the next interval tries again
            log.exception("periodic task %s failed", task.name)
    return done
