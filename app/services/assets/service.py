"""The asset library: store originals as uploaded, de-duplicate by SHA-256, thumbnails by workers."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import IO

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, or_, select

from app.db import session_scope
from app.errors import AppError, NotFound, ServiceUnavailable, ValidationFailed
from app.jsonable import jsonable
from app.models import Asset, AssetStatus, AssetTag, CollectionAsset, GenerationImage, RenameItem, utcnow
from app.services import jobs, scan
from app.services.assets import archives
from app.services.assets.images import (
    clean_filename,
    display_name,
    inspect_image,
    make_thumbnail,
    open_checked,
    thumbnail_of,
)
from app.services.billing import plans
from app.services.library import index
from app.services.library.facts import ORIGINS, apply_facts
from app.services.library.search import SearchQuery, search
from app.services.templates.image_links import revoke_for_assets
from app.services.templates.public_images import rendition_key
from app.settings import get_settings
from app.storage import get_storage

STATUSES = (AssetStatus.PROCESSING, AssetStatus.READY, AssetStatus.FAILED)
# How an asset's error starts when its thumbnail job could not be queued: requeue_unqueued finds it.
QUEUE_UNAVAILABLE = "Thumbnail not queued yet (the job queue was unreachable)"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileError:
    filename: str
    code: str
    message: str


@dataclass
class IngestResult:
    assets: list[Asset]
    errors: list[FileError]
    duplicates: int = 0
    job_ids: list[str] | None = None
    # Ids of the assets this upload added (the others were already in the library).
    created: list[int] = field(default_factory=list)


def public(asset: Asset) -> dict:
    return {"id": asset.id, "filename": asset.filename, "mime": asset.mime, "size_bytes": asset.size_bytes,
            "width": asset.width, "height": asset.height, "sha256": asset.sha256, "status": asset.status,
            "error": asset.error, "meta": dict(asset.meta or {}),
            "created_at": asset.created_at.isoformat(), "has_thumbnail": bool(asset.thumb_key)}


def store_one(*, workspace_id: int, filename: str, data: bytes, meta: dict | None = None, origin: str = "upload",
              source_asset_id: int | None = None) -> tuple[Asset, bool]:
    """Check and store one upload; returns (asset, created). Raises AppError for a bad file.

    `meta` (how a job made it), `origin` (upload | generated | workflow | slide) and `source_asset_id` (the
    picture it was made from) land with a new row in the same transaction; same bytes already stored keep
    their row, its meta and origin untouched (brought back if it was deleted and awaiting Undo).
    """
    if origin not in ORIGINS:
        raise ValueError(f"unknown origin {origin!r}")
    info = inspect_image(data)
    digest = hashlib.sha256(data).hexdigest()
    with session_scope() as session:
        existing = _by_digest(session, workspace_id, digest)
        if existing is not None:
            _undelete(session, existing)
            return existing, False
        if origin == "upload":  # what people upload counts against the plan; our own jobs' results do not
            plans.check_storage_limit(session=session, workspace_id=workspace_id, adding_bytes=len(data))
    key = _original_key(workspace_id, digest, info.ext)
    get_storage().put(key, data, content_type=info.mime)
    try:
        with session_scope() as session:
            asset = Asset(workspace_id=workspace_id, sha256=digest, filename=clean_filename(filename, info.ext),
                          mime=info.mime, size_bytes=len(data), width=info.width, height=info.height,
                          storage_key=key, meta=jsonable(meta or {}), origin=origin,
                          source_asset_id=source_asset_id)
            session.add(asset)
            session.flush()
            index.refresh(session, asset)
            session.flush()
            session.refresh(asset)
            return asset, True
    except IntegrityError:  # the same bytes arrived twice at once: keep the first
        with session_scope() as session:
            return _by_digest(session, workspace_id, digest), False


def _undelete(session: Session, asset: Asset) -> None:
    """The same bytes stored again while the asset waits in the Undo window: it is back in the library."""
    if asset.deleted_at is not None:
        asset.deleted_at = None
        session.add(asset)


def _by_digest(session: Session, workspace_id: int, digest: str) -> Asset | None:
    """The owner's asset with these bytes (one per owner and SHA-256), or None."""
    return session.exec(select(Asset).where(Asset.workspace_id == workspace_id, Asset.sha256 == digest)).first()


def _original_key(workspace_id: int, digest: str, ext: str) -> str:
    return f"assets/{workspace_id}/{digest[:2]}/{digest}.{ext}"


def _thumb_key(workspace_id: int, original_key: str) -> str:
    return f"thumbs/{workspace_id}/{original_key.rsplit('/', 1)[-1].rsplit('.', 1)[0]}.webp"


