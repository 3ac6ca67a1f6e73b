"""`GET /api/v1/public/images/{token}`: a library picture of an email that left, for any email client, with no
sign-in (app/services/templates/image_links.py says which pictures get a link). Unknown, revoked, deleted and
malformed tokens all answer the same 404. Rate-limited like every /api/v1 route (the guard's per-address
bucket); nothing here lists anything."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from app.db import read_scope
from app.errors import NotFound
from app.services.templates import image_links, public_images
from app.storage import get_storage

router = APIRouter(prefix="/public", tags=["public"])
# An hour: mail clients and their image proxies fetch a picture once per open; a revoked link may live that long
# in a cache that already holds it (the origin answers 404 at once).
CACHE = "public, max-age=3600"


@router.get("/images/{token}", response_class=StreamingResponse,
            responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/gif": {}}}})
def public_image(token: str) -> StreamingResponse:
    with read_scope() as session:
        asset = image_links.live_asset(session=session, token=token)
        if asset is not None:
            session.expunge(asset)
    if asset is None:
        raise NotFound("No such picture.", code="image_not_found")
    served = public_images.picture(asset)
    return StreamingResponse(get_storage().iter_chunks(served.key), media_type=served.mime,
                             headers={"Cache-Control": CACHE, "Content-Disposition": "inline",
                                      "X-Content-Type-Options": "nosniff"})
