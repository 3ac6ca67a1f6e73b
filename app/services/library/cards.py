"""Pure helpers the library's states share: a picture as a card, the collections tree as rows, ranges."""

from __future__ import annotations

from app import routes
from app.services.library.search import COUNT_CAP, total_capped


def card_of(asset) -> dict[str, str]:
    """One picture, strings only, ready to render in a grid or a picker."""
    return {"id": str(asset.id), "filename": asset.filename, "status": asset.status,
            "thumb": routes.asset_thumbnail_url(str(asset.id), asset.status),
            "href": routes.asset_url(str(asset.id)), "dims": f"{asset.width}×{asset.height}",
            "orientation": "portrait" if asset.height > asset.width else
            "square" if asset.height == asset.width else "landscape",
            "origin": getattr(asset, "origin", "upload") or "upload", "camera": getattr(asset, "camera", "") or ""}


def count_label(total: int) -> str:
    """A search's total as the page says it: "352", or "1,000+" once the count stopped at its cap."""
    return f"{COUNT_CAP:,}+" if total_capped(total) else f"{total:,}"


def _get(node, name: str, default=None):
    return node.get(name, default) if isinstance(node, dict) else getattr(node, name, default)


def flatten_collections(tree) -> list[dict[str, str]]:
    """The collections tree (parents with their children) as rows for the sidebar, children under parents."""
    rows: list[dict[str, str]] = []

    def add(node, depth: int, parent: str) -> None:
        ident = str(_get(node, "id", ""))
        rows.append({"id": ident, "name": str(_get(node, "name", "")), "count": str(_get(node, "count", 0) or 0),
                     "depth": str(depth), "parent": parent})
        for child in _get(node, "children", None) or []:
            add(child, depth + 1, ident)

    for node in tree or []:
        add(node, 0, "")
    return rows


def select_range(order: list[str], anchor: str, target: str) -> list[str]:
    """The ids from `anchor` to `target` inclusive, in grid order (either direction); just the target when
    the anchor is no longer on screen."""
    if anchor not in order or target not in order:
        return [target]
    a, b = sorted((order.index(anchor), order.index(target)))
    return order[a:b + 1]
