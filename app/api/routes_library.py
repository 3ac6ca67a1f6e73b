"""/api/v1: the library — edit a picture's name, alt text and tags; collections; bulk actions; a ZIP."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Response
from fastapi.responses import StreamingResponse

from app.api.deps import CallerDep, in_thread_pool, requires
from app.api.ids import IdPath
from app.api.library_schemas import (
    AssetDetail,
    AssetIds,
    AssetPatch,
    BulkIn,
    BulkOut,
    Changed,
    CollectionIn,
    CollectionList,
    CollectionOut,
    CollectionPatch,
)
from app.api.schemas import file_responses
from app.db import read_scope, session_scope
from app.services.assets import service as assets
from app.services.library import bulk, collections, tags
from app.services.library.detail import asset_detail

router = APIRouter(tags=["library"])


@router.patch("/assets/{asset_id}", response_model=AssetDetail, dependencies=[requires("assets.write")])
def edit_asset(asset_id: IdPath, body: AssetPatch, caller: CallerDep) -> dict:
    """Any of filename (the extension stays the file's own), alt text (≤ 300) and tags (≤ 50, replaced); a field
    left out is not touched. With `expected` (what you last read of the fields you send), a field someone changed
    meanwhile answers 409 `edit_conflict` with `details.current`, and nothing is changed."""
    expected = body.expected.model_dump(exclude_none=True) if body.expected else None
    tags.edit_asset(workspace_id=caller.user.workspace_id, asset_id=asset_id, filename=body.filename,
                    alt_text=body.alt_text, tags=body.tags, expected=expected)
    with session_scope() as session:
        asset = assets.get_asset(session=session, workspace_id=caller.user.workspace_id, asset_id=asset_id)
        return asset_detail(session=session, asset=asset)


@router.post("/assets/bulk", response_model=BulkOut, dependencies=[requires("assets.write")])
def bulk_action(body: BulkIn, caller: CallerDep) -> BulkOut:
    """tag / untag (value: tags), collect / uncollect (value: a collection id), delete (Undo until
    `undo_until`), restore. All ids are checked first: one missing or foreign id refuses the whole request."""
    result = bulk.bulk(workspace_id=caller.user.workspace_id, action=body.action, asset_ids=body.asset_ids,
                       value=body.value)
    return BulkOut(changed=result.changed, undo_until=result.undo_until)


@router.post("/assets/zip", dependencies=[requires("work.read")],
             **file_responses("application/zip", description="The originals in one ZIP."))
def zip_assets(body: AssetIds, caller: CallerDep) -> Response:
    """The originals as one ZIP, streamed (names made unique inside it)."""
    chunks, name = bulk.zip_of(workspace_id=caller.user.workspace_id, asset_ids=body.asset_ids)
    return StreamingResponse(chunks, media_type="application/zip", headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}", "Cache-Control": "private, no-store"})


@router.get("/collections", response_model=CollectionList, dependencies=[requires("work.read")])
@in_thread_pool
def list_collections(caller: CallerDep) -> dict:
    with read_scope() as session:
        return {"collections": collections.list_collections(session=session, workspace_id=caller.user.workspace_id)}


@router.post("/collections", status_code=201, response_model=CollectionOut, dependencies=[requires("assets.write")])
@in_thread_pool
def create_collection(body: CollectionIn, caller: CallerDep) -> dict:
    made = collections.create(workspace_id=caller.user.workspace_id, name=body.name, parent_id=body.parent_id)
    return collections.public(made)


@router.patch("/collections/{collection_id}", response_model=CollectionOut, dependencies=[requires("assets.write")])
def rename_collection(collection_id: IdPath, body: CollectionPatch, caller: CallerDep) -> dict:
    return collections.public(collections.rename(workspace_id=caller.user.workspace_id, collection_id=collection_id,
                                                 name=body.name))


@router.delete("/collections/{collection_id}", status_code=204, dependencies=[requires("assets.write")])
@in_thread_pool
def delete_collection(collection_id: IdPath, caller: CallerDep) -> Response:
    """The collection and the collections inside it; the pictures stay in the library."""
    collections.delete_collection(workspace_id=caller.user.workspace_id, collection_id=collection_id)
    return Response(status_code=204)


@router.post("/collections/{collection_id}/assets", response_model=Changed, dependencies=[requires("assets.write")])
def add_to_collection(collection_id: IdPath, body: AssetIds, caller: CallerDep) -> Changed:
    return Changed(changed=collections.add_assets(workspace_id=caller.user.workspace_id, collection_id=collection_id,
                                                  asset_ids=body.asset_ids))


@router.delete("/collections/{collection_id}/assets", response_model=Changed, dependencies=[requires("assets.write")])
def remove_from_collection(collection_id: IdPath, body: AssetIds, caller: CallerDep) -> Changed:
    return Changed(changed=collections.remove_assets(workspace_id=caller.user.workspace_id, collection_id=collection_id,
                                                     asset_ids=body.asset_ids))
