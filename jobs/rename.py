"""Renamer jobs: describe every image of a batch (concurrently, per provider limit), then name them."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, as_completed

from app.db import session_scope
from app.models import Job, RenameBatch
from app.services.rename import service as rename
from app.services.rename.vision.registry import get_provider
from jobs.runner import JobContext, run_tracked


def analyze_batch(job_id: str) -> str:
    def body(ctx: JobContext) -> str:
        with session_scope() as session:
            params = dict(session.get(Job, job_id).params)
            batch = session.get(RenameBatch, params["batch_id"])
            options = rename.options_of(batch)
            wanted = params.get("item_ids")
            items = [i.id for i in rename.items_of(session=session, batch_id=batch.id)
                     if (wanted is None and i.status != "done") or (wanted and i.id in wanted)]
            batch.status = "analyzing"
            session.add(batch)
            batch_id = batch.id
        provider = get_provider(options.provider)
        outcomes: dict[str, int] = {}
        # Threads, because providers wait on the network. Two more than the provider's limit:
        # the extra ones read and prepare the next images while the others wait for answers
        # (remote clients hold their own in-flight limit).
        with ThreadPoolExecutor(max_workers=max(1, provider.max_concurrency) + 2) as pool:
            futures = [pool.submit(rename.analyze_item, item_id=i, provider=provider, options=options) for i in items]
            for done, future in enumerate(as_completed(futures), start=1):
                outcome = future.result()
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
                ctx.progress(95 * done / max(1, len(items)), f"{done} of {len(items)} images described")
        rename.compose_names(batch_id=batch_id)
        with session_scope() as session:
            batch = session.get(RenameBatch, batch_id)
            batch.status = "ready"
            session.add(batch)
        return ",".join(f"{k}={v}" for k, v in sorted(outcomes.items()))

    result = run_tracked(job_id, body)
    _mark_failed_batches(job_id)
    return result


def _mark_failed_batches(job_id: str) -> None:
    """A batch whose job ended badly says so, instead of 'analyzing' for ever."""
    with session_scope() as session:
        job = session.get(Job, job_id)
        batch = session.get(RenameBatch, job.params["batch_id"])
        if job.status in ("failed", "canceled") and batch is not None and batch.status == "analyzing":
            batch.status = job.status
            session.add(batch)