def store_made(*, workspace_id: int, filename: str, data: bytes, meta: dict,
               with_asset: Callable[[Session, Asset], None] | None = None, origin: str = "generated") -> Asset:
    """Store an image one of our jobs made, ready at once: the checks, the thumbnail and the colours
    come from one decode, and the asset lands in one transaction with `meta` (how it was made) and
    whatever `with_asset(session, asset)` adds beside it (a gallery row).

    Uploads go through store_one and batched thumbnail jobs instead: there the file is untrusted
    and many arrive at once; here one image is on the critical path of a user waiting for it.
    Same bytes twice (a seed reused) keep one asset, as store_one does, and are not decoded again.
    """
    if origin not in ORIGINS:
        raise ValueError(f"unknown origin {origin!r}")
    digest = hashlib.sha256(data).hexdigest()
    with session_scope() as session:
        existing = _by_digest(session, workspace_id, digest)
        if existing is not None:
            _undelete(session, existing)
            merge_meta(session=session, asset_id=existing.id, extra=meta)
            if with_asset is not None:
                with_asset(session, existing)
    if existing is not None:
        if existing.status != AssetStatus.READY:
            process(asset_id=existing.id, key=existing.storage_key, workspace_id=workspace_id)
        return existing
    image, info = open_checked(data)
    thumb, thumb_meta = thumbnail_of(image, get_settings().thumbnail_size)
    key = _original_key(workspace_id, digest, info.ext)
    thumb_key = _thumb_key(workspace_id, key)
    storage = get_storage()
    storage.put(key, data, content_type=info.mime)
    storage.put(thumb_key, thumb, content_type="image/webp")
    try:
        with session_scope() as session:
            asset = Asset(workspace_id=workspace_id, sha256=digest, filename=clean_filename(filename, info.ext),
                          mime=info.mime, size_bytes=len(data), width=info.width, height=info.height,
                          storage_key=key, thumb_key=thumb_key, status=AssetStatus.READY, origin=origin,
                          meta=jsonable({**thumb_meta, **meta}))
            apply_facts(asset, thumb_meta)
            session.add(asset)
            session.flush()
            index.refresh(session, asset)
            if with_asset is not None:
                with_asset(session, asset)
            return asset
    except IntegrityError:
        with session_scope() as session:
            raced = _by_digest(session, workspace_id, digest)
        if raced is None:
            raise  # not the same-bytes race: a real integrity error
        # The same bytes stored at the same moment by another job: join that asset.
        return store_made(workspace_id=workspace_id, filename=filename, data=data, meta=meta, with_asset=with_asset,
                          origin=origin)


def ingest_one(*, workspace_id: int, filename: str, data: bytes | IO[bytes]) -> IngestResult:
    """Store one uploaded file, or each image of an uploaded ZIP (read entry by entry from `data`,
    which may be a file on disk). Queues nothing: uploads go through app/services/assets/ingest.py,
    which batches the thumbnail jobs of many files."""
    result = IngestResult(assets=[], errors=[])
    for name, body in _expand_archives([(filename, data)], result.errors):
        try:
            # Each file and each ZIP member is scanned before it is stored (scanner down, fail-closed: stop).
            meta = scan.upload_meta(body, name=display_name(name), where=f"workspace:{workspace_id}")
            asset, is_new = store_one(workspace_id=workspace_id, filename=name, data=body, meta=meta)
        except ServiceUnavailable:
            raise
        except AppError as exc:
            result.errors.append(FileError(filename=display_name(name),
                                           code=exc.code, message=exc.message))
            continue
        result.assets.append(asset)
        if is_new:
            result.created.append(asset.id)
        else:
            result.duplicates += 1
    return result


def what_was_stored(result: IngestResult) -> dict:
    """The stored assets as they are now (the ones not queued were parked as failed) and the file errors."""
    ids = [a.id for a in result.assets]
    with session_scope() as session:
        rows = {a.id: a for a in session.exec(select(Asset).where(col(Asset.id).in_(ids))).all()} if ids else {}
        stored = [public(rows[i]) for i in ids if i in rows]
    return {"stored": ids, "assets": stored, "errors": [e.__dict__ for e in result.errors]}


def _expand_archives(files: Iterable[tuple[str, bytes | IO[bytes]]], errors: list[FileError]):
    """ZIP uploads stand for the images inside them; their refused entries become file errors."""
    for filename, data in files:
        if not archives.is_zip(archives.head_of(data)):
            yield filename, data if isinstance(data, bytes) else data.read()
            continue
        problems: list[archives.EntryError] = []
        yield from archives.iter_entries(data, archive_name=clean_filename(filename, "zip"), errors=problems)
        errors.extend(FileError(filename=p.name, code=p.code, message=p.message) for p in problems)


