"""Where templates meet the other products: a deck saved as a slide template, a new deck from a slide template's
active version, and an image style's prompt and settings handed to the generation service."""

from __future__ import annotations

import logging

from sqlmodel import Session, func, select

from app.errors import Conflict, ValidationFailed
from app.models import Deck, Template
from app.services.auth.accounts import UserPublic
from app.services.slides.engine.model import Outline
from app.services.slides.store import get_deck, resting_status
from app.services.templates import library, render, versions
from app.services.workspaces.members import authorize
from app.settings import get_settings
from app.storage import get_storage

log = logging.getLogger(__name__)
THUMB_PREFIX = "templates/thumbs"
THUMB_WIDTH = 480


def _kind(template: Template, kind: str) -> None:
    if template.kind != kind:
        raise ValidationFailed(f"This is a {library.KIND_LABELS[template.kind].lower()} template, not a "
                               f"{library.KIND_LABELS[kind].lower()} one.", code="template_kind_mismatch")


def deck_content(deck: Deck) -> dict:
    """A deck's spec, outline and design as a slide template's content (no job state, no provider)."""
    if not deck.outline:
        raise Conflict("This deck has no outline yet; wait until it is made.", code="no_outline")
    return {"spec": dict(deck.spec), "outline": dict(deck.outline), "theme": deck.theme,
            "brand_kit_key": deck.brand_kit_key, "brand_kit_name": deck.brand_kit_name}


def store_thumbnail(*, template: Template, deck: Deck) -> None:
    """The first slide's preview as the template's library tile (best effort: a tile is not worth a failed save)."""
    from app.services.slides.files import preview_png

    outline = Outline.model_validate(deck.outline)
    key = f"{THUMB_PREFIX}/{template.workspace_id}/{template.id}.png"
    try:
        png = preview_png(deck=deck, slide=outline.slides[0], width=THUMB_WIDTH)
        get_storage().put(key, png, content_type="image/png")
    except Exception:
        log.exception("no thumbnail for template %s", template.id)
        return
    template.thumbnail_key = key


def thumbnail(*, session: Session, actor: UserPublic, template_id: int) -> bytes | None:
    template = library.load(session=session, actor=actor, template_id=template_id)
    return get_storage().get(template.thumbnail_key) if template.thumbnail_key else None


def save_deck_as_template(*, session: Session, actor: UserPublic, deck_id: int, name: str = "",
                          description: str = "", category: str = "", tags: list[str] | tuple[str, ...] = (),
                          template_id: int | None = None, base_number: int = 0, base_revision: int = 0) -> Template:
    """A deck the actor can read becomes a new slide template (its first draft), or — with `template_id` — the
    next version of an existing slide template (the usual save rule: base number and revision)."""
    authorize(session=session, actor=actor, workspace_id=actor.workspace_id, action="work.read")
    deck = get_deck(session=session, workspace_id=actor.workspace_id, deck_id=deck_id)
    content = deck_content(deck)
    if template_id is None:
        template = library.create_template(session=session, actor=actor, kind="slide", name=name or deck.title[:120],
                                           description=description, category=category, tags=tags, content=content,
                                           note=f"Saved from the deck “{deck.title[:80]}”")
    else:
        template = library.load(session=session, actor=actor, template_id=template_id, action="templates.write")
        _kind(template, "slide")
        versions.save_version(session=session, actor=actor, template_id=template.id, content=content,
                              note=f"Saved from the deck “{deck.title[:80]}”", base_number=base_number,
                              base_revision=base_revision)
    store_thumbnail(template=template, deck=deck)
    session.add(template)
    return template


def new_deck_from_template(*, session: Session, actor: UserPublic, template_id: int) -> Deck:
    """A new deck in the actor's current workspace from the slide template's active version."""
    from app.services import audit

    template = library.load(session=session, actor=actor, template_id=template_id)
    authorize(session=session, actor=actor, workspace_id=actor.workspace_id, action="slides.write")
    _kind(template, "slide")
    picked = render.prepare(session=session, actor=actor, template_id=template.id)
    content = picked.version.content
    outline = Outline.model_validate(content["outline"])
    count = session.exec(select(func.count()).select_from(Deck).where(Deck.workspace_id == actor.workspace_id)).one()
    if count >= get_settings().slides_max_decks:
        raise Conflict(f"This workspace has {count} decks, the most it keeps; delete some first.",
                       code="too_many_decks")
    kit_key = content.get("brand_kit_key", "")
    if kit_key:
        from app.services.slides.files import describe_brand_kit

        describe_brand_kit(workspace_id=actor.workspace_id, key=kit_key)
    deck = Deck(workspace_id=actor.workspace_id, title=(outline.title or template.name)[:600],
                spec=dict(content.get("spec") or {}), outline=outline.model_dump(mode="json"),
                theme=content.get("theme", ""), brand_kit_key=kit_key, brand_kit_name=content.get("brand_kit_name", ""),
                status=resting_status(outline))
    session.add(deck)
    session.flush()
    audit.record(session=session, action="template.new_deck", actor_id=actor.id,
                 target=f"template:{template.id} version:{picked.version.number}", detail=f"deck:{deck.id}")
    return deck


def generation_input(*, session: Session, actor: UserPublic, template_id: int, variables: dict | None = None,
                     overrides: dict | None = None, number: int | None = None, preview: bool = False):
    """The image style's active version as a GenerationInput for app.services.generation.service: its prompt with
    the variables filled in, its settings, then what the person changed on the Generate page (`overrides`)."""
    from pydantic import ValidationError

    from app.services.generation.service import GenerationInput
    from app.services.templates.content import check_settings

    template = library.load(session=session, actor=actor, template_id=template_id)
    _kind(template, "image_style")
    picked = render.prepare(session=session, actor=actor, template_id=template.id, data=variables, number=number,
                            preview=preview)
    request = render.image_style_request(picked.version.content, picked.data)
    settings = {**request["settings"], **check_settings(overrides or {})}
    try:
        return GenerationInput(prompt=request["prompt"], negative_prompt=request["negative_prompt"], **settings)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise ValidationFailed(f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}",
                               code="template_variable_invalid") from None


def generate_from_style(*, actor: UserPublic, template_id: int, variables: dict | None = None,
                        overrides: dict | None = None):
    """Start a generation with the image style (moderation, credits and the queue as any generation)."""
    from app.db import session_scope
    from app.services.generation.service import create_generation

    with session_scope() as session:
        authorize(session=session, actor=actor, workspace_id=actor.workspace_id, action="generate.write")
        data = generation_input(session=session, actor=actor, template_id=template_id, variables=variables,
                                overrides=overrides)
    return create_generation(workspace_id=actor.workspace_id, data=data, user_id=actor.id)
