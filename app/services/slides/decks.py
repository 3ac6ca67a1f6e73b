"""Slide decks: create from a topic or a document, read them, edit the outline, lock slides, delete.

The outline (`app.services.slides.engine.model.Outline`) is stored as JSON on the deck row; the browser
preview, the .pptx and the PDF are all drawn from it (`deck_files`). Work that talks to a text or image
provider runs in the `slides.run` job (`deck_runs`, `jobs/slides.py`); the local outline is instant and
is made here. A deck that is outlining or generating refuses edits (409 `deck_busy`), so a job never
writes over a user's change. Versions: `deck_versions`.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import update
from sqlmodel import Session, col, func, select

from app.db import session_scope
from app.errors import Conflict, ValidationFailed
from app.ids import parse_id
from app.models import Asset, Deck, DeckStatus, DeckVersion, Job
from app.services.moderation import policy as content_policy
from app.services.slides import runs as deck_runs
from app.services.slides.engine import local_text
from app.services.slides.engine.extract import extract_text
from app.services.slides.engine.model import (
    MAX_SLIDES,
    DeckSpec,
    Outline,
    Slide,
)
from app.services.slides.engine.themes import UnknownTheme, get_theme
from app.services.slides.files import (
    describe_brand_kit,
    preview_url,
    remove_brand_kit_file,
    store_brand_kit,
)
from app.services.slides.store import (
    add_version,
    check_not_busy,
    find_slide,
    get_deck,
    keep_version,
    load_deck,
    locked_row,
    need_outline,
    outline_of,
    spec_of,
    write_outline,
)
from app.settings import get_settings

TEXT_PROVIDERS = {"local": "Local engine (offline)", "openai": "Chat API (OpenAI-compatible)"}
CHAT_SOURCE_CHARS = 24_000  # what the chat writer sends of the source (ChatSlideWriter.max_source_chars)
MAX_SOURCE_CHARS = 200_000  # DeckSpec.source_text
SLIDE_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")  # ids go into preview URLs


class DeckInput(BaseModel):
    """What a user asks for; the Slides page and `POST /api/v1/slides` validate with it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    topic: str = Field(default="", max_length=300)
    source_text: str = Field(default="", max_length=MAX_SOURCE_CHARS)
    slides: int = Field(default=8, ge=1, le=MAX_SLIDES)
    audience: str = Field(default="", max_length=120)
    tone: str = Field(default="", max_length=60)
    language: str = Field(default="en", min_length=2, max_length=12)
    theme: str = Field(default="", max_length=60)
    notes: bool = True  # speaker notes
    provider: str = Field(default="local", max_length=200)  # a name or "conn:<id>:<model>"
    image_provider: str = Field(default="", max_length=200)  # "": SLIDES_IMAGE_PROVIDER, else the image default


def chat_configured() -> bool:
    settings = get_settings()
    return bool(settings.slides_openai_base_url and settings.slides_openai_model)


def text_providers() -> list[dict[str, str]]:
    """The text engines this server offers: stored AI connections' text models (the default first),
    the settings' chat API while it was not moved to a connection, and the local engine always."""
    from app.services.ai import resolve, seed

    found = [{"name": c["value"], "label": c["label"]} for c in resolve.choices("text")]
    if chat_configured() and seed.seeded_ref("text:slides") is None:
        found.append({"name": "openai", "label": TEXT_PROVIDERS["openai"]})
    return [*found, {"name": "local", "label": TEXT_PROVIDERS["local"]}]


def default_text_provider() -> str:
    from app.services.ai import resolve

    return resolve.default_ref("text") or "local"


def chat_ref(name: str) -> str | None:
    """The AI connection a text provider name stands for (None: the settings' chat API or local)."""
    from app.services.ai import resolve, seed

    if resolve.is_ref(name):
        return name
    if name == "openai":
        return seed.seeded_ref("text:slides")
    return None


def check_text_provider(name: str) -> str:
    from app.services.ai import resolve

    ref = chat_ref(name)
    if ref == "":
        raise ValidationFailed("The chat provider was moved to the AI connections page and is no longer there "
                               "(or is disabled).", code="provider_not_configured")
    if ref is not None:
        resolve.check("text", ref)
        return ref
    if name not in TEXT_PROVIDERS:
        raise ValidationFailed(f"There is no text provider called {name!r}; use one of: "
                               f"{', '.join(TEXT_PROVIDERS)} or an AI connection.", code="unknown_provider")
    if name == "openai" and not chat_configured():
        raise ValidationFailed("The chat provider is not set up on this server (SLIDES_OPENAI_BASE_URL and "
                               "SLIDES_OPENAI_MODEL).", code="provider_not_configured")
    return name