def submit_processing(*, workspace_id: int, asset_ids: list[int]) -> list[str]:
    """Thumbnails and metadata in batches: one job per batch, since each RQ job costs a fork.

    If the queue is unreachable, the assets not yet queued are marked failed with
    QUEUE_UNAVAILABLE (requeue_unqueued picks them up later) and ServiceUnavailable is raised:
    they are stored, and nothing is left `processing` with no job to finish it.
    """
    size = get_settings().ingest_batch_size
    job_ids: list[str] = []
    for i in range(0, len(asset_ids), size):
        try:
            job_ids.append(jobs.submit(kind="assets.process", workspace_id=workspace_id,
                                       params={"asset_ids": asset_ids[i:i + size]}).id)
        except Exception as exc:  # Redis down, refused, timed out: all mean "not queued"
            log.warning("could not queue thumbnails for %d assets", len(asset_ids) - i, exc_info=True)
            _park(asset_ids[i:], reason=f"{QUEUE_UNAVAILABLE}: {exc}")
            raise ServiceUnavailable("The files were stored, but the job queue is unavailable: their "
                                     "thumbnails will be made once it is back.") from exc
    return job_ids


def _park(asset_ids: list[int], *, reason: str) -> None:
    with session_scope() as session:
        for asset in session.exec(select(Asset).where(col(Asset.id).in_(asset_ids), Asset.status != AssetStatus.READY)):
            asset.status, asset.error = AssetStatus.FAILED, reason[:500]
            session.add(asset)


def requeue_unqueued(*, stale_after: timedelta = timedelta(hours=1), limit: int = 2000) -> list[str]:
    """Queue thumbnails again for assets no job will finish; returns the new job ids. For the
    periodic reaper: it finds assets parked with QUEUE_UNAVAILABLE, and `processing` ones older
    than `stale_after` (a process that died between commit and enqueue). A re-run is harmless:
    the job skips assets already ready. If the queue is still down they stay parked.
    """
    cutoff = utcnow() - stale_after
    with session_scope() as session:
        rows = session.exec(select(Asset.id, Asset.workspace_id).where(or_(
            (Asset.status == AssetStatus.FAILED) & col(Asset.error).startswith(QUEUE_UNAVAILABLE),
            (Asset.status == AssetStatus.PROCESSING) & (col(Asset.created_at) <= cutoff),
        )).order_by(col(Asset.id)).limit(limit)).all()
        by_owner: dict[int, list[int]] = {}
        for asset_id, workspace_id in rows:
            by_owner.setdefault(workspace_id, []).append(asset_id)
        ids = [r[0] for r in rows]
        if ids:
            for asset in session.exec(select(Asset).where(col(Asset.id).in_(ids))):
                asset.status, asset.error = AssetStatus.PROCESSING, ""
                session.add(asset)
    job_ids: list[str] = []
    pending = list(by_owner.items())
    for n, (workspace_id, asset_ids) in enumerate(pending):
        try:
            job_ids += submit_processing(workspace_id=workspace_id, asset_ids=asset_ids)
        except ServiceUnavailable:
            # Parked again (this owner's by submit_processing, the rest here): the next round retries.
            _park([i for _, later in pending[n + 1:] for i in later], reason=QUEUE_UNAVAILABLE)
            break
    return job_ids


def pending_work(*, asset_ids: list[int]) -> list[tuple[int, str, int]]:
    """(id, storage key, owner) of the assets still waiting for a thumbnail, in one query."""
    with session_scope() as session:
        rows = session.exec(select(Asset.id, Asset.storage_key, Asset.workspace_id)
                            .where(col(Asset.id).in_(asset_ids), Asset.status != AssetStatus.READY)).all()
    order = {asset_id: i for i, asset_id in enumerate(asset_ids)}
    return sorted(((r[0], r[1], r[2]) for r in rows), key=lambda r: order[r[0]])


def process(*, asset_id: int, key: str, workspace_id: int) -> str:
    """Make the thumbnail and metadata of one asset, then record them in one transaction.

    Idempotent: running it again rewrites the same thumbnail key and the same fields.
    """
    storage = get_storage()
    try:
        thumb, meta = make_thumbnail(storage.get(key), get_settings().thumbnail_size)
    except (OSError, ValueError, SyntaxError, AppError) as exc:  # AppError: over a pixel limit
        if not isinstance(exc, AppError) and jobs.is_transient(exc):  # the storage, not the file: retried
            raise
        reason = exc.message if isinstance(exc, AppError) else str(exc)
        with session_scope() as session:
            asset = session.get(Asset, asset_id)
            if asset is not None:
                asset.status, asset.error = AssetStatus.FAILED, f"Could not make a thumbnail: {reason}"[:500]
                session.add(asset)
        return AssetStatus.FAILED
    thumb_key = _thumb_key(workspace_id, key)
    try:
        storage.put(thumb_key, thumb, content_type="image/webp")
    except OSError as exc:
        if not exc.filename:  # not a local file's error (an S3 timeout): as it is, still classified by type
            raise
        # The same errno (so still transient or not), without the server's paths in what the user reads.
        raise OSError(exc.errno, f"storage refused the thumbnail ({exc.strerror or type(exc).__name__})") from exc
    with session_scope() as session:
        asset = session.get(Asset, asset_id)
        if asset is None:  # deleted meanwhile: drop the orphan thumbnail
            storage.delete(thumb_key)
            return "deleted"
        # Merged: other writers (a generation's parameters) may have added keys already.
        apply_facts(asset, meta)
        meta = jsonable({**(asset.meta or {}), **meta})  # a new dict: an in-place change would not be saved
        asset.thumb_key, asset.meta, asset.status, asset.error = thumb_key, meta, AssetStatus.READY, ""
        session.add(asset)
        index.refresh(session, asset)  # the camera is part of what search reads
    return AssetStatus.READY


