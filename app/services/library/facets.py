"""What an owner's library holds to filter by: the cameras, colours and tags in use, most used first."""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from app.models import Asset, AssetTag

FACET_LIMIT = 60


def facets_of(*, session: Session, workspace_id: int) -> dict[str, list[str]]:
    """Cameras, colours and tags of the owner's pictures that are not deleted, for the filter menus."""
    live = (Asset.workspace_id == workspace_id, col(Asset.deleted_at).is_(None))

    def distinct(column) -> list[str]:
        rows = session.exec(select(column, func.count()).where(*live, column != "").group_by(column)
                            .order_by(func.count().desc(), column).limit(FACET_LIMIT)).all()
        return [value for value, _ in rows]

    tags = session.exec(select(AssetTag.tag, func.count()).join(Asset, col(Asset.id) == AssetTag.asset_id)
                        .where(*live).group_by(AssetTag.tag).order_by(func.count().desc(), AssetTag.tag)
                        .limit(FACET_LIMIT)).all()
    return {"cameras": distinct(Asset.camera), "colours": distinct(Asset.colour), "tags": [t for t, _ in tags]}
