"""/api/v1/images: generate images from prompts, follow them, keep a gallery. Owners only."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Response
from pydantic import AliasChoices, BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from app.api.deps import CallerDep, requires
from app.api.ids import IdPath
from app.api.images_schemas import (
    FavouriteOut,
    GalleryPage,
    GenerationOut,
    ImageProviderList,
    StyleList,
    VariationStarted,
)
from app.api.schemas import Outcome, file_responses
from app.db import read_scope, session_scope
from app.services.assets import images as image_files
from app.services.generation import registry, service
from app.services.generation.service import GenerationInput
from app.services.generation.styles import list_styles
from app.services.generation.styles import public as style_public
from app.storage import get_storage

router = APIRouter(prefix="/images", tags=["images"])


class ImagePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # `favourite` as clients have sent it; `favorite` (US, as the UI spells it) is read too.
    favourite: bool = Field(validation_alias=AliasChoices("favourite", "favorite"))


@router.post("/generations", status_code=202, response_model=GenerationOut, response_model_exclude_unset=True,
             dependencies=[requires("generate.write")])
def create_generation(body: GenerationInput, caller: CallerDep) -> dict:
    """Moderated before any provider is called: a refusal is 422 with code `moderation_rejected`."""
    generation = service.create_generation(workspace_id=caller.user.workspace_id, data=body, user_id=caller.user.id)
    with session_scope() as session:
        return service.describe(session=session, workspace_id=caller.user.workspace_id, generation_id=generation.id)


@router.get("/generations/{generation_id}", response_model=GenerationOut, response_model_exclude_unset=True,
            dependencies=[requires("work.read")])
def get_generation(generation_id: IdPath, caller: CallerDep) -> dict:
    with read_scope() as session:
        return service.describe(session=session, workspace_id=caller.user.workspace_id, generation_id=generation_id)


@router.post("/generations/{generation_id}/cancel", response_model=Outcome, dependencies=[requires("generate.write")])
def cancel_generation(generation_id: IdPath, caller: CallerDep) -> dict:
    return {"outcome": service.cancel_generation(workspace_id=caller.user.workspace_id, generation_id=generation_id)}


@router.post("/generations/{generation_id}/variations", status_code=202, response_model=VariationStarted,
             dependencies=[requires("generate.write")])
def vary_generation(generation_id: IdPath, caller: CallerDep) -> dict:
    """The same settings with a new random seed."""
    generation = service.variation(workspace_id=caller.user.workspace_id, generation_id=generation_id)
    return {"id": generation.id, "job_id": generation.job_id, "seed": generation.seed}


@router.get("/providers", response_model=ImageProviderList, dependencies=[requires("work.read")])
def providers(caller: CallerDep) -> dict:
    """Configured providers with their capabilities (which controls apply) and price per image."""
    rows = registry.available_providers(configured_only=True)
    for row in rows:
        row["price_per_image"] = service.price(row["name"], 1)
    return {"providers": rows}


@router.get("/styles", response_model=StyleList, dependencies=[requires("work.read")])
def styles(caller: CallerDep) -> dict:
    with session_scope() as session:
        return {"styles": [style_public(s) for s in list_styles(session=session)]}


@router.get("", response_model=GalleryPage, dependencies=[requires("work.read")])
def gallery(caller: CallerDep, provider: str = Query("", max_length=32), style: str = Query("", max_length=40),
            favourites: bool = False, favorites: bool = False, since: datetime | None = None,
            until: datetime | None = None,
            q: str = Query("", max_length=100), limit: int = Query(40, ge=1, le=service.GALLERY_PAGE_MAX),
            offset: int = Query(0, ge=0)) -> dict:
    with session_scope() as session:
        items, total = service.gallery(session=session, workspace_id=caller.user.workspace_id, provider=provider,
                                       style=style, favourites=favourites or favorites, since=since,
                                       until=until, query=q, limit=limit, offset=offset)
    return {"images": items, "total": total, "limit": limit, "offset": offset}


@router.patch("/{image_id}", response_model=FavouriteOut, dependencies=[requires("generate.write")])
def patch_image(image_id: IdPath, body: ImagePatch, caller: CallerDep) -> dict:
    service.set_favourite(workspace_id=caller.user.workspace_id, image_id=image_id, favourite=body.favourite)
    return {"id": image_id, "favourite": body.favourite}


@router.delete("/{image_id}", status_code=204, dependencies=[requires("generate.write")])
def delete_image(image_id: IdPath, caller: CallerDep) -> Response:
    service.delete_image(workspace_id=caller.user.workspace_id, image_id=image_id)
    return Response(status_code=204)


@router.post("/{image_id}/variations", status_code=202, response_model=VariationStarted,
             dependencies=[requires("generate.write")])
def vary_image(image_id: IdPath, caller: CallerDep) -> dict:
    generation = service.variation(workspace_id=caller.user.workspace_id, image_id=image_id)
    return {"id": generation.id, "job_id": generation.job_id, "seed": generation.seed}


@router.get("/{image_id}/download", dependencies=[requires("work.read")],
            **file_responses("image/png", "image/jpeg", "image/webp", description="The image in the asked format."))
async def download_image(image_id: IdPath, caller: CallerDep,
                         format: Literal["png", "jpeg", "webp"] = "png") -> Response:
    """The image converted to PNG, JPEG or WebP, as an attachment."""
    with session_scope() as session:
        _, asset = service.image_with_asset(session=session, workspace_id=caller.user.workspace_id, image_id=image_id)
        key, filename = asset.storage_key, asset.filename
    data = await run_in_threadpool(get_storage().get, key)
    converted, mime = await run_in_threadpool(image_files.convert, data, format)
    name = f"{filename.rsplit('.', 1)[0]}.{'jpg' if format == 'jpeg' else format}"
    return Response(converted, media_type=mime, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}", "Cache-Control": "private, no-store"})