def fail_unfinished(*, asset_ids: list[int], reason: str) -> int:
    """After a thumbnail job ended for good without them: its assets still "processing" are failed, saying why."""
    with session_scope() as session:
        rows = session.exec(select(Asset).where(col(Asset.id).in_(asset_ids),
                                                Asset.status == AssetStatus.PROCESSING)).all()
        for asset in rows:
            asset.status, asset.error = AssetStatus.FAILED, reason[:500]
            session.add(asset)
        return len(rows)


def get_asset(*, session: Session, workspace_id: int, asset_id: int, include_deleted: bool = False) -> Asset:
    """The owner's asset. Someone else's, and one deleted and waiting in the Undo window (unless
    `include_deleted`), answer exactly like a missing one."""
    asset = session.get(Asset, asset_id)
    if asset is None or asset.workspace_id != workspace_id or (asset.deleted_at is not None and not include_deleted):
        # Said so a person in another tab understands (deleted meanwhile), and the same for anyone's picture.
        raise NotFound("That picture is not in this workspace: it may have been deleted.")
    return asset


def get_assets(*, session: Session, workspace_id: int, asset_ids: Iterable[int]) -> list[Asset]:
    """The owner's assets among `asset_ids` (someone else's and deleted ones left out), in no order."""
    ids = list(asset_ids)
    if not ids:
        return []
    return list(session.exec(select(Asset).where(col(Asset.id).in_(ids), Asset.workspace_id == workspace_id,
                                                 col(Asset.deleted_at).is_(None))))


def processing_count(*, session: Session, workspace_id: int) -> int:
    """How many of the owner's pictures still wait for their thumbnail (one count, not a search)."""
    return session.exec(select(func.count()).select_from(Asset).where(
        Asset.workspace_id == workspace_id, Asset.status == "processing", col(Asset.deleted_at).is_(None))).one()


def list_assets(*, session: Session, workspace_id: int, query: str = "", status: str = "", limit: int = 60,
                offset: int = 0) -> tuple[list[Asset], int]:
    """The owner's library, newest first, through the library search (free text and a status)."""
    if status and status not in STATUSES:
        raise ValidationFailed(f"Status must be one of: {', '.join(STATUSES)}.", code="invalid_status")
    search_query = SearchQuery(q=(query or "")[:2000], status=status)
    return search(session=session, workspace_id=workspace_id, query=search_query, limit=limit, offset=offset)


def delete_asset(*, workspace_id: int, asset_id: int, include_deleted: bool = False) -> None:
    """Delete the row and its files for good. Other owners' copies of the same bytes have their own keys.
    `include_deleted`: also one soft-deleted by the library (the reaper, once its Undo window is over)."""
    with session_scope() as session:
        asset = get_asset(session=session, workspace_id=workspace_id, asset_id=asset_id,
                          include_deleted=include_deleted)
        keys = [k for k in (asset.storage_key, asset.thumb_key) if k]
        keys.append(rendition_key(workspace_id=asset.workspace_id, storage_key=asset.storage_key))
        # What points at the file goes with it: gallery entries, rows in rename batches, tags, collections.
        for table in (GenerationImage, RenameItem, AssetTag, CollectionAsset):
            session.execute(delete(table).where(col(table.asset_id) == asset_id))
        # Its public links in emails end (the rows stay: who published what, when).
        revoke_for_assets(session=session, asset_ids=[asset_id])
        session.delete(asset)
    storage = get_storage()
    for key in keys:
        storage.delete(key)


def add_meta(*, asset_id: int, extra: dict) -> None:
    """Merge `extra` into the asset's JSON metadata (e.g. how a generated image was made)."""
    with session_scope() as session:
        merge_meta(session=session, asset_id=asset_id, extra=extra)


def merge_meta(*, session: Session, asset_id: int, extra: dict) -> None:
    asset = session.get(Asset, asset_id)
    if asset is None:
        return
    asset.meta = jsonable({**(asset.meta or {}), **extra})  # a new dict: an in-place change would not be saved
    session.add(asset)
