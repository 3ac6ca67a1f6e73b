"""The renamer's ZIP: renamed files (stored, not deflated) plus manifest.csv and manifest.json."""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterator

from sqlmodel import col, select
from zipstream import ZIP_DEFLATED, ZIP_STORED, ZipStream

from app.db import session_scope
from app.models import Asset
from app.services.rename.csv_cells import spreadsheet_safe
from app.services.rename.service import get_batch, items_of, options_of
from app.storage import get_storage

log = logging.getLogger(__name__)
MANIFEST_FIELDS = ["original_name", "new_name", "alt_text", "title", "tags", "sha256", "asset_id", "metadata"]


def _rewrite_metadata(data: bytes, *, title: str, alt_text: str, tags: list[str], keep_exif: bool,
                      write: bool) -> tuple[bytes, str]:
    """Write title/alt text/keywords into XMP, IPTC and EXIF, and/or strip EXIF and GPS, losslessly."""
    if keep_exif and not write:
        return data, "original"
    import pyexiv2

    try:
        with pyexiv2.ImageData(data) as image:
            if not keep_exif:
                orientation = image.read_exif().get("Exif.Image.Orientation")
                image.clear_exif()
                if orientation:
                    image.modify_exif({"Exif.Image.Orientation": orientation})
            if write:
                xmp = {"Xmp.dc.title": title, "Xmp.dc.description": alt_text, "Xmp.dc.subject": tags}
                if alt_text:  # IPTC's own alt-text field (Photo Metadata 2021.1), a language alternative as it asks
                    xmp["Xmp.iptc.AltTextAccessibility"] = {'lang="x-default"': alt_text}
                image.modify_xmp(xmp)
                image.modify_iptc({"Iptc.Application2.ObjectName": title[:64],
                                   "Iptc.Application2.Caption": alt_text, "Iptc.Application2.Keywords": tags})
                image.modify_exif({"Exif.Image.ImageDescription": alt_text})
            return image.get_bytes(), ("written" if write else "exif stripped")
    except Exception as exc:  # Exiv2 cannot write every format: export the original bytes and say so
        log.warning("metadata not written: %s", exc)
        return data, f"original (metadata not written: {str(exc)[:80]})"


def build_zip(*, workspace_id: int, batch_id: int) -> tuple[Iterator[bytes], str]:
    """A streamed ZIP: files are read from storage one at a time while it is sent."""
    with session_scope() as session:
        batch = get_batch(session=session, workspace_id=workspace_id, batch_id=batch_id)
        options = options_of(batch)
        items = [i for i in items_of(session=session, batch_id=batch_id) if i.accepted]
        wanted = [i.asset_id for i in items]
        assets = {a.id: a for a in session.exec(select(Asset).where(
            Asset.workspace_id == workspace_id, col(Asset.id).in_(wanted))).all()}
    storage = get_storage()
    rows: list[dict] = []
    stream = ZipStream(sized=False)

    def file_bytes(item, asset) -> Iterator[bytes]:
        tags = list(item.tags or [])
        data, note = _rewrite_metadata(storage.get(asset.storage_key), title=item.title, alt_text=item.alt_text,
                                       tags=tags, keep_exif=options.keep_exif, write=options.write_metadata)
        rows.append({"original_name": item.original_name, "new_name": item.final_name, "alt_text": item.alt_text,
                     "title": item.title, "tags": tags, "sha256": asset.sha256, "asset_id": asset.id,
                     "metadata": note})
        yield data

    for item in items:
        asset = assets.get(item.asset_id)
        if asset is None:
            continue
        # Images are already compressed: storing them saves CPU and loses nothing.
        stream.add(file_bytes(item, asset), arcname=item.final_name, compress_type=ZIP_STORED)
    return _with_manifests(stream, rows), f"atelier-rename-{batch_id}.zip"


def _with_manifests(stream: ZipStream, rows: list[dict]) -> Iterator[bytes]:
    def csv_bytes() -> Iterator[bytes]:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=MANIFEST_FIELDS)
        writer.writeheader()
        for row in rows:
            # Names come from uploads: a spreadsheet must show them, not run them. (JSON keeps them raw.)
            writer.writerow({k: spreadsheet_safe(v) for k, v in (row | {"tags": ";".join(row["tags"])}).items()})
        yield out.getvalue().encode()

    def json_bytes() -> Iterator[bytes]:
        yield json.dumps({"files": rows}, indent=2, ensure_ascii=False).encode()

    # The manifests go last and are generated lazily, so they list exactly what was exported.
    stream.add(csv_bytes(), arcname="manifest.csv", compress_type=ZIP_DEFLATED)
    stream.add(json_bytes(), arcname="manifest.json", compress_type=ZIP_DEFLATED)
    yield from stream
