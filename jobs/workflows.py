"""Workflow run jobs: load the run id, work its items (workflows.execute), return the job id."""

from __future__ import annotations

from app.services import jobs
from app.services.workflows import execute
from jobs.runner import run_tracked


def run_workflow(job_id: str) -> str:
    """The run and its items' ending follow the job (workflows.runs.settle_job)."""
    run_id = int(jobs.params_of(job_id)["run_id"])
    return run_tracked(job_id, lambda ctx: execute.run_items(ctx, run_id))
