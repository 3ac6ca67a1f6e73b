"""The picture behind a public link of an email (image_links): the original when email clients show it as it
is (JPEG, PNG or GIF, long side at most MAX_SIDE), otherwise a rendition made once and kept in storage beside
the asset's files: its long side capped at MAX_SIDE, EXIF orientation applied, PNG when the picture is a PNG or
has transparency, JPEG otherwise (WebP, HEIC and TIFF are not shown by every email client)."""

from __future__ import annotations

import io
from contextlib import closing
from dataclasses import dataclass

from PIL import Image, ImageOps

from app.models import Asset
from app.services.assets.images import FORMATS, check_pixels
from app.storage import get_storage

MAX_SIDE = 1600
AS_IS = {"image/jpeg", "image/png", "image/gif"}
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Served:
    key: str
    mime: str


def rendition_key(*, workspace_id: int, storage_key: str) -> str:
    """Where the email rendition of a stored original lives (deleted with the asset)."""
    stem = storage_key.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return f"email/{workspace_id}/{stem}.{MAX_SIDE}"


def _make(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data), formats=list(FORMATS)) as image:
        check_pixels(image)  # a stored original from before a limit was lowered is not decoded past it
        source_format = image.format
        if source_format == "JPEG":
            image.draft("RGB", (MAX_SIDE * 2, MAX_SIDE * 2))
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS, reducing_gap=2.0)
        image = ImageOps.exif_transpose(image)
        alpha = "A" in image.getbands() or "transparency" in image.info
        out = io.BytesIO()
        if source_format in ("PNG", "GIF") or alpha:
            image.convert("RGBA" if alpha else "RGB").save(out, format="PNG", optimize=False)
        else:
            image.convert("RGB").save(out, format="JPEG", quality=85, optimize=True, progressive=True)
        return out.getvalue()


def picture(asset: Asset) -> Served:
    """What to send for this picture (making the rendition on first use)."""
    if asset.mime in AS_IS and max(asset.width, asset.height) <= MAX_SIDE:
        return Served(asset.storage_key, asset.mime)
    storage = get_storage()
    key = rendition_key(workspace_id=asset.workspace_id, storage_key=asset.storage_key)
    if not storage.exists(key):
        # Two first requests at once both make it; the second write replaces the first with the same bytes.
        data = _make(storage.get(asset.storage_key))
        storage.put(key, data, content_type="image/png" if data.startswith(_PNG_MAGIC) else "image/jpeg")
        return Served(key, "image/png" if data.startswith(_PNG_MAGIC) else "image/jpeg")
    with closing(storage.iter_chunks(key)) as chunks:
        head = next(chunks, b"")
    return Served(key, "image/png" if head.startswith(_PNG_MAGIC) else "image/jpeg")
