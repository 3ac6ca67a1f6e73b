"""Renamer jobs: describe every image of a batch (concurrently, per provider limit), then name them."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, as_completed

from app.db import session_scope
from app.models import RenameBatch
from app.services import jobs
from app.services.rename import service as rename
from app.services.rename.vision.registry import get_provider
from jobs.runner import JobContext, run_tracked


def analyze_batch(job_id: str) -> str:
    """The batch's status follows the job (rename.settle_job); this describes and names."""
    params = jobs.params_of(job_id)
    batch_id, wanted = params["batch_id"], params.get("item_ids")

    def body(ctx: JobContext) -> str:
        with session_scope() as session:
            options = rename.options_of(session.get(RenameBatch, batch_id))
            items = [i.id for i in rename.items_of(session=session, batch_id=batch_id)
                     if (wanted is None and i.status != "done") or (wanted and i.id in wanted)]
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
        return ",".join(f"{k}={v}" for k, v in sorted(outcomes.items()))

    return run_tracked(job_id, body)
