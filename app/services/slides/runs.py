"""Slide deck jobs from both ends: starting them (generate, regenerate a slide, cancel) and the writes the
`slides.run` job makes as it goes (slide stages, each written slide, the final status and version)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col

from app.db import read_scope, session_scope
from app.errors import Conflict, ValidationFailed
from app.models import Deck, DeckStatus, Job, JobStatus, utcnow
from app.services import credits, jobs
from app.services.slides.engine.model import Outline, Slide
from app.services.slides.store import (
    BUSY,
    IN_PROGRESS,
    add_version,
    check_not_busy,
    find_slide,
    get_deck,
    keep_version,
    load_deck,
    locked_row,
    need_outline,
    outline_of,
    replace_slides,
    resting_status,
    write_outline,
)

JOB_KIND = "slides.run"
CHAT_PRICE_KEY = "slides_openai"  # PROVIDER_PRICES key: credits per generation with the chat provider
STARTING_GRACE = timedelta(minutes=2)  # a claimed deck may wait this long for its job to be queued


def needs_picture(slide: Slide) -> bool:
    """A picture slide with a prompt and no picture yet: the job makes one."""
    return (slide.layout == "image_text" and slide.image is not None and not slide.image.asset_id
            and bool(slide.image.prompt.strip()))


def price(*, provider: str, image_provider: str, slides: list[Slide]) -> int:
    """Credits for writing `slides`: their new pictures, plus the chat provider's price per generation."""
    from app.services.ai import resolve

    pictures = sum(1 for s in slides if needs_picture(s))
    cost = resolve.price_of("images", image_provider, pictures) if pictures else 0
    if provider == "local":
        return cost
    return cost + (resolve.price("text", provider, 1) if resolve.is_ref(provider)
                   else credits.price_for(CHAT_PRICE_KEY, 1))


def generate(*, workspace_id: int, deck_id: int, user_id: int | None = None) -> Job:
    """Write every unlocked slide (text, pictures, charts) in a job; returns the job."""
    with session_scope() as session:
        deck = get_deck(session=session, workspace_id=workspace_id, deck_id=deck_id)
        outline = need_outline(deck)
        targets = [s for s in outline.slides if not s.locked]
        provider, image_provider = deck.provider, deck.image_provider
    if not targets:
        raise ValidationFailed("Every slide is locked: unlock the slides to write.", code="all_locked")
    return start(workspace_id=workspace_id, deck_id=deck_id, status=DeckStatus.GENERATING,
                 params={"action": "generate", "slide_ids": [s.id for s in targets]},
                 cost=price(provider=provider, image_provider=image_provider, slides=targets), user_id=user_id)


def has_edits(slide: Slide) -> bool:
    """A slide whose text a person wrote or changed: regenerating it would replace their words."""
    return slide.edited and bool(slide.bullets or slide.bullets_right or slide.notes.strip())


def regenerate_slide(*, workspace_id: int, deck_id: int, slide_id: str, replace_edits: bool = False,
                     user_id: int | None = None) -> Job:
    """Write one slide again from scratch (its text is replaced; a locked slide is refused). A slide holding a
    person's edits is refused with 409 `slide_edited` unless `replace_edits` says they agreed; either way the
    outline before it is kept as a version, so the edits can be restored."""
    with session_scope() as session:
        deck = get_deck(session=session, workspace_id=workspace_id, deck_id=deck_id)
        slide = find_slide(need_outline(deck), slide_id)
        provider, image_provider = deck.provider, deck.image_provider
    if slide.locked:
        raise Conflict(f"Slide “{slide.title or slide.id}” is locked: unlock it to regenerate it.",
                       code="slide_locked")
    if has_edits(slide) and not replace_edits:
        raise Conflict(f"Slide “{slide.title or slide.id}” has your edits: regenerating replaces its bullets and "
                       "notes. Confirm to go ahead (a version is kept so you can restore them).",
                       code="slide_edited")
    _keep_before(workspace_id=workspace_id, deck_id=deck_id, note=f"Before regenerating “{slide.title or slide.id}”")
    return start(workspace_id=workspace_id, deck_id=deck_id, status=DeckStatus.GENERATING,
                 params={"action": "regenerate", "slide_ids": [slide.id]},
                 cost=price(provider=provider, image_provider=image_provider, slides=[slide]), user_id=user_id)


