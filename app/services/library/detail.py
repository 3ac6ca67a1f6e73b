"""One picture as the library shows it: the asset's public fields plus what the library knows of it."""

from __future__ import annotations

from sqlmodel import Session

from app.models import Asset
from app.services.assets import service as assets
from app.services.library.collections import collections_of
from app.services.library.tags import tags_of


def asset_detail(*, session: Session, asset: Asset) -> dict:
    return assets.public(asset) | {
        "alt_text": asset.alt_text, "tags": tags_of(session=session, asset_id=asset.id), "origin": asset.origin,
        "source_asset_id": asset.source_asset_id,
        "collections": [{"id": c.id, "name": c.name, "parent_id": c.parent_id}
                        for c in collections_of(session=session, asset_id=asset.id)],
        "taken_at": asset.taken_at.isoformat() if asset.taken_at else None, "camera": asset.camera,
        "colour": asset.colour}
