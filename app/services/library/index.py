"""The one writer of `asset.search_text`, the column the full-text index reads (SQLite FTS5 through
triggers, PostgreSQL a GIN index on to_tsvector('simple', …)). Call `refresh` in the same transaction
as any change to a name, alt text, tags, OCR words or camera."""

from __future__ import annotations

from sqlmodel import Session, col, select

from app.models import Asset, AssetTag

MAX_SEARCH_CHARS = 20_000


def search_text_of(asset: Asset, tags: list[str]) -> str:
    stem = asset.filename.rsplit(".", 1)[0]
    # The stem with its separators as spaces too, so "beach-sunset.jpg" is found by "sunset".
    words = stem.replace("-", " ").replace("_", " ").replace(".", " ")
    parts = [asset.filename, words, asset.alt_text, " ".join(tags), asset.camera, asset.ocr_text]
    return " ".join(p for p in parts if p)[:MAX_SEARCH_CHARS]


def refresh(session: Session, asset: Asset) -> None:
    tags = list(session.exec(select(AssetTag.tag).where(AssetTag.asset_id == asset.id).order_by(col(AssetTag.tag))))
    text = search_text_of(asset, tags)
    if text != asset.search_text:
        asset.search_text = text
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
        text = search_text_of(asset, tags[asset.id])
        if text != asset.search_text:
            asset.search_text = text
            session.add(asset)
