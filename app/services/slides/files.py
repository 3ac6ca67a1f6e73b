"""What a deck is drawn with and into: its theme or brand kit, its pictures, the preview PNGs, the .pptx and
the PDF. Everything is made on demand from the stored outline, so the preview and the files always agree.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from functools import lru_cache

from sqlmodel import Session, col, select
from unidecode import unidecode

from app.db import read_scope
from app.errors import NotFound, ValidationFailed
from app.ids import parse_id
from app.models import Asset, Deck
from app.services import scan
from app.services.slides.engine.brand_kit import BrandKit, load_brand_kit
from app.services.slides.engine.model import Outline, Slide
from app.services.slides.engine.pdf import convert_to_pdf
from app.services.slides.engine.pptx_render import render_pptx
from app.services.slides.engine.preview import slide_preview_png
from app.services.slides.engine.themes import Theme, get_theme
from app.settings import get_settings
from app.storage import get_storage

BRAND_PREFIX = "slides/brand"
PPTX_MIME = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
# python-pptx is not thread-safe: one deck is built at a time per process (a 20-slide deck takes ~0.3 s).
_render_lock = threading.Lock()
# LibreOffice takes a core for seconds per deck: at most this many conversions at once per process.
_pdf_slots = threading.BoundedSemaphore(2)
_previews: OrderedDict[str, bytes] = OrderedDict()  # fingerprint → PNG, most recently used last
_previews_lock = threading.Lock()
PREVIEW_CACHE = 256  # thumbnails of ~40–120 KB each


# --- brand kits ----------------------------------------------------------------------------------------


def store_brand_kit(*, workspace_id: int, data: bytes) -> tuple[str, str]:
    """Check an uploaded .pptx/.potx (BrandKitInvalid 422, BrandKitTooLarge 413), store it, and return
    (storage key, template name). The same file uploaded twice is stored once."""
    scan.require_clean(data, name="The brand template", where=f"workspace:{workspace_id}")
    kit = load_brand_kit(data)
    key = f"{BRAND_PREFIX}/{workspace_id}/{hashlib.sha256(data).hexdigest()}.pptx"
    storage = get_storage()
    if not storage.exists(key):
        storage.put(key, data, content_type=PPTX_MIME)
    return key, kit.name or "Brand template"


def describe_brand_kit(*, workspace_id: int, key: str) -> str:
    """The name of a brand template this owner stored; ValidationFailed for anyone else's or a missing one."""
    if not key.startswith(f"{BRAND_PREFIX}/{workspace_id}/") or not get_storage().exists(key):
        raise ValidationFailed("That brand template is not one of yours; upload it again.", code="unknown_brand_kit")
    return brand_kit(key).name or "Brand template"


@lru_cache(maxsize=8)
def brand_kit(key: str) -> BrandKit:
    """A stored brand template, read and prepared once per process."""
    return load_brand_kit(get_storage().get(key))


def remove_brand_kit_file(key: str) -> None:
    get_storage().delete(key)
    brand_kit.cache_clear()


def design_of(deck: Deck) -> Theme | BrandKit:
    """What the deck is drawn with: its brand kit when it has one, else its built-in theme."""
    return brand_kit(deck.brand_kit_key) if deck.brand_kit_key else get_theme(deck.theme)


# --- pictures ------------------------------------------------------------------------------------------


def picture_assets(*, session: Session, workspace_id: int, outline: Outline) -> dict[str, Asset]:
    """slide id → the owner's asset its picture uses (slides whose asset is gone are left out)."""
    wanted = {s.id: parse_id(s.image.asset_id) for s in outline.slides
              if s.layout == "image_text" and s.image and parse_id(s.image.asset_id)}
    if not wanted:
        return {}
    rows = session.exec(select(Asset).where(col(Asset.id).in_(set(wanted.values())), Asset.workspace_id == workspace_id,
                                            col(Asset.deleted_at).is_(None))).all()
    by_id = {a.id: a for a in rows}
    return {slide_id: by_id[asset_id] for slide_id, asset_id in wanted.items() if asset_id in by_id}


def _pictures(deck: Deck, outline: Outline, *, thumbnails: bool) -> dict[str, bytes]:
    with read_scope() as session:
        keys = {slide_id: a.thumb_key if thumbnails and a.thumb_key else a.storage_key
                for slide_id, a in picture_assets(session=session, workspace_id=deck.workspace_id,
                                                  outline=outline).items()}
    storage = get_storage()
    return {slide_id: storage.get(key) for slide_id, key in keys.items()}


# --- preview -------------------------------------------------------------------------------------------


def fingerprint(deck: Deck, slide: Slide, width: int = 640) -> str:
    """Changes whenever what the slide's preview shows may change (its content, stage, the design)."""
    raw = "|".join([str(deck.workspace_id), str(deck.id), slide.model_dump_json(), deck.theme, deck.brand_kit_key,
                    deck.title, str(width)])
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def preview_url(deck: Deck, slide: Slide) -> str:
    """The slide's preview address, cache-busted by its fingerprint."""
    return f"/api/v1/slides/{deck.id}/slides/{slide.id}/preview.png?v={fingerprint(deck, slide)}"


def preview_png(*, deck: Deck, slide: Slide, width: int = 640) -> bytes:
    """The slide as a PNG, as the exported file shows it (cached by fingerprint)."""
    key = fingerprint(deck, slide, width)
    with _previews_lock:
        if key in _previews:
            _previews.move_to_end(key)
            return _previews[key]
    outline = Outline(title=deck.title, slides=[slide])
    # Thumbnails (≤ 512 px) are plenty for a grid tile; a large view draws from the original.
    image = _pictures(deck, outline, thumbnails=width <= 800).get(slide.id)
    png = slide_preview_png(slide=slide, theme=design_of(deck), image=image, width=width, deck_title=deck.title)
    with _previews_lock:
        _previews[key] = png
        while len(_previews) > PREVIEW_CACHE:
            _previews.popitem(last=False)
    return png


# --- files ---------------------------------------------------------------------------------------------


def file_name(title: str, ext: str) -> str:
    stem = re.sub(r"[^a-z0-9]+", "-", unidecode(title or "").lower()).strip("-")[:60].rstrip("-")
    return f"{stem or 'deck'}.{ext}"


def render_deck(*, deck: Deck) -> bytes:
    """The deck as an editable .pptx: native text, charts with their data, tables and pictures."""
    outline = _outline(deck)
    pictures = _pictures(deck, outline, thumbnails=False)
    design = design_of(deck)
    with _render_lock:
        return render_pptx(outline=outline, theme=design, images=pictures)


def render_pdf(*, deck: Deck) -> bytes:
    """The deck as PDF, one page per slide, through LibreOffice (PdfUnavailable 503 when it is missing)."""
    pptx = render_deck(deck=deck)
    with _pdf_slots:
        return convert_to_pdf(pptx, timeout=get_settings().slides_pdf_timeout_seconds)


def check_native(*, deck: Deck, slide: Slide) -> None:
    """Build the slide's native chart or table in a scratch file: data python-pptx refuses fails here, in
    the job, instead of at export."""
    with _render_lock:
        render_pptx(outline=Outline(title=deck.title, slides=[slide]), theme=design_of(deck), images={})


def _outline(deck: Deck) -> Outline:
    if not deck.outline:
        raise NotFound("This deck has no outline yet.", code="no_outline")
    return Outline.model_validate(deck.outline)