def check_theme(name: str) -> str:
    try:
        return get_theme(name).name
    except UnknownTheme as exc:  # a bad form value, not a missing resource
        raise ValidationFailed(exc.message, code="unknown_theme") from exc


def image_provider_name(name: str) -> str:
    """The image provider slide pictures are made with (checked: known and set up)."""
    from app.services.generation import registry

    settings = get_settings()
    name = name or settings.slides_image_provider or registry.default_name()
    registry.get_provider(name)  # 422 when unknown or not configured
    return name


def _spec(data: DeckInput, source_text: str, theme: str) -> DeckSpec:
    try:
        return DeckSpec(topic=data.topic, source_text=source_text, slides=data.slides, audience=data.audience,
                        tone=data.tone, language=data.language, theme=theme, notes=data.notes)
    except ValidationError as exc:
        problems = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors()[:3])
        raise ValidationFailed(f"The deck request is not valid: {problems}.", code="invalid_deck") from exc


# --- reading -------------------------------------------------------------------------------------------


def list_decks(*, session: Session, workspace_id: int, limit: int = 50, offset: int = 0) -> tuple[list[Deck], int]:
    """The owner's decks, most recently changed first."""
    stmt = select(Deck).where(Deck.workspace_id == workspace_id)
    rows = session.exec(stmt.order_by(col(Deck.updated_at).desc(), col(Deck.id).desc())
                        .limit(max(1, min(limit, 200))).offset(max(0, offset))).all()
    total = session.exec(select(func.count()).select_from(Deck).where(Deck.workspace_id == workspace_id)).one()
    return list(rows), total


def summary(deck: Deck) -> dict[str, Any]:
    """A deck in a list: what identifies it, without its outline."""
    count = len(deck.outline.get("slides", [])) if deck.outline else 0
    return {"id": deck.id, "title": deck.title, "status": deck.status, "slide_count": count, "theme": deck.theme,
            "brand_kit": deck.brand_kit_name or None, "provider": deck.provider,
            "created_at": deck.created_at.isoformat(), "updated_at": deck.updated_at.isoformat()}


def public(deck: Deck, job: Job | None = None) -> dict[str, Any]:
    """The whole deck: its request (the source as a length), outline, preview URLs and current job."""
    spec = spec_of(deck)
    outline = outline_of(deck)
    body = {**summary(deck), "error": deck.error, "revision": deck.revision, "job_id": deck.job_id,
            "image_provider": deck.image_provider,
            "spec": {**spec.model_dump(exclude={"source_text"}), "source_chars": len(spec.source_text)},
            "outline": outline.model_dump() if outline else None,
            # Slides still holding the skeleton's "add a fact here" text: worth saying before anyone presents.
            "placeholder_slides": sum(1 for s in outline.slides if s.placeholder) if outline else 0,
            "previews": {s.id: preview_url(deck, s) for s in outline.slides} if outline else {}}
    if job is not None:
        body["job"] = {"id": job.id, "status": job.status, "progress": job.progress, "message": job.message}
    return body


def describe(*, session: Session, workspace_id: int, deck_id: int) -> dict[str, Any]:
    deck = get_deck(session=session, workspace_id=workspace_id, deck_id=deck_id)
    job = session.get(Job, deck.job_id) if deck.job_id else None
    return public(deck, job)


# --- creating ------------------------------------------------------------------------------------------


