"""Image generation jobs: load the generation id, make its images (generation.execute), return the job id."""

from __future__ import annotations

from app.services import jobs
from app.services.generation import execute
from jobs.runner import run_tracked


def run_generation(job_id: str) -> str:
    """The generation's status follows the job (generation.service.settle_job)."""
    generation_id = int(jobs.params_of(job_id)["generation_id"])
    return run_tracked(job_id, lambda ctx: execute.make_images(ctx, generation_id))
