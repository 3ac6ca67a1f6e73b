"""The deck row and its outline JSON: reading, owner checks, and the writes every deck service shares."""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from app.db import read_scope
from app.errors import Conflict, NotFound, ValidationFailed
from app.models import Deck, DeckStatus, DeckVersion, utcnow
from app.services.slides.engine.model import DeckSpec, Outline, Slide

# Deck statuses while a job works on it: edits are refused then.
BUSY = (DeckStatus.OUTLINING, DeckStatus.GENERATING)
# Slide stages while a job works on the slide.
IN_PROGRESS = ("writing", "image", "chart")
MAX_VERSIONS = 50  # per deck; the oldest go first
MAX_NOTE = 200


def get_deck(*, session: Session, workspace_id: int, deck_id: int) -> Deck:
    deck = session.get(Deck, deck_id)
    if deck is None or deck.workspace_id != workspace_id:  # someone else's deck answers like a missing one
        raise NotFound("No such deck.")
    return deck


def locked_row(session: Session, deck_id: int, workspace_id: int | None = None) -> Deck:
    """The deck row locked for this transaction: an edit and a job writing a slide never interleave their
    read-modify-write (PostgreSQL: FOR UPDATE; SQLite serialises writers with BEGIN IMMEDIATE already)."""
    deck = session.exec(select(Deck).where(Deck.id == deck_id).with_for_update()).first()
    if deck is None or (workspace_id is not None and deck.workspace_id != workspace_id):
        raise NotFound("No such deck.")
    return deck


def load_deck(deck_id: int) -> Deck | None:
    """The deck row as it is now, detached (read without taking SQLite's write lock)."""
    with read_scope() as session:
        deck = session.get(Deck, deck_id)
        if deck is not None:
            session.expunge(deck)  # kept loaded: the read scope rolls back, which would expire it
        return deck


def outline_of(deck: Deck) -> Outline | None:
    return Outline.model_validate(deck.outline) if deck.outline else None


def spec_of(deck: Deck) -> DeckSpec:
    return DeckSpec.model_validate(deck.spec)


def check_not_busy(deck: Deck) -> None:
    if deck.status in BUSY:
        raise Conflict("This deck is being made right now; wait for it to finish or cancel it.", code="deck_busy")


def need_outline(deck: Deck) -> Outline:
    outline = outline_of(deck)
    if outline is None:
        raise Conflict("This deck has no outline yet.", code="no_outline")
    return outline


def find_slide(outline: Outline, slide_id: str) -> Slide:
    slide = next((s for s in outline.slides if s.id == slide_id), None)
    if slide is None:
        raise NotFound(f"This deck has no slide {slide_id[:40]!r}.", code="no_such_slide")
    return slide


def write_outline(deck: Deck, outline: Outline) -> None:
    """Store `outline` on the row (the caller adds it to its session) and bump the revision."""
    deck.outline = outline.model_dump(mode="json")
    deck.title = (outline.title or outline.slides[0].title or deck.title)[:600]
    deck.revision += 1
    deck.updated_at = utcnow()


def replace_slides(deck: Deck, changes: dict[str, Slide]) -> Outline:
    """Swap slides by id into the stored outline (which may have been reordered meanwhile) and store it."""
    outline = need_outline(deck)
    updated = outline.model_copy(update={"slides": [changes.get(s.id, s) for s in outline.slides]})
    write_outline(deck, updated)
    return updated


def resting_status(outline: Outline | None) -> DeckStatus:
    """The status of a deck nobody is working on."""
    if outline is None:
        return DeckStatus.FAILED
    return DeckStatus.READY if any(s.stage == "ready" for s in outline.slides) else DeckStatus.IDLE


def keep_version(*, session: Session, deck: Deck, note: str) -> DeckVersion | None:
    """Save the current outline as a version unless the newest version already holds it: called before a
    machine writes over the outline, so what the person had is one "restore" away."""
    if not deck.outline:
        return None
    newest = session.exec(select(DeckVersion.outline).where(DeckVersion.deck_id == deck.id)
                          .order_by(col(DeckVersion.number).desc()).limit(1)).first()
    if newest is not None and Outline.model_validate(newest) == outline_of(deck):
        return None
    return add_version(session=session, deck=deck, note=note)


def add_version(*, session: Session, deck: Deck, note: str) -> DeckVersion:
    """Save the deck's current outline as its next version (the oldest beyond MAX_VERSIONS go)."""
    if not deck.outline:
        raise ValidationFailed("This deck has no outline yet.", code="no_outline")
    last = session.exec(select(func.max(DeckVersion.number)).where(DeckVersion.deck_id == deck.id)).one() or 0
    version = DeckVersion(deck_id=deck.id, number=last + 1, outline=deck.outline, note=note.strip()[:MAX_NOTE])
    session.add(version)
    old = session.exec(select(DeckVersion).where(DeckVersion.deck_id == deck.id,
                                                 col(DeckVersion.number) <= last + 1 - MAX_VERSIONS)).all()
    for row in old:
        session.delete(row)
    session.flush()
    return version
