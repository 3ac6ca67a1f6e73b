"""Moderation with the database: the admin-edited denylist, the AI check, and the decision log.

The matching itself is pure (app.services.moderation.service); this module loads the denylist, calls the
optional OpenAI-compatible moderation endpoint, records every decision and raises refusals.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.db import session_scope
from app.errors import Conflict, ModerationRejected, NotFound
from app.models import DenylistTerm, ModerationEvent
from app.process_cache import ForkSafeCache
from app.providers.http import HttpOptions
from app.services.moderation import service as moderation
from app.services.moderation.ai import OpenAIModeration
from app.settings import get_settings

KINDS = ("word", "phrase", "substring", "combo")  # see app.services.moderation.service
EVENT_TEXT_MAX = 2000


class TermInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    term: str = Field(min_length=1, max_length=200)
    kind: str = "word"
    category: str = Field(min_length=1, max_length=32)
    reason: str = Field(default="", max_length=200)

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value not in KINDS:
            raise ValueError(f"kind must be one of: {', '.join(KINDS)}")
        return value


def term_public(term: DenylistTerm) -> dict:
    return {"id": term.id, "term": term.term, "kind": term.kind, "category": term.category, "reason": term.reason,
            "created_at": term.created_at.isoformat()}


def event_public(event: ModerationEvent) -> dict:
    return {"id": event.id, "at": event.at.isoformat(), "workspace_id": event.workspace_id, "surface": event.surface,
            "allowed": event.allowed, "source": event.source, "category": event.category, "matched": event.matched,
            "reason": event.reason, "text": event.text, "generation_id": event.generation_id}


def entries(*, session: Session) -> list[moderation.DenylistEntry]:
    rows = session.exec(select(DenylistTerm)).all()
    return [moderation.DenylistEntry.from_dict({"term": r.term, "kind": r.kind, "category": r.category,
                                                "reason": r.reason}) for r in rows]


_ai_cache = ForkSafeCache()  # a forked child builds its own client


def ai_checker() -> OpenAIModeration | None:
    """The remote moderation client: the moderation default among the AI connections, else the one the
    settings configure (built once per settings object) until those were moved to a connection."""
    from app.services.ai import resolve, seed

    ref = resolve.default_ref("moderation")
    if ref:
        return resolve.client("moderation", ref)
    settings = get_settings()
    if not settings.moderation_openai_base_url or seed.seeded_ref("moderation:openai") is not None:
        return None
    with _ai_cache.lock:
        cached = _ai_cache.get("ai")
        if cached is not None and cached[0] is settings:
            return cached[1]
        client = OpenAIModeration(
            settings.moderation_openai_base_url, settings.moderation_openai_api_key,
            model=settings.moderation_openai_model, threshold=settings.moderation_threshold,
            fail_closed=settings.moderation_fail_closed, http=HttpOptions(read_timeout=20.0, retries=1))
        _ai_cache["ai"] = (settings, client)
        return client


def _log(*, workspace_id: int | None, surface: str, decision: Any, text: str, generation_id: int | None = None) -> int:
    with session_scope() as session:
        event = ModerationEvent(workspace_id=workspace_id, surface=surface, allowed=decision.allowed,
                                source=decision.source or "none", category=decision.category or "",
                                matched=(decision.matched or "")[:200], reason=(decision.reason or "")[:300],
                                text=text[:EVENT_TEXT_MAX], generation_id=generation_id)
        session.add(event)
        session.flush()
        return event.id


def check_prompt(*, text: str) -> Any:
    """The decision for a prompt: the denylist first, then the AI check when it is configured."""
    with session_scope() as session:
        decision = moderation.check_text(text, entries=entries(session=session))
    if decision.allowed and (ai := ai_checker()) is not None:
        decision = ai.check_text(text)
    return decision


def enforce_prompt(*, workspace_id: int | None, text: str) -> int:
    """Log the decision; raise ModerationRejected (422) when refused. Returns the log entry id."""
    decision = check_prompt(text=text)
    event_id = _log(workspace_id=workspace_id, surface="prompt", decision=decision, text=text)
    if not decision.allowed:
        raise ModerationRejected(decision.reason, category=decision.category or "")
    return event_id


def link_event(*, event_id: int, generation_id: int) -> None:
    with session_scope() as session:
        event = session.get(ModerationEvent, event_id)
        if event is not None:
            event.generation_id = generation_id
            session.add(event)


def output_allowed(*, workspace_id: int, image: bytes, generation_id: int) -> bool:
    """The optional check of a generated image; logged either way. True when no check is configured."""
    ai = ai_checker()
    if not get_settings().moderation_check_outputs or ai is None:
        return True
    decision = ai.check_image(image)
    _log(workspace_id=workspace_id, surface="output", decision=decision, text="", generation_id=generation_id)
    return decision.allowed


def list_terms(*, session: Session, query: str = "") -> list[DenylistTerm]:
    stmt = select(DenylistTerm)
    if query:
        stmt = stmt.where(col(DenylistTerm.term).ilike(f"%{query[:100]}%") |
                          col(DenylistTerm.category).ilike(f"%{query[:100]}%"))
    return list(session.exec(stmt.order_by(col(DenylistTerm.category), col(DenylistTerm.term))).all())


def add_term(*, session: Session, data: TermInput, actor_id: int) -> DenylistTerm:
    # The matcher checks the entry (a combo's syntax, the category) and stores the term in its
    # standard form, so "N U D E" and "nude" are the same row for the unique constraint.
    entry = moderation.DenylistEntry(term=data.term, kind=data.kind, category=data.category, reason=data.reason)
    term = DenylistTerm(**entry.as_dict(), created_by=actor_id)
    try:
        with session.begin_nested():
            session.add(term)
            session.flush()
    except IntegrityError as exc:
        raise Conflict("That term is on the list already.", code="term_exists") from exc
    return term


def delete_term(*, session: Session, term_id: int) -> DenylistTerm:
    term = session.get(DenylistTerm, term_id)
    if term is None:
        raise NotFound("No such term.")
    session.delete(term)
    return term


def list_events(*, session: Session, allowed: bool | None = None, limit: int = 100,
                offset: int = 0) -> tuple[list[ModerationEvent], int]:
    stmt = select(ModerationEvent)
    count = select(func.count()).select_from(ModerationEvent)
    if allowed is not None:
        stmt = stmt.where(ModerationEvent.allowed == allowed)
        count = count.where(ModerationEvent.allowed == allowed)
    rows = session.exec(stmt.order_by(col(ModerationEvent.at).desc(), col(ModerationEvent.id).desc())
                        .limit(limit).offset(offset)).all()
    return list(rows), session.exec(count).one()
