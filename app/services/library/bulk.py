"""Bulk actions on many of the owner's pictures at once, Undo for deletes, and a ZIP of originals.

Every action checks all ids first and is refused as a whole (NotFound, naming none) if any is missing,
someone else's or deleted: a half-done bulk action is worse than none.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select
from zipstream import ZIP_STORED, ZipStream

from app.db import session_scope
from app.errors import NotFound, ValidationFailed
from app.models import Asset, AssetTag, utcnow
from app.services.assets import service as assets
from app.services.library import collections, index
from app.services.library.tags import MAX_TAGS, normalise_tags
from app.services.templates.image_links import revoke_for_assets
from app.settings import get_settings
from app.storage import get_storage

ACTIONS = ("tag", "untag", "collect", "uncollect", "delete", "restore")
MAX_IDS = collections.MAX_IDS
CHUNK = 900  # ids per IN (...) list: well under SQLite's limit on bound parameters

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BulkResult:
    changed: int  # pictures the action changed (the rest already were as asked)
    undo_until: datetime | None = None  # after a delete: restore works until then


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite hands back naive UTC


def undo_window() -> timedelta:
    return timedelta(seconds=get_settings().library_undo_seconds)


def _check_ids(asset_ids: list[int]) -> list[int]:
    if not isinstance(asset_ids, list | tuple) or not asset_ids:
        raise ValidationFailed("Choose at least one picture.", code="no_assets")
    ids = list(dict.fromkeys(asset_ids))
    if len(ids) > MAX_IDS:
        raise ValidationFailed(f"At most {MAX_IDS} pictures at once.", code="too_many_ids")
    return ids


def _deleted_in_window(session: Session, workspace_id: int, ids: list[int]) -> list[Asset]:
    """For restore: the owner's pictures deleted less than the Undo window ago; any other id → NotFound."""
    cutoff = utcnow() - undo_window()
    found: list[Asset] = []
    for i in range(0, len(ids), CHUNK):
        found += session.exec(select(Asset).where(col(Asset.id).in_(ids[i:i + CHUNK]),
                                                  Asset.workspace_id == workspace_id)).all()
    if len(found) != len(ids) or any(a.deleted_at is not None and _aware(a.deleted_at) < cutoff for a in found):
        raise NotFound("Some of those pictures do not exist, are not yours or can no longer be restored.",
                       code="unknown_assets")
    return found


def _tags_by_asset(session: Session, ids: list[int]) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {i: set() for i in ids}
    for i in range(0, len(ids), CHUNK):
        for asset_id, tag in session.exec(select(AssetTag.asset_id, AssetTag.tag)
                                          .where(col(AssetTag.asset_id).in_(ids[i:i + CHUNK]))):
            out[asset_id].add(tag)
    return out


def _tag(session: Session, found: list[Asset], value, *, add: bool) -> int:
    if not isinstance(value, str | list | tuple):
        raise ValidationFailed("Give the tag, or a list of tags, as the value.", code="no_tags")
    wanted = normalise_tags([value] if isinstance(value, str) else value)
    if not wanted:
        raise ValidationFailed("Name at least one tag.", code="no_tags")
    current = _tags_by_asset(session, [a.id for a in found])
    touched: list[Asset] = []
    for asset in found:
        if add:
            new = [t for t in wanted if t not in current[asset.id]]
            if new and len(current[asset.id]) + len(new) > MAX_TAGS:
                raise ValidationFailed(f"A picture has at most {MAX_TAGS} tags; “{asset.filename}” would have "
                                       f"{len(current[asset.id]) + len(new)}.", code="too_many_tags")
            session.add_all([AssetTag(asset_id=asset.id, tag=t) for t in new])
        else:
            new = [t for t in wanted if t in current[asset.id]]
            for t in new:
                session.delete(session.get(AssetTag, (asset.id, t)))
        if new:
            touched.append(asset)
    session.flush()
    index.refresh_many(session, touched)
    return len(touched)


def _collection_id(value) -> int:
    from app.ids import MAX_ID

    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise ValidationFailed("Give the collection's id as the value.", code="invalid_collection")
    return value