def create_deck(*, workspace_id: int, data: DeckInput, document: tuple[str, bytes] | None = None,
                brand_kit: bytes | None = None, brand_kit_key: str = "") -> Deck:
    """Validate, read the document, make the outline (local: now; chat: in a job) and store the deck.

    `document` is an uploaded (filename, bytes) whose text joins `source_text`; `brand_kit` an uploaded
    .pptx/.potx template, or `brand_kit_key` one this owner stored earlier with `store_brand_kit`.
    """
    provider = check_text_provider(data.provider)
    theme = check_theme(data.theme)
    image_provider = image_provider_name(data.image_provider)
    source = data.source_text
    if document is not None:
        extracted = extract_text(data=document[1], filename=document[0])
        source = (f"{source}\n\n{extracted.markdown}" if source else extracted.markdown)[:MAX_SOURCE_CHARS]
    spec = _spec(data, source, theme)
    if provider != "local":  # the user's words leave this server: moderate them first
        content_policy.enforce_prompt(workspace_id=workspace_id, text="\n".join(
            [spec.topic, spec.audience, spec.tone, spec.source_text[:CHAT_SOURCE_CHARS]]).strip())
    with session_scope() as session:
        count = session.exec(select(func.count()).select_from(Deck).where(Deck.workspace_id == workspace_id)).one()
    if count >= get_settings().slides_max_decks:
        raise Conflict(f"You have {count} decks, the most one account keeps; delete some first.",
                       code="too_many_decks")
    kit_key, kit_name = "", ""
    if brand_kit is not None:
        kit_key, kit_name = store_brand_kit(workspace_id=workspace_id, data=brand_kit)
    elif brand_kit_key:
        kit_key, kit_name = brand_kit_key, describe_brand_kit(workspace_id=workspace_id, key=brand_kit_key)
    planned = local_text.plan_outline(spec) if provider == "local" else None
    outline = planned.outline if planned else None
    with session_scope() as session:
        deck = Deck(workspace_id=workspace_id,
                    title=(outline.title if outline else spec.topic)[:600] or "Untitled deck",
                    spec=spec.model_dump(mode="json"), outline=outline.model_dump(mode="json") if outline else None,
                    theme=theme,
                    brand_kit_key=kit_key, brand_kit_name=kit_name[:200], provider=provider,
                    image_provider=image_provider, status=DeckStatus.IDLE if outline else DeckStatus.FAILED,
                    error=_notice_of(planned))
        session.add(deck)
        session.flush()
        deck_id = deck.id
    if outline is None:  # the chat provider plans it in a job
        deck_runs.start(workspace_id=workspace_id, deck_id=deck_id, status=DeckStatus.OUTLINING,
                        params={"action": "outline"}, cost=0)
    return load_deck(deck_id)


def rebuild_outline(*, workspace_id: int, deck_id: int, provider: str = "") -> Deck:
    """Plan the outline again from the deck's request (after a failed chat outline, or to start over).
    The current outline is saved as a version first."""
    with session_scope() as session:
        deck = get_deck(session=session, workspace_id=workspace_id, deck_id=deck_id)
        check_not_busy(deck)
        provider = check_text_provider(provider or deck.provider)
        spec = spec_of(deck)
    if provider != "local":
        with session_scope() as session:
            session.execute(update(Deck).where(col(Deck.id) == deck_id).values(provider=provider))
        deck_runs.start(workspace_id=workspace_id, deck_id=deck_id, status=DeckStatus.OUTLINING,
                        params={"action": "outline"}, cost=0)
        return load_deck(deck_id)
    planned = local_text.plan_outline(spec)
    with session_scope() as session:
        deck = locked_row(session, deck_id, workspace_id)
        check_not_busy(deck)
        if deck.outline:
            add_version(session=session, deck=deck, note="Before the outline was planned again")
        write_outline(deck, planned.outline)
        deck.status, deck.error, deck.provider = DeckStatus.IDLE, _notice_of(planned), provider
        session.add(deck)
    return load_deck(deck_id)


def _notice_of(planned: local_text.Planned | None) -> str:
    """What the local engine could not do as asked, on the deck as its other warnings are (the page shows
    `error` in an amber callout while the deck is not failed); the next run clears it."""
    return " ".join(planned.notices)[:1000] if planned else ""


# --- editing -------------------------------------------------------------------------------------------


def _content(slide: Slide) -> dict[str, Any]:
    return slide.model_dump(exclude={"stage", "error", "locked", "placeholder", "edited"})


def merge_outline(current: Outline | None, incoming: Outline) -> Outline:
    """The outline to store for an edit. Stages are the server's: an unchanged slide keeps its own, a new
    one is "outline", an edited one "ready" once it had been written. A locked slide keeps its stored
    content unless the edit also unlocks it; deleting a locked slide raises Conflict."""
    stored = {s.id: s for s in current.slides} if current else {}
    kept = {s.id for s in incoming.slides}
    for slide in stored.values():
        if slide.locked and slide.id not in kept:
            raise Conflict(f"Slide “{slide.title or slide.id}” is locked: unlock it before deleting it.",
                           code="slide_locked")
    slides = []
    for slide in incoming.slides:
        before = stored.get(slide.id)
        if before is not None and before.locked and slide.locked:
            slides.append(before)
            continue
        if before is not None and _content(before) == _content(slide):
            slides.append(slide.model_copy(update={"stage": before.stage, "error": before.error,
                                                   "placeholder": before.placeholder, "edited": before.edited}))
            continue
        stage = "outline" if before is None or before.stage == "outline" else "ready"
        # Placeholder bullets the user has rewritten are theirs now.
        placeholder = bool(before and before.placeholder and before.bullets == slide.bullets)
        slides.append(slide.model_copy(update={"stage": stage, "error": "", "placeholder": placeholder,
                                               "edited": True}))
    return Outline(title=incoming.title, slides=slides)