def _keep_before(*, workspace_id: int, deck_id: int, note: str) -> None:
    with session_scope() as session:
        deck = locked_row(session, deck_id, workspace_id)
        check_not_busy(deck)
        keep_version(session=session, deck=deck, note=note)


def start(*, workspace_id: int, deck_id: int, status: str, params: dict, cost: int,
          user_id: int | None = None) -> Job:
    """Claim the deck (one job at a time), then add its job in one transaction with the deck pointing at it (queued
    once committed); the claim is undone when the job cannot be added or queued."""
    claim(deck_id, status)
    try:
        with session_scope() as session:
            job = jobs.start_tracked(session, kind=JOB_KIND, domain_row=session.get(Deck, deck_id),
                                     params={"deck_id": deck_id, **params}, cost=cost, user_id=user_id,
                                     workspace_id=workspace_id, on_refused=lambda session, _job: _release(session,
                                                                                                         deck_id))
    except BaseException:
        release(deck_id)
        raise
    return job


def claim(deck_id: int, status: str) -> None:
    """Move the deck to a busy status in one statement, so two clicks cannot start two jobs."""
    heal(deck_id=deck_id)
    with session_scope() as session:
        moved = session.execute(update(Deck).where(col(Deck.id) == deck_id, col(Deck.status).not_in(BUSY))
                                .values(status=status, error="", job_id="", updated_at=utcnow()))
        if moved.rowcount != 1:
            raise Conflict("This deck is being made right now; wait for it to finish or cancel it.",
                           code="deck_busy")


def release(deck_id: int) -> None:
    with session_scope() as session:
        _release(session, deck_id)


def _release(session: Session, deck_id: int) -> None:
    deck = locked_row(session, deck_id)
    deck.status = resting_status(outline_of(deck))
    deck.error = "" if deck.outline else "The outline could not be queued; plan it again."
    session.add(deck)


def heal(*, deck_id: int) -> bool:
    """Settle a deck left busy by a job that ended without settling it (its worker was killed and the
    reaper failed the job). True when it did. Cheap when nothing is wrong: one read."""
    with read_scope() as session:
        deck = session.get(Deck, deck_id)
        if deck is None or deck.status not in BUSY:
            return False
        job = session.get(Job, deck.job_id) if deck.job_id else None
        if job is None and utcnow() - _aware(deck.updated_at) < STARTING_GRACE:
            return False  # claimed a moment ago: its job is being queued
        if job is not None and job.status not in jobs.TERMINAL:
            return False
        job_id = deck.job_id
        status = job.status if job is not None and job.status == JobStatus.CANCELED else JobStatus.FAILED
        error = (job.error if job is not None else "") or "The job that was making this deck was lost."
    settle_interrupted(deck_id=deck_id, job_id=job_id, status=status, error=error, before={})
    return True


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite hands back naive UTC


def cancel(*, workspace_id: int, deck_id: int) -> str:
    """Stop the deck's job: 'removed' (it had not started) or 'stopping' (after the slides in flight)."""
    heal(deck_id=deck_id)
    with session_scope() as session:
        deck = get_deck(session=session, workspace_id=workspace_id, deck_id=deck_id)
        if deck.status not in BUSY or not deck.job_id:
            raise Conflict("Nothing is being made for this deck.", code="deck_idle")
        job_id = deck.job_id
    return jobs.cancel(job_id=job_id, workspace_id=workspace_id)  # the deck follows its job (settle_job)


# --- what the job writes -------------------------------------------------------------------------------


def stages(*, deck_id: int) -> dict[str, str]:
    deck = load_deck(deck_id)
    outline = outline_of(deck) if deck else None
    return {s.id: s.stage for s in outline.slides} if outline else {}


def set_stages(*, deck_id: int, stages: dict[str, str]) -> None:
    """Mark slides as being worked on (the preview shows it)."""
    with session_scope() as session:
        deck = locked_row(session, deck_id)
        outline = need_outline(deck)
        replace_slides(deck, {s.id: s.model_copy(update={"stage": stages[s.id], "error": ""})
                              for s in outline.slides if s.id in stages})
        session.add(deck)


