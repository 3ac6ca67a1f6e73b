"""Slide deck jobs: plan an outline with the chat provider, or write slides (text → picture → chart) into
the deck as each one is done, so the preview fills in live.

One slide failing (its text, its picture or its chart) marks that slide failed and the rest go on.
A cancel is seen between slides (and while a picture is being made); slides in flight then go back to
where they were.
"""

from __future__ import annotations

import re

from pydantic import ValidationError

from app.db import read_scope, session_scope
from app.errors import AppError
from app.models import Deck, Job
from app.providers.http import HttpOptions
from app.services import jobs
from app.services.generation.base import ProviderError
from app.services.slides import files as deck_files
from app.services.slides import images as deck_images
from app.services.slides import runs as deck_runs
from app.services.slides.engine import local_text
from app.services.slides.engine.brand_kit import BrandKit
from app.services.slides.engine.chat import ChatSlideWriter
from app.services.slides.engine.model import Outline, Slide
from app.services.slides.engine.themes import Theme
from app.services.slides.store import load_deck, need_outline, spec_of
from app.settings import get_settings
from jobs.runner import JobContext, run_tracked

TEXT_LAYOUTS = ("bullets", "two_column", "image_text")


def build_chat_writer(provider: str = "openai") -> ChatSlideWriter:
    """The chat engine for a deck's text provider: a stored AI connection, or the settings' chat API
    (one per job: it owns a connection pool)."""
    from app.services.ai import resolve
    from app.services.slides.decks import chat_ref

    ref = chat_ref(provider)
    if ref:
        return resolve.fresh_client("text", ref)
    settings = get_settings()
    return ChatSlideWriter(settings.slides_openai_base_url, settings.slides_openai_api_key,
                           settings.slides_openai_model,
                           http=HttpOptions(read_timeout=settings.slides_timeout_seconds, retries=1),
                           max_concurrency=settings.slides_concurrency,
                           repair_attempts=settings.slides_repair_attempts, name="slides-openai")


def run_deck_job(job_id: str) -> str:
    with session_scope() as session:
        params = dict(session.get(Job, job_id).params)
    deck_id, action = int(params["deck_id"]), params["action"]
    before = deck_runs.stages(deck_id=deck_id)

    def body(ctx: JobContext) -> str:
        if action == "outline":
            return _plan(ctx, deck_id)
        return _write(ctx, deck_id, list(params.get("slide_ids") or []), fresh=action == "regenerate")

    result = run_tracked(job_id, body)
    with session_scope() as session:
        job = session.get(Job, job_id)
        status, error = job.status, job.error
    if status in ("failed", "canceled"):
        # "ChatError: the provider…" → "the provider…": the deck shows the message, not our class names.
        deck_runs.settle_interrupted(deck_id=deck_id, job_id=job_id, status=status, before=before,
                                     error=re.sub(r"^[A-Za-z]*(Error|Exception): ", "", error))
    return result


def _plan(ctx: JobContext, deck_id: int) -> str:
    deck = load_deck(deck_id)
    spec = spec_of(deck)
    ctx.progress(5, "Planning the outline")
    writer = build_chat_writer(deck.provider)
    try:
        outline = writer.outline(spec)
    finally:
        writer.close()
    deck_runs.finish_outline(deck_id=deck_id, outline=outline)
    return f"deck:{deck_id}"


