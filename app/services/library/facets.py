"""What an owner's library holds to filter by: the cameras, colours and tags in use, most used first."""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from app.models import Asset, AssetTag

FACET_LIMIT = 60
# The menus are read from the latest pictures, not the whole library: grouping 100,000 pictures and their
# 300,000 tags took seconds on every load of the Assets page (SQLite 2.8 s for the tags alone); the latest
# 5,000 take tens of milliseconds and hold what people filter by. Any camera, colour or tag can still be
# typed or sent as a parameter.
FACET_SAMPLE = 5000


def facets_of(*, session: Session, workspace_id: int) -> dict[str, list[str]]:
    """Cameras, colours and tags of the owner's latest FACET_SAMPLE pictures that are not deleted, for the
    filter menus."""
    latest = (select(Asset.id, Asset.camera, Asset.colour)
              .where(Asset.workspace_id == workspace_id, col(Asset.deleted_at).is_(None))
              .order_by(col(Asset.created_at).desc()).limit(FACET_SAMPLE).subquery())

    def distinct(column) -> list[str]:
        rows = session.exec(select(column, func.count()).where(column != "").group_by(column)
                            .order_by(func.count().desc(), column).limit(FACET_LIMIT)).all()
        return [value for value, _ in rows]

    tags = session.exec(select(AssetTag.tag, func.count()).join(latest, latest.c.id == AssetTag.asset_id)
                        .group_by(AssetTag.tag).order_by(func.count().desc(), AssetTag.tag)
                        .limit(FACET_LIMIT)).all()
    return {"cameras": distinct(latest.c.camera), "colours": distinct(latest.c.colour), "tags": [t for t, _ in tags]}
