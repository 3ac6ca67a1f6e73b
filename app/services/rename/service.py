"""The bulk renamer: batches of assets → vision fields → names composed by code → review → export."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlmodel import Session, col, delete, func, select

from app.db import session_scope
from app.errors import Forbidden, NotFound, ValidationFailed
from app.jsonable import jsonable
from app.models import (
    Asset,
    Job,
    RenameBatch,
    RenameBatchStatus,
    RenameItem,
    RenameItemStatus,
    User,
    VisionCache,
    utcnow,
)
from app.services import jobs
from app.services.billing import plans
from app.services.library import index, renamed
from app.services.rename import naming
from app.services.rename.vision.base import VisionRequest, VisionResult, clip_alt_text
from app.settings import get_settings
from app.storage import get_storage

MAX_BATCH = 2000
MAX_OCR_CHARS = 5000


class RenameOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    keywords: list[str] = Field(default_factory=list, max_length=20)
    case: Literal["kebab", "snake", "camel", "title"] = "kebab"
    max_length: int = Field(default=60, ge=10, le=120)
    template: str = Field(default="{keywords}-{subject}-{detail}", max_length=200)
    language: str = Field(default="en", pattern=r"^[a-z]{2}$")
    alt_text: bool = True
    keep_exif: bool = True  # False strips EXIF/GPS from the exported files (orientation is kept)
    write_metadata: bool = False  # write title, alt text and keywords into XMP/IPTC/EXIF
    provider: str = Field(default="local", max_length=200)  # a provider name or "conn:<id>:<model>"
    ocr: bool = True

    @field_validator("keywords")
    @classmethod
    def _clean_keywords(cls, value: list[str]) -> list[str]:
        cleaned = []
        for word in value:
            word = " ".join(str(word).split())[:40]
            if word and word.lower() not in (w.lower() for w in cleaned):
                cleaned.append(word)
        return cleaned

    @field_validator("template")
    @classmethod
    def _check_template(cls, value: str) -> str:
        naming.validate_template(value)
        return value


class RenameFields(BaseModel):
    """What the analysis found in one image (a rename item's `fields`): the words names are composed from."""

    subject: str = ""
    detail: str = ""
    color: str = ""
    date: str = ""
    camera: str = ""
    place: str = ""


def options_of(batch: RenameBatch) -> RenameOptions:
    return RenameOptions.model_validate(batch.options)


def fields_of(item: RenameItem) -> RenameFields:
    return RenameFields.model_validate(item.fields or {})


def _month_start() -> datetime:
    now = datetime.now(UTC)
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


# A batch holds its images' quota from creation until it ends badly: refused at submit (no
# credits, queue down), or its job failed or was canceled. Then, like its credits, the quota goes
# back. Read from the job row too, because a job the reaper fails leaves its batch "analyzing".
QUOTA_RELEASED = (RenameBatchStatus.FAILED, RenameBatchStatus.CANCELED)


def images_this_month(*, session: Session, workspace_id: int) -> int:
    held = (select(func.coalesce(func.sum(RenameBatch.image_count), 0)).select_from(RenameBatch)
            .outerjoin(Job, col(Job.id) == col(RenameBatch.job_id))
            .where(RenameBatch.workspace_id == workspace_id, RenameBatch.created_at >= _month_start(),
                   col(RenameBatch.status).not_in(QUOTA_RELEASED),
                   (col(Job.status).is_(None)) | col(Job.status).not_in(QUOTA_RELEASED)))
    return int(session.exec(held).one())


def create_batch(*, workspace_id: int, asset_ids: list[int], options: RenameOptions,
                 user_id: int | None = None) -> RenameBatch:
    """Check quota and credits up front (never half-run), create the items, start the analysis job."""
    from app.services.ai import resolve
    from app.services.rename.vision.registry import get_provider

    asset_ids = list(dict.fromkeys(asset_ids))
    if not asset_ids:
        raise ValidationFailed("Choose at least one image.", code="no_images")
    if len(asset_ids) > MAX_BATCH:
        raise ValidationFailed(f"A batch holds at most {MAX_BATCH} images.", code="batch_too_large")
    get_provider(options.provider)  # raises for an unknown or unconfigured provider
    cost = resolve.price_of("vision", options.provider, len(asset_ids))
    with session_scope() as session:
        quota = plans.rename_quota(session=session, workspace_id=workspace_id)
        owned = session.exec(select(Asset).where(col(Asset.id).in_(asset_ids), Asset.workspace_id == workspace_id,
                                                 col(Asset.deleted_at).is_(None))).all()
        if len(owned) != len(asset_ids):
            raise NotFound("Some of those images do not exist or are not yours.", code="unknown_assets")
        # Lock the owner's row so two batches sent at once are checked one after the other
        # (PostgreSQL; SQLite already serialises writers with BEGIN IMMEDIATE).
        session.exec(select(User.id).where(User.id == workspace_id).with_for_update()).first()
        used = images_this_month(session=session, workspace_id=workspace_id)
        if used + len(asset_ids) > quota:
            raise Forbidden(f"This batch has {len(asset_ids)} images but only {max(0, quota - used)} of your "
                            f"{quota} renames this month remain.", code="quota_exceeded")
        by_id = {a.id: a for a in owned}
        batch = RenameBatch(workspace_id=workspace_id, options=options.model_dump(mode="json"),
                            image_count=len(asset_ids))
        session.add(batch)
        session.flush()
        for position, asset_id in enumerate(asset_ids):
            session.add(RenameItem(batch_id=batch.id, asset_id=asset_id, position=position,
                                   original_name=by_id[asset_id].filename, final_name=by_id[asset_id].filename))
        # Refused credits roll the batch back with the job; a failed enqueue fails both (settle_job).
        jobs.start_tracked(session, kind="rename.analyze", domain_row=batch, params={"batch_id": batch.id},
                           cost=cost, user_id=user_id)
    return batch


def settle_job(session: Session, job: Job, *, reason: str = "") -> None:
    """The batch as its analysis job stands (app.services.jobs calls it with every status change of the job,
    in that transaction). A batch that has moved on to another job is left alone (jobs.claims). `reason`: the
    reaper ended the job (its worker was lost): rows not described fail with it; the batch is usable when
    some were."""
    batch = session.get(RenameBatch, dict(job.params or {}).get("batch_id"))
    if not jobs.claims(session, batch, job):
        return
    if job.status == "running":
        batch.status = "analyzing"
    elif job.status == "succeeded":
        batch.status = "ready"
    elif batch.status == "analyzing" and reason:
        items = items_of(session=session, batch_id=batch.id)
        for item in items:
            if item.status == "pending":
                item.status, item.error = "failed", reason
                session.add(item)
        described = any(i.status == "done" for i in items)
        batch.status = "ready" if described and job.status != "canceled" else job.status
    elif batch.status == "analyzing":  # failed or canceled: it says so instead of "analyzing" for ever
        batch.status = job.status
    session.add(batch)


def get_batch(*, session: Session, workspace_id: int, batch_id: int) -> RenameBatch:
    batch = session.get(RenameBatch, batch_id)
    if batch is None or batch.workspace_id != workspace_id:
        raise NotFound("No such rename batch.")
    return batch


def list_batches(*, session: Session, workspace_id: int, limit: int = 20) -> list[RenameBatch]:
    return list(session.exec(select(RenameBatch).where(RenameBatch.workspace_id == workspace_id)
                             .order_by(col(RenameBatch.id).desc()).limit(limit)))


def items_of(*, session: Session, batch_id: int, item_ids: Iterable[int] | None = None) -> list[RenameItem]:
    """The batch's rows in order; `item_ids`: only those (a page following the analysis re-reads the open ones)."""
    query = select(RenameItem).where(RenameItem.batch_id == batch_id)
    if item_ids is not None:
        query = query.where(col(RenameItem.id).in_(list(item_ids)))
    return list(session.exec(query.order_by(col(RenameItem.position))))


def cache_cutoff() -> datetime:
    """Descriptions made before this are not reused (VISION_CACHE_DAYS; 0 keeps them)."""
    days = get_settings().vision_cache_days
    return utcnow() - timedelta(days=days) if days else datetime.min.replace(tzinfo=UTC)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite may hand back naive UTC


def purge_vision_cache(*, session: Session) -> int:
    """Delete the descriptions past VISION_CACHE_DAYS; how many went."""
    if not get_settings().vision_cache_days:
        return 0
    result = session.execute(delete(VisionCache).where(col(VisionCache.created_at) < cache_cutoff()))
    return result.rowcount or 0


def cache_key(*, sha256: str, provider: str, model: str, options: RenameOptions, version: str = "") -> str:
    relevant = {"language": options.language, "ocr": options.ocr, "alt_text": options.alt_text,
                "keywords": options.keywords}
    raw = f"{sha256}|{provider}|{model}|{json.dumps(relevant, sort_keys=True)}"
    # A rules engine that changes (the local analyzer) names a new version, so its old answers are not reused.
    raw += f"|{version}" if version else ""
    return hashlib.sha256(raw.encode()).hexdigest()


def analyze_item(*, item_id: int, provider, options: RenameOptions) -> str:
    """Describe one image (from the cache when the same bytes were seen) and store its fields."""
    from app.providers.errors import ProviderError

    with session_scope() as session:
        item = session.get(RenameItem, item_id)
        asset = session.get(Asset, item.asset_id) if item else None
        if item is None or asset is None:
            return "missing"
        key = cache_key(sha256=asset.sha256, provider=provider.name, model=provider.model, options=options,
                        version=getattr(provider, "version", ""))
        cached = session.get(VisionCache, key)
        if cached is not None and _aware(cached.created_at) < cache_cutoff():
            session.delete(cached)  # past its time: asked again (and stored afresh) below
            cached = None
        storage_key, mime, filename = asset.storage_key, asset.mime, item.original_name
        cached_result = dict(cached.result) if cached else None
    try:
        if cached_result is None:
            result = provider.describe(VisionRequest(
                image=get_storage().get(storage_key), mime=mime, filename=filename,
                keywords=tuple(options.keywords), language=options.language,
                want_alt_text=options.alt_text, ocr=options.ocr))
            cached_result = asdict(result)
            with session_scope() as session:
                if session.get(VisionCache, key) is None:
                    session.add(VisionCache(key=key, provider=provider.name, result=jsonable(cached_result)))
    except ProviderError as exc:
        # The provider's client already retried. A busy or flaky provider stops the job (RQ retries it
        # later and finished items are skipped); a server that is not there at all (refused, unknown
        # host, breaker open) fails each image at once with a reason, and the page offers the offline
        # analyzer; any other error is this image's own.
        if exc.code == "provider_unavailable" and not exc.unreachable:
            raise
        if exc.unreachable:
            _store_failure(item_id, f"{exc.message[:300]}. Describe it with the offline analyzer instead, or ask "
                                    "an admin to check the AI connection.")
        else:
            _store_failure(item_id, exc.message)
        return RenameItemStatus.FAILED
    _store_result(item_id, VisionResult(**cached_result), options)
    return RenameItemStatus.DONE


def _fields(result: VisionResult) -> RenameFields:
    extras = result.extras or {}
    colours = extras.get("colours") or []
    return RenameFields(subject=result.subject, detail=(result.details or [""])[0],
                        color=colours[0].get("name", "") if colours and isinstance(colours[0], dict) else "",
                        date=str(extras.get("date", "") or ""), camera=str(extras.get("camera", "") or ""),
                        place=str(extras.get("place", "") or ""))


def _store_result(item_id: int, result: VisionResult, options: RenameOptions) -> None:
    with session_scope() as session:
        item = session.get(RenameItem, item_id)
        item.fields = _fields(result).model_dump()
        item.alt_text = clip_alt_text(result.alt_text) if options.alt_text else ""
        item.title = result.title[:200]
        item.tags = naming.clean_tags(result.keywords)
        item.confidence = max(0.0, min(1.0, float(result.confidence)))
        item.status, item.error = RenameItemStatus.DONE, ""
        session.add(item)
        # Words read in the picture (the local analyzer's OCR) make it findable in the library.
        text = " ".join(str((result.extras or {}).get("text") or "").split())[:MAX_OCR_CHARS]
        asset = session.get(Asset, item.asset_id)
        if text and asset is not None and asset.ocr_text != text:
            asset.ocr_text = text
            session.add(asset)
            index.refresh(session, asset)


def _store_failure(item_id: int, message: str) -> None:
    with session_scope() as session:
        item = session.get(RenameItem, item_id)
        item.status, item.error = RenameItemStatus.FAILED, message[:500]
        session.add(item)


def compose_names(*, batch_id: int) -> None:
    """Names for every item, unique across the batch and stable when re-run."""
    with session_scope() as session:
        batch = session.get(RenameBatch, batch_id)
        options = options_of(batch)
        items = items_of(session=session, batch_id=batch_id)
        assets = {a.id: a for a in session.exec(select(Asset).where(
            col(Asset.id).in_([i.asset_id for i in items]))).all()}
        stems, exts, composed = [], [], []
        for item in items:
            fields = fields_of(item).model_dump() | {"keywords": " ".join(options.keywords)}
            if item.status == RenameItemStatus.DONE:
                stem = naming.compose_item_name(fields, original_name=item.original_name, template=options.template,
                                                case=options.case, max_length=options.max_length,
                                                index=item.position + 1)
            else:  # no analysis: keep the original name, cleaned
                stem = naming.compose_name({"subject": item.original_name.rsplit(".", 1)[0]}, template="{subject}",
                                           case=options.case, max_length=options.max_length)
            composed.append(stem)
            # An edited name is stored with its extension (its stem may hold dots: "v1.2 final").
            stems.append(item.final_name.rsplit(".", 1)[0] if item.edited else stem)
            exts.append(_extension(assets.get(item.asset_id), item))
        finals = naming.unique_names(stems, exts, case=options.case)
        proposals = naming.unique_names(composed, exts, case=options.case)
        for item, final, proposal in zip(items, finals, proposals, strict=True):
            item.proposed_name, item.final_name = proposal, final
            session.add(item)


def _extension(asset: Asset | None, item: RenameItem) -> str:
    return naming.normalise_extension(asset.mime if asset else item.original_name.rsplit(".", 1)[-1])


def edit_item(*, workspace_id: int, batch_id: int, item_id: int, final_name: str | None = None,
              alt_text: str | None = None, accepted: bool | None = None) -> RenameItem:
    """Change a row. A typed name is kept as typed but for what a file name cannot hold (naming.typed_stem):
    no stop words dropped, no transliteration, no case style; an empty or unusable one is refused (422)."""
    with session_scope() as session:
        batch = get_batch(session=session, workspace_id=workspace_id, batch_id=batch_id)
        item = session.get(RenameItem, item_id)
        if item is None or item.batch_id != batch.id:
            raise NotFound("No such item in this batch.")
        if final_name is not None and final_name.strip() != item.final_name:  # a blur without a change is no edit
            try:
                stem = naming.typed_stem(final_name)
            except ValueError as exc:
                raise ValidationFailed(str(exc)) from exc
            # compose_names de-duplicates it against the batch's other names.
            item.final_name = stem + _extension(session.get(Asset, item.asset_id), item)
            item.edited = True
        if alt_text is not None:
            item.alt_text = clip_alt_text(alt_text)
        if accepted is not None:
            item.accepted = accepted
        session.add(item)
    if final_name is not None:
        compose_names(batch_id=batch_id)
    with session_scope() as session:
        return session.get(RenameItem, item_id)


def needs_subject(item: RenameItem) -> bool:
    """An analysed row whose analyzer found nothing to name it after, and that nobody has named since."""
    if item.status != RenameItemStatus.DONE or item.edited:
        return False
    return not fields_of(item).subject.strip()


def _has_words(name: str, words: list[str]) -> bool:
    return set(words) <= set(naming.ascii_words(name.rsplit(".", 1)[0]))


def add_keyword(*, workspace_id: int, batch_id: int, keyword: str) -> dict[str, int]:
    """Add a keyword to every name in the batch, the ones the user edited included, and say what happened.

    Names are code, so no new analysis is needed. An edited name gets the keyword (in the batch's case style)
    in front of the user's own name, which stays as typed. Returns counts for the message: `added` names that
    gained it (`edited` of them the user's), `already` names that had it, `left` names that could not take it
    (rows whose analysis failed keep their original names; a typed name too long to take it stays as it was).
    """
    words = naming.ascii_words(keyword)
    counts = {"added": 0, "edited": 0, "already": 0, "left": 0}
    with session_scope() as session:
        batch = get_batch(session=session, workspace_id=workspace_id, batch_id=batch_id)
        options = options_of(batch)
        options = RenameOptions.model_validate(options.model_dump() | {"keywords": [*options.keywords, keyword]})
        batch.options = options.model_dump(mode="json")
        session.add(batch)
        items = items_of(session=session, batch_id=batch_id)
        had = {item.id for item in items if _has_words(item.final_name, words)}
        edited = set()
        word = naming.compose_name({"keywords": keyword}, template="{keywords}", case=options.case,
                                   max_length=naming.MAX_LENGTH)
        for item in items:
            if item.edited and item.id not in had:
                stem, dot, ext = item.final_name.rpartition(".")
                joined = f"{word}{'_' if options.case == 'snake' else '-'}{stem}"
                if len(joined) > naming.TYPED_MAX_CHARS or len(joined.encode()) > naming.TYPED_MAX_BYTES:
                    continue  # too long with it: the name stays as the user typed it, counted as `left`
                item.final_name = f"{joined}{dot}{ext}"
                session.add(item)
                edited.add(item.id)
    compose_names(batch_id=batch_id)
    with session_scope() as session:
        for item in items_of(session=session, batch_id=batch_id):
            key = "already" if item.id in had else "added" if _has_words(item.final_name, words) else "left"
            counts[key] += 1
            counts["edited"] += key == "added" and item.id in edited
    return counts


def regenerate(*, workspace_id: int, batch_id: int, item_id: int) -> str:
    """Analyse one row again (bypassing nothing: the cache answers if the inputs are unchanged); the batch
    follows the new job from the moment it exists (the grid follows batch.job_id). Returns the job id."""
    with session_scope() as session:
        batch = get_batch(session=session, workspace_id=workspace_id, batch_id=batch_id)
        item = session.get(RenameItem, item_id)
        if item is None or item.batch_id != batch.id:
            raise NotFound("No such item in this batch.")
        before = (item.status, item.edited, batch.job_id)
        item.status, item.edited = "pending", False
        session.add(item)

        def put_back(session: Session, _job: Job) -> None:  # nothing will analyse it: the row goes back
            row, owner = session.get(RenameItem, item_id), session.get(RenameBatch, batch_id)
            row.status, row.edited, owner.job_id = before
            session.add_all([row, owner])

        job = jobs.start_tracked(session, kind="rename.analyze", domain_row=batch,
                                 params={"batch_id": batch_id, "item_ids": [item_id]}, on_refused=put_back)
    return job.id


def retry_failed(*, workspace_id: int, batch_id: int, provider: str = "local", user_id: int | None = None) -> str:
    """Describe the batch's failed images again with `provider` (the offline analyzer by default, the way
    out when a model server is gone); the batch keeps that provider from now on. Returns the job id."""
    from app.services.ai import resolve
    from app.services.rename.vision.registry import get_provider

    get_provider(provider)  # 422 when unknown or not set up
    with session_scope() as session:
        batch = get_batch(session=session, workspace_id=workspace_id, batch_id=batch_id)
        failed = [i.id for i in items_of(session=session, batch_id=batch_id) if i.status == "failed"]
    if not failed:
        raise ValidationFailed("No image of this batch has failed.", code="nothing_failed")
    cost = resolve.price_of("vision", provider, len(failed))
    with session_scope() as session:
        batch = get_batch(session=session, workspace_id=workspace_id, batch_id=batch_id)
        before = (batch.options, batch.job_id)
        batch.options = options_of(batch).model_copy(update={"provider": provider}).model_dump(mode="json")

        def put_back(session: Session, _job: Job) -> None:
            owner = session.get(RenameBatch, batch_id)
            owner.options, owner.job_id = before
            session.add(owner)

        job = jobs.start_tracked(session, kind="rename.analyze", domain_row=batch,
                                 params={"batch_id": batch_id, "item_ids": failed},
                                 cost=cost, user_id=user_id,
                                 on_refused=put_back)
    return job.id


def apply_to_library(*, workspace_id: int, batch_id: int, undo: bool = False) -> int:
    """Rename the assets in place and give each its item's alt text and tags; with `undo`, put back the name,
    alt text and tags each had before that apply. Returns how many assets changed."""
    changed = 0
    with session_scope() as session:
        batch = get_batch(session=session, workspace_id=workspace_id, batch_id=batch_id)
        for item in items_of(session=session, batch_id=batch_id):
            asset = session.get(Asset, item.asset_id)
            if asset is None or asset.workspace_id != workspace_id or asset.deleted_at is not None or not item.accepted:
                continue
            changed += (renamed.undo_item if undo else renamed.apply_item)(session, asset, item)
        batch.applied_at = None if undo else utcnow()
        session.add(batch)
    return changed


def undo_from_manifest(*, workspace_id: int, rows: list[dict]) -> int:
    """Put original names back from an exported manifest.json (the user's own record of a rename).

    Only the caller's assets whose name is still the manifest's new name are touched.
    """
    changed = 0
    with session_scope() as session:
        for row in rows[:MAX_BATCH]:
            try:
                asset_id, new, original = int(row["asset_id"]), str(row["new_name"]), str(row["original_name"])
            except (KeyError, TypeError, ValueError):
                continue
            asset = session.get(Asset, asset_id)
            if asset is None or asset.workspace_id != workspace_id or asset.filename != new or not original.strip():
                continue
            asset.filename = original[:255]
            session.add(asset)
            index.refresh(session, asset)
            changed += 1
    return changed
