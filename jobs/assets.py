"""Asset jobs: thumbnails and metadata for a batch of assets."""

from __future__ import annotations

from app.db import session_scope
from app.models import Job
from app.services.assets import service as assets
from jobs.runner import JobContext, run_tracked


def process_assets(job_id: str) -> str:
    def body(ctx: JobContext) -> str:
        with session_scope() as session:
            asset_ids = session.get(Job, job_id).params["asset_ids"]
        work = assets.pending_work(asset_ids=asset_ids)
        # Assets already done (by an earlier attempt) or deleted are not touched again.
        outcomes: dict[str, int] = {"skipped": len(asset_ids) - len(work)} if len(work) < len(asset_ids) else {}
        for done, (asset_id, key, workspace_id) in enumerate(work, start=len(asset_ids) - len(work) + 1):
            outcome = assets.process(asset_id=asset_id, key=key, workspace_id=workspace_id)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            ctx.progress(100 * done / len(asset_ids), f"{done} of {len(asset_ids)} images")
        return ",".join(f"{k}={v}" for k, v in sorted(outcomes.items()))

    result = run_tracked(job_id, body)
    with session_scope() as session:
        job = session.get(Job, job_id)
        status, error, asset_ids = job.status, job.error, job.params["asset_ids"]
    if status in ("failed", "canceled"):  # retries used up (storage still full or read-only): say so
        cause = error.partition(": ")[2] or error or "the job was canceled"
        assets.fail_unfinished(asset_ids=asset_ids, reason=f"Could not make a thumbnail: {cause}")
    return result