def update_outline(*, workspace_id: int, deck_id: int, outline: Outline, revision: int | None = None,
                   version_note: str = "", keep_before: str = "") -> Deck:
    """Replace the outline (reorder, add, delete, rename, edit bullets, change layouts). `revision`, when
    given, must be the deck's current one (409 `stale_outline` otherwise: it changed meanwhile).
    With `version_note`, an outline whose slide order changes is first kept as a version, so a drag can be
    undone from the versions; a run of drags keeps one (the order before the first), not one per drag.
    With `keep_before`, the stored outline is kept as a version with that note first (unless the newest
    version holds it): a user saving over a change made elsewhere leaves that change restorable."""
    bad = [s.id for s in outline.slides if not SLIDE_ID.match(s.id)]
    if bad:
        raise ValidationFailed(f"Slide ids may use letters, digits, '-' and '_' only: {bad[0][:40]!r}.",
                               code="invalid_slide_id")
    check_assets(workspace_id=workspace_id, outline=outline)
    with session_scope() as session:
        deck = locked_row(session, deck_id, workspace_id)
        check_not_busy(deck)
        if revision is not None and revision != deck.revision:
            raise Conflict("The outline changed since you loaded it; reload it and make your edit again.",
                           code="stale_outline")
        if keep_before:
            keep_version(session=session, deck=deck, note=keep_before)
        before = outline_of(deck)
        if version_note and before is not None and _order(before) != _order(outline) \
                and _newest_note(session, deck) != version_note:
            add_version(session=session, deck=deck, note=version_note)
        write_outline(deck, merge_outline(before, outline))
        session.add(deck)
    return load_deck(deck_id)


def _order(outline: Outline) -> list[str]:
    return [s.id for s in outline.slides]


def _newest_note(session: Session, deck: Deck) -> str | None:
    newest = session.exec(select(DeckVersion).where(DeckVersion.deck_id == deck.id)
                          .order_by(col(DeckVersion.number).desc()).limit(1)).first()
    return None if newest is None else newest.note


def set_locked(*, workspace_id: int, deck_id: int, slide_id: str, locked: bool) -> Deck:
    """Lock a slide (generation and regeneration leave it as it is) or unlock it."""
    with session_scope() as session:
        deck = locked_row(session, deck_id, workspace_id)
        check_not_busy(deck)
        outline = need_outline(deck)
        slide = find_slide(outline, slide_id)
        slides = [s.model_copy(update={"locked": locked}) if s.id == slide.id else s for s in outline.slides]
        write_outline(deck, outline.model_copy(update={"slides": slides}))
        session.add(deck)
    return load_deck(deck_id)


def delete_deck(*, workspace_id: int, deck_id: int) -> None:
    """The deck, its versions, and its brand template file when no other deck uses it."""
    with session_scope() as session:
        deck = locked_row(session, deck_id, workspace_id)
        check_not_busy(deck)
        key = deck.brand_kit_key
        for version in session.exec(select(DeckVersion).where(DeckVersion.deck_id == deck_id)).all():
            session.delete(version)
        session.delete(deck)
        session.flush()
        shared = bool(key) and session.exec(select(func.count()).select_from(Deck)
                                            .where(Deck.brand_kit_key == key)).one() > 0
    if key and not shared:
        remove_brand_kit_file(key)


def check_assets(*, workspace_id: int, outline: Outline) -> None:
    """Pictures picked from the library must be the owner's own assets (422 `unknown_asset`)."""
    wanted = {s.image.asset_id for s in outline.slides if s.image and s.image.asset_id}
    if not wanted:
        return
    ids = {parse_id(a) for a in wanted} - {0}  # 0: not a 64-bit id, so in nobody's library
    with session_scope() as session:
        found = set(session.exec(select(Asset.id).where(col(Asset.id).in_(ids),
                                                        Asset.workspace_id == workspace_id)).all())
    missing = sorted(a for a in wanted if parse_id(a) not in found)
    if missing:
        raise ValidationFailed(f"These pictures are not in your library: {', '.join(missing[:5])}.",
                               code="unknown_asset")
