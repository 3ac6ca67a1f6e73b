"""The one writer of `asset.search_text`, the column the full-text index reads (SQLite FTS5 through
triggers, PostgreSQL a GIN index on to_tsvector('simple', …)), and of `asset.camera_key`, the camera
filter's indexed column. Call `refresh` in the same transaction as any change to a name, alt text, tags,
OCR words or camera."""

from __future__ import annotations

import re
import unicodedata

from sqlmodel import Session, col, select

from app.models import Asset, AssetTag

MAX_SEARCH_CHARS = 20_000
# A word is a run of Unicode letters and digits; search splits the user's text the same way.
WORD = re.compile(r"[^\W_]+")


def words_of(text: str) -> list[str]:
    return WORD.findall(unicodedata.normalize("NFC", text).lower())


def fold(word: str) -> str:
    """The word without its accents ("café" → "cafe")."""
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


def camera_key_of(camera: str) -> str:
    """The camera's name as the camera filter matches it: spaces collapsed, lower-case."""
    return " ".join(camera.split()).lower()


def search_text_of(asset: Asset, tags: list[str]) -> str:
    """Plain words separated by spaces, so both full-text engines see the same words: SQLite's unicode61
    splits "beach-sunset.jpg" into three, PostgreSQL's parser keeps it as one file token ("jpg" would not
    be found there). Accented words get their folded form too: FTS5 folds accents itself (remove_diacritics),
    PostgreSQL's 'simple' configuration does not, and search folds the user's words."""
    parts = [asset.filename, asset.alt_text, " ".join(tags), asset.camera, asset.ocr_text]
    words = words_of(" ".join(p for p in parts if p))
    seen = set(words)
    folded = {f: None for f in (fold(w) for w in words if not w.isascii()) if f and f not in seen}
    return " ".join([*words, *folded])[:MAX_SEARCH_CHARS]


def refresh(session: Session, asset: Asset) -> None:
    tags = list(session.exec(select(AssetTag.tag).where(AssetTag.asset_id == asset.id).order_by(col(AssetTag.tag))))
    _store(session, asset, tags)


def _store(session: Session, asset: Asset, tags: list[str]) -> None:
    text, key = search_text_of(asset, tags), camera_key_of(asset.camera)
    if (text, key) != (asset.search_text, asset.camera_key):
        asset.search_text, asset.camera_key = text, key
        session.add(asset)


def refresh_many(session: Session, assets: list[Asset]) -> None:
    """refresh() for many assets, their tags read in one query (bulk actions touch thousands)."""
    ids = [a.id for a in assets]
    tags: dict[int, list[str]] = {i: [] for i in ids}
    for i in range(0, len(ids), 900):
        for asset_id, tag in session.exec(select(AssetTag.asset_id, AssetTag.tag)
                                          .where(col(AssetTag.asset_id).in_(ids[i:i + 900]))
                                          .order_by(col(AssetTag.tag))):
            tags[asset_id].append(tag)
    for asset in assets:
        _store(session, asset, tags[asset.id])