def bulk(*, workspace_id: int, action: str, asset_ids: list[int], value: str | list[str] | int | None = None
         ) -> BulkResult:
    """Apply one action to up to 10,000 of the owner's pictures in one transaction.

    tag / untag: `value` a tag or a list of tags. collect / uncollect: `value` a collection's id.
    delete: hidden at once, restorable until `undo_until` (LIBRARY_UNDO_SECONDS), then removed for good by
    the periodic reaper (purge_expired). restore: brings back pictures deleted within the window.
    """
    if action not in ACTIONS:
        raise ValidationFailed(f"Action must be one of: {', '.join(ACTIONS)}.", code="invalid_action")
    ids = _check_ids(asset_ids)
    with session_scope() as session:
        if action == "restore":
            found = [a for a in _deleted_in_window(session, workspace_id, ids) if a.deleted_at is not None]
            for asset in found:
                asset.deleted_at = None
            session.add_all(found)
            return BulkResult(changed=len(found))
        if action in ("collect", "uncollect"):
            collection_id = _collection_id(value)
            collections.get_collection(session=session, workspace_id=workspace_id, collection_id=collection_id)
        found = collections.owned_assets(session, workspace_id, ids)
        if action in ("tag", "untag"):
            return BulkResult(changed=_tag(session, found, value, add=action == "tag"))
        if action == "collect":
            return BulkResult(changed=collections.add_to(session, collection_id, [a.id for a in found]))
        if action == "uncollect":
            return BulkResult(changed=collections.remove_from(session, collection_id, [a.id for a in found]))
        now = utcnow()
        for asset in found:
            asset.deleted_at = now
        session.add_all(found)
        # Deleting ends the pictures' public links in emails at once; Undo does not bring them back.
        revoke_for_assets(session=session, asset_ids=[a.id for a in found])
        return BulkResult(changed=len(found), undo_until=now + undo_window())


def purge_expired(*, limit: int = 500) -> list[int]:
    """For the periodic reaper: pictures deleted longer ago than the Undo window go for good, rows and files
    (through assets.delete_asset). Returns their ids; one that fails is left for the next pass."""
    cutoff = utcnow() - undo_window()
    with session_scope() as session:
        rows = session.exec(select(Asset.id, Asset.workspace_id).where(col(Asset.deleted_at).is_not(None),
                                                                   col(Asset.deleted_at) <= cutoff)
                            .order_by(col(Asset.deleted_at)).limit(limit)).all()
    purged = []
    for asset_id, workspace_id in rows:
        try:
            assets.delete_asset(workspace_id=workspace_id, asset_id=asset_id, include_deleted=True)
        except NotFound:
            continue  # removed meanwhile
        except Exception:  # storage or database passing trouble: the next pass tries again
            log.warning("could not purge asset %s", asset_id, exc_info=True)
            continue
        purged.append(asset_id)
    return purged


def zip_of(*, workspace_id: int, asset_ids: list[int]) -> tuple[Iterator[bytes], str]:
    """The originals of the owner's pictures as one streamed ZIP (stored, not deflated: images are already
    compressed), each under a name unique in the archive; (chunks, file name)."""
    ids = _check_ids(asset_ids)
    with session_scope() as session:
        by_id = {a.id: (a.storage_key, a.filename) for a in collections.owned_assets(session, workspace_id, ids)}
    storage = get_storage()
    archive = ZipStream(compress_type=ZIP_STORED, sized=False)
    seen: set[str] = set()
    for asset_id in ids:
        key, filename = by_id[asset_id]
        unique, n = filename, 1
        while unique.lower() in seen:  # two pictures with one name must not overwrite each other
            n += 1
            stem, dot, ext = filename.rpartition(".")
            unique = f"{stem}-{n}.{ext}" if dot else f"{filename}-{n}"
        seen.add(unique.lower())
        archive.add(storage.iter_chunks(key), arcname=unique)
    return iter(archive), f"atelier-{len(ids)}-pictures.zip"
