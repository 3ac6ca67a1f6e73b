"""/api/v1/assets: upload many images, list, read, download, delete. Owners only."""

from __future__ import annotations

import hashlib
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from app.api.deps import CallerDep, in_thread_pool, requires
from app.api.ids import IdPath
from app.api.library_schemas import AssetDetail, AssetPage, AssetUpload
from app.api.schemas import file_responses
from app.db import read_scope, session_scope
from app.errors import NotFound, TooLarge, ValidationFailed
from app.services.assets import archives
from app.services.assets import service as assets
from app.services.assets.ingest import ingest, too_many_files_message
from app.services.library.detail import asset_detail
from app.services.library.search import COUNT_CAP, SearchQuery, search, total_capped
from app.settings import get_settings
from app.storage import get_storage

router = APIRouter(prefix="/assets", tags=["assets"])


@router.post("", status_code=201, response_model=AssetUpload, dependencies=[requires("assets.write")])
async def upload_assets(request: Request, caller: CallerDep) -> dict:
    """Multipart field `files`, many files. Each bad file gets its own error; the rest are stored."""
    settings = get_settings()
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ValidationFailed("Send the images as multipart/form-data in the field 'files'.",
                               code="multipart_required")
    form = await _read_form(request, max_files=settings.max_upload_files)
    uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
    if not uploads:
        raise ValidationFailed("No files were sent in the field 'files'.", code="no_files")
    # A generator: files are read (from Starlette's spooled temp files) one at a time.
    files = ((u.filename or "image", archives.read_upload(u.file)) for u in uploads)
    try:
        result = await run_in_threadpool(ingest, workspace_id=caller.user.workspace_id, files=files)
    finally:
        await form.close()
    errors = [e.__dict__ for e in result.errors]
    if not result.assets:
        # Nothing stored: an error status, so a client checking only the status does not miss it.
        raise ValidationFailed("None of the files could be stored; each has its reason.", code="no_file_stored",
                               details={"errors": errors})
    return {"assets": [assets.public(a) for a in result.assets], "errors": errors,
            "duplicates": result.duplicates, "jobs": result.job_ids or []}


async def _read_form(request: Request, *, max_files: int):
    """The multipart form, or a JSON error that says what was wrong with it (Starlette's is a bare 400)."""
    try:
        return await request.form(max_files=max_files, max_fields=20)
    except HTTPException as exc:
        # Starlette's parser reports limits only in its message text.
        if str(exc.detail).startswith("Too many files"):
            raise TooLarge(too_many_files_message(max_files), code="too_many_files") from exc
        raise ValidationFailed(
            "The multipart body cannot be read: a part header is malformed or over 4 KB (for example a file "
            f"name with a raw line break, or thousands of characters long). ({exc.detail})",
            code="bad_multipart") from exc


@router.get("", response_model=AssetPage, dependencies=[requires("work.read")])
@in_thread_pool
def list_assets(request: Request, caller: CallerDep, limit: int = Query(60, ge=1, le=200),
                offset: int = Query(0, ge=0)) -> dict:
    """The caller's library, searched: q, tag (repeatable), collection, origin (repeatable), include_derived,
    camera, colour, orientation, min_width, min_height, taken_from/taken_to, added_from/added_to (inclusive
    days, UTC), status, sort (added|taken|name|size), order (asc|desc). `query` echoes the search as read.
    `total` counts the matches up to 1,000; `total_capped` true means more than `total` match (page on with
    offset until a page comes back short)."""
    query = SearchQuery.from_params(request.query_params)
    with read_scope() as session:
        rows, total = search(session=session, workspace_id=caller.user.workspace_id, query=query, limit=limit,
                             offset=offset)
        return {"assets": [assets.public(a) for a in rows], "total": min(total, COUNT_CAP),
                "total_capped": total_capped(total), "limit": limit, "offset": offset, "query": query.to_params()}


@router.get("/{asset_id}", response_model=AssetDetail, dependencies=[requires("work.read")])
def get_asset(asset_id: IdPath, caller: CallerDep) -> dict:
    """The asset with what the library knows of it: alt text, tags, origin, collections, date, camera, colour."""
    with read_scope() as session:
        asset = assets.get_asset(session=session, workspace_id=caller.user.workspace_id, asset_id=asset_id)
        return asset_detail(session=session, asset=asset)


def _attachment(key: str, filename: str, mime: str) -> Response:
    """The file as a download: a short-lived presigned URL where the storage has them, else streamed."""
    storage = get_storage()
    url = storage.download_url(key, filename=filename, content_type=mime)
    if url:
        return RedirectResponse(url, status_code=307)
    headers = {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
               "X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=300"}
    return StreamingResponse(storage.iter_chunks(key), media_type=mime, headers=headers)


@router.get("/{asset_id}/download", dependencies=[requires("work.read")],
            **file_responses("application/octet-stream", description="The original bytes, as uploaded (its own "
                             "image type in Content-Type).", redirect=True))
def download_asset(asset_id: IdPath, caller: CallerDep) -> Response:
    """The original bytes, as an attachment (a short-lived presigned URL on S3)."""
    with session_scope() as session:
        asset = assets.get_asset(session=session, workspace_id=caller.user.workspace_id, asset_id=asset_id)
        key, name, mime = asset.storage_key, asset.filename, asset.mime
    return _attachment(key, name, mime)


# A thumbnail URL that carries its version (`?v=`, changed by the thumbnail's status: app.routes) names bytes
# that never change — a ready asset's thumbnail is never made again — so the browser keeps it a year and does
# not ask again; without a version it asks after five minutes, and the ETag answers that with a 304.
THUMB_CACHE_VERSIONED = "private, max-age=31536000, immutable"
THUMB_CACHE = "private, max-age=300"


@router.get("/{asset_id}/thumbnail", dependencies=[requires("work.read")],
            **file_responses("image/webp", description="A WebP thumbnail."))
def thumbnail(asset_id: IdPath, caller: CallerDep, request: Request) -> Response:
    # A read-only session: a grid asks for dozens at once, and none of them should queue for SQLite's write lock.
    with read_scope() as session:
        asset = assets.get_asset(session=session, workspace_id=caller.user.workspace_id, asset_id=asset_id)
        key, name = asset.thumb_key, asset.filename
    if not key:
        raise NotFound("The thumbnail is not ready yet.", code="thumbnail_pending")
    # Read whole in this thread (a thumbnail is tens of KB): streamed, each chunk took one more thread hop, and
    # a grid's first dozen thumbnails queue for those threads behind one another.
    try:
        data = get_storage().get(key)
    except FileNotFoundError:
        raise NotFound("The thumbnail file is missing; process the picture again.", code="thumbnail_missing") from None
    tag = '"' + hashlib.blake2b(data, digest_size=12).hexdigest() + '"'
    headers = {"ETag": tag, "Cache-Control": THUMB_CACHE_VERSIONED if request.query_params.get("v") else THUMB_CACHE,
               "Content-Disposition": f"inline; filename*=UTF-8''{quote(name.rsplit('.', 1)[0] + '.webp')}",
               "X-Content-Type-Options": "nosniff"}
    if tag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(data, media_type="image/webp", headers=headers)


@router.delete("/{asset_id}", status_code=204, dependencies=[requires("assets.write")])
def delete_asset(asset_id: IdPath, caller: CallerDep) -> Response:
    assets.delete_asset(workspace_id=caller.user.workspace_id, asset_id=asset_id)
    return Response(status_code=204)
