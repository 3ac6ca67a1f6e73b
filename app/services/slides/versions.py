"""Versions of a deck: saved after every generation and on demand, listed, restored."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from app.db import session_scope
from app.errors import NotFound
from app.models import Deck, DeckVersion
from app.services.slides.engine.model import Outline
from app.services.slides.store import (
    add_version,
    check_not_busy,
    get_deck,
    load_deck,
    locked_row,
    outline_of,
    resting_status,
    write_outline,
)


def version_public(version: DeckVersion) -> dict[str, Any]:
    outline = version.outline or {}
    return {"number": version.number, "note": version.note, "slide_count": len(outline.get("slides", [])),
            "title": outline.get("title", ""), "created_at": version.created_at.isoformat()}


def list_versions(*, session: Session, workspace_id: int, deck_id: int) -> list[DeckVersion]:
    """Newest first."""
    get_deck(session=session, workspace_id=workspace_id, deck_id=deck_id)
    return list(session.exec(select(DeckVersion).where(DeckVersion.deck_id == deck_id)
                             .order_by(col(DeckVersion.number).desc())).all())


def save_version(*, workspace_id: int, deck_id: int, note: str = "") -> DeckVersion:
    with session_scope() as session:
        deck = locked_row(session, deck_id, workspace_id)
        check_not_busy(deck)
        version = add_version(session=session, deck=deck, note=note or "Saved by hand")
        session.refresh(version)
        return version


def restore_version(*, workspace_id: int, deck_id: int, number: int) -> Deck:
    """Make version `number` the current outline; the current one is saved first when it differs."""
    with session_scope() as session:
        deck = locked_row(session, deck_id, workspace_id)
        check_not_busy(deck)
        version = session.exec(select(DeckVersion).where(DeckVersion.deck_id == deck_id,
                                                         DeckVersion.number == number)).first()
        if version is None:
            raise NotFound(f"This deck has no version {number}.", code="no_such_version")
        outline = Outline.model_validate(version.outline)
        if deck.outline and outline_of(deck) != outline:
            add_version(session=session, deck=deck, note=f"Before restoring version {number}")
        write_outline(deck, outline)
        deck.status, deck.error = resting_status(outline), ""
        session.add(deck)
    return load_deck(deck_id)