def write_slide(*, deck_id: int, slide: Slide, fresh: bool = False) -> None:
    """Store one slide as the job has it now (a slide the user deleted meanwhile is dropped). `fresh`: the
    job wrote its text from scratch, so it no longer holds the person's edits; otherwise the mark stays."""
    with session_scope() as session:
        deck = locked_row(session, deck_id)
        if deck.outline:
            stored = next((s for s in need_outline(deck).slides if s.id == slide.id), None)
            edited = False if fresh or stored is None else stored.edited
            replace_slides(deck, {slide.id: slide.model_copy(update={"edited": edited})})
            session.add(deck)


def _finish_outline(session: Session, deck_id: int, outline: Outline) -> None:
    """A chat-planned outline arrives: the deck waits for the user's edits."""
    deck = locked_row(session, deck_id)
    if deck.outline:  # planned again over an edited outline: the edits stay one click away
        add_version(session=session, deck=deck, note="Before the outline was planned again")
    write_outline(deck, outline)
    deck.status, deck.error = "idle", ""
    session.add(deck)


def _finish_generation(session: Session, deck_id: int, slide_ids: list[str], note: str) -> None:
    """The deck's status from how the written slides came out, and a version of the result."""
    deck = locked_row(session, deck_id)
    outline = need_outline(deck)
    wanted = set(slide_ids)
    written = [s for s in outline.slides if s.id in wanted]
    failed = [s for s in written if s.stage == "failed"]
    if written and len(failed) == len(written):
        deck.status = "failed"
        deck.error = f"No slide could be written: {failed[0].error or 'unknown error'}"[:1000]
    else:
        deck.status = "ready"
        deck.error = (f"{len(failed)} of {len(written)} slides failed: edit them or regenerate them."
                      if failed else "")
    add_version(session=session, deck=deck, note=note + (f" ({len(failed)} failed)" if failed else ""))
    deck.updated_at = utcnow()
    session.add(deck)


def settle_job(session: Session, job: Job, *, reason: str = "", before: dict[str, str] | None = None,
               outline: Outline | None = None, written: dict | None = None) -> None:
    """The deck as its job ends, in the transaction that ends the job (app.services.jobs calls it with every
    status change of the job). Succeeded: the job's `outline` (planned) or `written` slides (`slide_ids`,
    `note`) close the deck with a version. Failed or canceled: slides left half-way go back to `before` (each
    slide's stage before the job); `reason`: the reaper ended the job (its worker was lost)."""
    deck_id = dict(job.params or {}).get("deck_id")
    if job.status == "succeeded":
        deck = session.get(Deck, deck_id) if deck_id is not None else None
        if deck is None or deck.job_id != job.id:
            return
        if outline is not None:
            _finish_outline(session, deck_id, outline)
        elif written is not None:
            _finish_generation(session, deck_id, written["slide_ids"], written["note"])
        return
    if job.status not in ("failed", "canceled"):
        return
    # "ChatError: the provider…" → "the provider…": the deck shows the message, not our class names.
    error = reason or re.sub(r"^[A-Za-z]*(Error|Exception): ", "", job.error or "")
    _settle(session, deck_id=deck_id, job_id=job.id, status=job.status, error=error, before=before or {})


def settle_interrupted(*, deck_id: int, job_id: str, status: str, error: str, before: dict[str, str]) -> None:
    """After a canceled or failed job: slides left half-way go back to their stage before the job, and the
    deck is usable again. Does nothing when the deck has moved on to another job."""
    with session_scope() as session:
        _settle(session, deck_id=deck_id, job_id=job_id, status=status, error=error, before=before)


def _settle(session: Session, *, deck_id: int | None, job_id: str, status: str, error: str,
            before: dict[str, str]) -> None:
    if deck_id is None or session.get(Deck, deck_id) is None:
        return
    deck = locked_row(session, deck_id)
    if deck.job_id != job_id or deck.status not in BUSY:
        return
    outline = outline_of(deck)
    if outline is not None:
        replace_slides(deck, {s.id: s.model_copy(update={"stage": _before(before.get(s.id))})
                              for s in outline.slides if s.stage in IN_PROGRESS})
    if outline is None:  # the outline itself was being planned
        deck.status = "failed"
        deck.error = (error or "Planning the outline was canceled; plan it again.")[:1000]
    else:
        deck.status = "failed" if status == "failed" else resting_status(outline)
        deck.error = (error or "The job failed.")[:1000] if status == "failed" else ""
    session.add(deck)


def _before(stage: str | None) -> str:
    return stage if stage and stage not in IN_PROGRESS else "outline"
