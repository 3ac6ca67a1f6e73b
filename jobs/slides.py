"""Slide deck jobs: load the deck id and action, plan or write (slides.writing), return the job id."""

from __future__ import annotations

from app.services import jobs
from app.services.slides import runs as deck_runs
from app.services.slides import writing
from jobs.runner import JobContext, run_tracked


def run_deck_job(job_id: str) -> str:
    """The deck is closed with the job (deck_runs.settle_job): with what the body made when it succeeds, put back
    to each slide's stage before the job when it fails or is canceled."""
    params = jobs.params_of(job_id)
    deck_id, action = int(params["deck_id"]), params["action"]
    before = deck_runs.stages(deck_id=deck_id)

    def body(ctx: JobContext) -> str:
        if action == "outline":
            return writing.plan_outline(ctx, deck_id)
        return writing.write_slides(ctx, deck_id, list(params.get("slide_ids") or []), fresh=action == "regenerate")

    return run_tracked(job_id, body, settle_args={"before": before})
