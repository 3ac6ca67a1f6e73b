"""/api/v1/rename: batches of images → reviewed names and alt text → a ZIP."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from app.api.deps import CallerDep, requires
from app.api.ids import DbId, IdPath
from app.api.rename_schemas import BatchCreated, BatchDetail, BatchList, ItemOut, Renamed, Restored
from app.api.schemas import JobStarted, file_responses
from app.db import session_scope
from app.errors import ValidationFailed
from app.services.assets import archives
from app.services.assets.ingest import ingest
from app.services.rename import service as rename
from app.services.rename.export import build_zip
from app.services.rename.service import RenameOptions
from app.settings import get_settings

router = APIRouter(prefix="/rename", tags=["rename"])


class BatchCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    asset_ids: list[DbId] = Field(min_length=1, max_length=rename.MAX_BATCH)
    options: RenameOptions = Field(default_factory=RenameOptions)


class ItemPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # Empty, reserved and too long names are refused by the service, in the same words as on the page.
    final_name: str | None = Field(default=None, max_length=1000)
    alt_text: str | None = Field(default=None, max_length=300)
    accepted: bool | None = None


def item_public(item) -> dict:
    return {"id": item.id, "asset_id": item.asset_id, "position": item.position,
            "original_name": item.original_name, "proposed_name": item.proposed_name,
            "final_name": item.final_name, "edited": item.edited, "alt_text": item.alt_text, "title": item.title,
            "tags": list(item.tags or []), "fields": rename.fields_of(item).model_dump() if item.fields else {},
            "confidence": item.confidence, "status": item.status, "accepted": item.accepted, "error": item.error,
            "needs_subject": rename.needs_subject(item)}


def batch_public(batch, items=None) -> dict:
    body = {"id": batch.id, "status": batch.status, "job_id": batch.job_id, "image_count": batch.image_count,
            "options": rename.options_of(batch).model_dump(mode="json"), "created_at": batch.created_at.isoformat(),
            "applied_at": batch.applied_at.isoformat() if batch.applied_at else None}
    if items is not None:
        body["items"] = [item_public(i) for i in items]
    return body


def _options(raw: str) -> RenameOptions:
    try:
        return RenameOptions.model_validate_json(raw or "{}")
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ValidationFailed(f"options.{'.'.join(map(str, first['loc']))}: {first['msg']}",
                               code="invalid_options") from exc


@router.post("/batches", status_code=201, response_model=BatchCreated, dependencies=[requires("rename.write")])
async def create_batch(request: Request, caller: CallerDep) -> dict:
    """JSON {"asset_ids": [...], "options": {...}}, or multipart `files` plus an `options` JSON field."""
    errors: list[dict] = []
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        settings = get_settings()
        form = await request.form(max_files=settings.max_upload_files, max_fields=20)
        try:
            options = _options(str(form.get("options") or "{}"))
            uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
            files = ((u.filename or "image", archives.read_upload(u.file)) for u in uploads)
            stored = await run_in_threadpool(ingest, workspace_id=caller.user.workspace_id, files=files)
        finally:
            await form.close()
        errors = [e.__dict__ for e in stored.errors]
        asset_ids = [a.id for a in stored.assets]
    else:
        try:
            body = BatchCreate.model_validate_json(await request.body())
        except ValidationError as exc:
            first = exc.errors()[0]
            raise ValidationFailed(f"{'.'.join(map(str, first['loc']))}: {first['msg']}") from exc
        asset_ids, options = body.asset_ids, body.options
    batch = await run_in_threadpool(rename.create_batch, workspace_id=caller.user.workspace_id, asset_ids=asset_ids,
                                    options=options, user_id=caller.user.id)
    return batch_public(batch) | {"errors": errors}


@router.get("/batches", response_model=BatchList, dependencies=[requires("work.read")])
def list_batches(caller: CallerDep) -> dict:
    with session_scope() as session:
        return {"batches": [batch_public(b) for b in rename.list_batches(session=session,
                                                                         workspace_id=caller.user.workspace_id)]}


@router.get("/batches/{batch_id}", response_model=BatchDetail, dependencies=[requires("work.read")])
def get_batch(batch_id: IdPath, caller: CallerDep) -> dict:
    with session_scope() as session:
        batch = rename.get_batch(session=session, workspace_id=caller.user.workspace_id, batch_id=batch_id)
        return batch_public(batch, rename.items_of(session=session, batch_id=batch_id))


@router.patch("/batches/{batch_id}/items/{item_id}", response_model=ItemOut, dependencies=[requires("rename.write")])
def patch_item(batch_id: IdPath, item_id: IdPath, body: ItemPatch, caller: CallerDep) -> dict:
    item = rename.edit_item(workspace_id=caller.user.workspace_id, batch_id=batch_id, item_id=item_id,
                            final_name=body.final_name, alt_text=body.alt_text, accepted=body.accepted)
    return item_public(item)


class RetryFailed(BaseModel):
    provider: str = Field(default="local", max_length=200)  # "local", a provider name or "conn:<id>:<model>"


@router.post("/batches/{batch_id}/retry-failed", status_code=202, response_model=JobStarted,
             dependencies=[requires("rename.write")])
def retry_failed(batch_id: IdPath, body: RetryFailed, caller: CallerDep) -> dict:
    """Describe the failed images again, by default with the offline analyzer (when a model server is gone)."""
    return {"job_id": rename.retry_failed(workspace_id=caller.user.workspace_id, batch_id=batch_id,
                                          provider=body.provider, user_id=caller.user.id)}


@router.post("/batches/{batch_id}/apply", response_model=Renamed, dependencies=[requires("rename.write")])
def apply_batch(batch_id: IdPath, caller: CallerDep) -> dict:
    return {"renamed": rename.apply_to_library(workspace_id=caller.user.workspace_id, batch_id=batch_id)}


@router.post("/batches/{batch_id}/undo", response_model=Restored, dependencies=[requires("rename.write")])
def undo_batch(batch_id: IdPath, caller: CallerDep) -> dict:
    return {"restored": rename.apply_to_library(workspace_id=caller.user.workspace_id, batch_id=batch_id, undo=True)}


@router.get("/batches/{batch_id}/download", dependencies=[requires("work.read")],
            **file_responses("application/zip", description="The renamed images with manifest.json and a CSV."))
def download(batch_id: IdPath, caller: CallerDep) -> Response:
    chunks, filename = build_zip(workspace_id=caller.user.workspace_id, batch_id=batch_id)
    return StreamingResponse(chunks, media_type="application/zip",
                             headers={"Content-Disposition": f'attachment; filename="{filename}"',
                                      "X-Content-Type-Options": "nosniff"})


class ManifestUndo(BaseModel):
    model_config = ConfigDict(extra="ignore")
    files: list[dict] = Field(max_length=rename.MAX_BATCH)


@router.post("/undo-manifest", response_model=Restored, dependencies=[requires("rename.write")])
def undo_from_manifest(body: ManifestUndo, caller: CallerDep) -> dict:
    """Undo a rename from the manifest.json of its ZIP, even if the batch is long gone."""
    return {"restored": rename.undo_from_manifest(workspace_id=caller.user.workspace_id, rows=body.files)}