def _write(ctx: JobContext, deck_id: int, slide_ids: list[str], *, fresh: bool) -> str:
    deck = load_deck(deck_id)
    spec, outline, design = spec_of(deck), need_outline(deck), deck_files.design_of(deck)
    wanted = set(slide_ids)
    targets = [s.id for s in outline.slides if s.id in wanted and not s.locked]
    if fresh:
        outline = _cleared(outline, set(targets))
    deck_runs.set_stages(deck_id=deck_id, stages=dict.fromkeys(targets, "writing"))
    total, done = len(targets), 0
    ctx.progress(1, f"Writing {total} slide{'s' if total != 1 else ''}")

    def finish(slide: Slide) -> None:
        # Runs in this thread for both engines (the chat writer calls it as each answer arrives).
        nonlocal done
        deck_runs.write_slide(deck_id=deck_id, slide=_complete(ctx, deck, design, slide), fresh=fresh)
        done += 1
        ctx.progress(99 * done / max(1, total), f"{done} of {total} slides written")

    if deck.provider == "local":
        for slide_id in targets:
            ctx.progress(99 * done / max(1, total), f"{done} of {total} slides written")
            finish(_local_slide(spec, outline, slide_id))
    else:
        writer = build_chat_writer(deck.provider)
        try:
            writer.write_slides(spec, outline, targets, on_slide=finish)
        finally:
            writer.close()
    note = (f"Generated {total} slides" if not fresh else
            f"Regenerated “{next((s.title for s in outline.slides if s.id in wanted), '')}”"[:200])
    status = deck_runs.finish_generation(deck_id=deck_id, slide_ids=targets, note=note)
    return f"deck:{deck_id}:{status}"


def _local_slide(spec, outline: Outline, slide_id: str) -> Slide:
    slide = next(s for s in outline.slides if s.id == slide_id)
    try:
        return local_text.write_slide(spec, outline, slide_id)
    except (ValueError, ValidationError) as exc:  # ValidationError: the completed slide broke a model limit
        return _failed(slide, f"The local engine could not write it: {exc}")


def _cleared(outline: Outline, ids: set[str]) -> Outline:
    """Slides to regenerate lose their written text, so the engines write it again rather than keep it."""
    slides = []
    for slide in outline.slides:
        if slide.id in ids:
            update = {"notes": ""}
            if slide.layout in TEXT_LAYOUTS and slide.title:
                update.update(bullets=[], bullets_right=[])
            slide = slide.model_copy(update=update)
        slides.append(slide)
    return outline.model_copy(update={"slides": slides})


def _complete(ctx: JobContext, deck: Deck, design: Theme | BrandKit, slide: Slide) -> Slide:
    """After its text: the slide's picture, then its native chart or table; stage "ready" or "failed"."""
    if slide.stage == "failed":
        return slide
    if deck_runs.needs_picture(slide):
        deck_runs.write_slide(deck_id=deck.id, slide=slide.model_copy(update={"stage": "image"}))
        try:
            asset_id = deck_images.make_picture(workspace_id=deck.workspace_id, deck_id=deck.id, slide=slide,
                                                design=design,
                                                provider_name=deck.image_provider,
                                                should_stop=lambda: jobs.cancel_flagged(ctx.job_id))
        except InterruptedError:
            raise jobs.JobCanceled(ctx.job_id) from None
        except (AppError, ProviderError) as exc:
            return _failed(slide, f"The picture could not be made: {exc.message}")
        slide = slide.model_copy(update={"image": slide.image.model_copy(update={"asset_id": str(asset_id)})})
    elif slide.layout == "image_text" and slide.image and slide.image.asset_id:
        with read_scope() as session:
            found = deck_files.picture_assets(session=session, workspace_id=deck.workspace_id,
                                              outline=Outline(slides=[slide]))
        if slide.id not in found:
            return _failed(slide, f"The picture (asset {slide.image.asset_id}) is no longer in your library.")
    if slide.layout in ("chart", "table"):
        deck_runs.write_slide(deck_id=deck.id, slide=slide.model_copy(update={"stage": "chart"}))
        try:
            deck_files.check_native(deck=deck, slide=slide)
        except Exception as exc:  # python-pptx refusing the data: this slide fails, the deck goes on
            return _failed(slide, f"The {slide.layout} could not be built: {exc}")
    return slide.model_copy(update={"stage": "ready", "error": ""})


def _failed(slide: Slide, message: str) -> Slide:
    return slide.model_copy(update={"stage": "failed", "error": message[:500]})
