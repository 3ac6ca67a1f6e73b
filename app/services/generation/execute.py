"""A generation's work: submit to the provider, follow it, keep the images as assets (the `generate.images`
job's body)."""

from __future__ import annotations

import re
import time

from sqlmodel import select
from unidecode import unidecode

from app.db import session_scope
from app.models import Generation, GenerationImage
from app.services import jobs
from app.services.assets import service as assets
from app.services.generation import registry, service
from app.services.generation.base import GeneratedImage, GenerationRequest, GenerationStatus, ProviderError
from app.services.moderation import policy as content_policy
from app.settings import get_settings

# Polling starts fast (the local engine answers in well under a second) and backs off to this.
POLL_MAX_SECONDS = 1.0


def make_images(ctx: jobs.Progress, generation_id: int) -> str:
    """Send the request to the provider, follow it, keep the images; the generation is closed with the job
    (service.settle_job). Returns the result reference."""
    with session_scope() as session:
        generation = session.get(Generation, generation_id)
        request = GenerationRequest(prompt=generation.final_prompt, negative_prompt=generation.negative_prompt,
                                    width=generation.width, height=generation.height, n=generation.n,
                                    seed=generation.seed, model=generation.model)
        provider_name, workspace_id, prompt = generation.provider, generation.workspace_id, generation.prompt
        handle = service.handle_of(generation)
    provider = registry.get_provider(provider_name)
    if not handle or not _still_known(provider, handle):
        # A retry after a crash resumes a remote request that is still known instead of paying twice.
        ctx.progress(2, f"Sending to {provider.label}")
        handle = provider.submit(request)
        with session_scope() as session:
            generation = session.get(Generation, generation_id)
            generation.handle = dict(handle)
            session.add(generation)
    _follow(ctx, provider, handle)
    images = provider.result(handle)
    if not images:
        raise ProviderError(f"{provider.label} finished without any image", code="bad_response")
    kept, refused = _keep(ctx, workspace_id=workspace_id, generation_id=generation_id, images=images, prompt=prompt,
                          request=request)
    if not kept:
        raise ProviderError("Every image was refused by the output check.", code="moderation_rejected")
    ctx.settle_args["refused"] = refused  # said by the generation as the job succeeds (service.settle_job)
    return f"generation:{generation_id}"


def _still_known(provider, handle: dict) -> bool:
    try:
        return provider.status(handle).state not in ("failed", "canceled")
    except ProviderError:
        return False


def _follow(ctx: jobs.Progress, provider, handle: dict) -> None:
    """Poll the provider until it is done; cancel it there when the user cancels or time runs out."""
    deadline = time.monotonic() + get_settings().image_job_deadline_seconds
    wait = 0.05
    while True:
        if jobs.cancel_flagged(ctx.job_id):
            _cancel(provider, handle)
            raise jobs.JobCanceled(ctx.job_id)
        if time.monotonic() > deadline:
            _cancel(provider, handle)
            raise ProviderError(f"{provider.label} did not finish within the time limit", code="timeout")
        status = provider.status(handle)
        if status.state == "succeeded":
            ctx.progress(85, "Saving images")
            return
        if status.state == "failed":
            raise ProviderError(status.message or f"{provider.label} failed", code=status.error_code or "failed")
        if status.state == "canceled":
            raise jobs.JobCanceled(ctx.job_id)
        percent, message = _progress_of(status, provider.label)
        try:
            ctx.progress(percent, message)
        except jobs.JobCanceled:
            _cancel(provider, handle)
            raise
        waiter = getattr(provider, "wait", None)
        if callable(waiter):
            waiter(handle, POLL_MAX_SECONDS)  # returns as soon as the call ends
        else:
            time.sleep(wait)
            wait = min(POLL_MAX_SECONDS, wait * 1.5)


def _progress_of(status: GenerationStatus, label: str) -> tuple[float, str]:
    if status.state == "queued":
        where = f", position {status.queue_position}" if status.queue_position is not None else ""
        return 5, status.message or f"In {label}'s queue{where}"
    if status.step is not None and status.steps:
        return 10 + 70 * status.step / status.steps, f"Step {status.step} of {status.steps}"
    return 10, status.message or f"{label} is working"


def _cancel(provider, handle: dict) -> None:
    try:
        provider.cancel(handle)
    except ProviderError:
        pass  # the job ends as canceled either way; the provider may already have finished


def _file_name(prompt: str, seed: int | None) -> str:
    """The name's stem; the library adds the extension of the type the bytes really are."""
    words = re.sub(r"[^a-z0-9]+", "-", unidecode(prompt).lower()).strip("-")[:60].rstrip("-") or "image"
    return f"{words}-{seed}" if seed is not None else words


def _keep(ctx: jobs.Progress, *, workspace_id: int, generation_id: int, images: list[GeneratedImage], prompt: str,
          request: GenerationRequest) -> tuple[int, int]:
    """Store each image as an asset with its thumbnail; returns (kept, refused by the output check)."""
    kept = refused = 0
    with session_scope() as session:  # a retried job does not store the same image twice
        done = set(session.exec(select(GenerationImage.position)
                                .where(GenerationImage.generation_id == generation_id)).all())
    for position, image in enumerate(images):
        if position in done:
            kept += 1
            continue
        if not content_policy.output_allowed(workspace_id=workspace_id, image=image.data, generation_id=generation_id):
            refused += 1
            continue
        seed = image.seed if image.seed is not None else (request.seed + position)
        made = {"generation": {"id": generation_id, "seed": seed, "prompt": request.prompt,
                               "negative_prompt": request.negative_prompt, "model": request.model,
                               "extras": image.extras}}

        def gallery_row(session, asset, position=position, seed=seed) -> None:
            session.add(GenerationImage(generation_id=generation_id, workspace_id=workspace_id, asset_id=asset.id,
                                        position=position, seed=seed))

        # One decode, one transaction: the asset with its thumbnail, how it was made, and its gallery row.
        assets.store_made(workspace_id=workspace_id, filename=_file_name(prompt, seed), data=image.data, meta=made,
                          with_asset=gallery_row, origin="generated")
        kept += 1
        ctx.progress(85 + 14 * (position + 1) / len(images), f"Saved {position + 1} of {len(images)}")
    return kept, refused
