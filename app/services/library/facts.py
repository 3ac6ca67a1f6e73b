"""What a picture's metadata says about it, as library columns: date taken, camera, main colour."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.models import Asset

ORIGINS = ("upload", "generated", "workflow", "slide")


def taken_at_of(exif: dict[str, Any]) -> datetime | None:
    """EXIF DateTimeOriginal ("2024:05:01 10:00:00"), read as UTC (EXIF has no zone); None when absent or bad."""
    value = exif.get("DateTimeOriginal")
    if not isinstance(value, str):
        return None
    for fmt in ("%Y:%m:%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(value.strip()[:19], fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def camera_of(exif: dict[str, Any]) -> str:
    """Make and Model in one line, the make once ("Canon" + "Canon EOS R5" → "Canon EOS R5")."""
    make, model = (" ".join(str(exif.get(k) or "").replace("\x00", " ").split()) for k in ("Make", "Model"))
    if make and model.lower().startswith(make.lower()):
        make = ""
    return " ".join(p for p in (make, model) if p)[:120]


def colour_of(meta: dict[str, Any]) -> str:
    colours = meta.get("colours")
    first = colours[0] if isinstance(colours, list) and colours else None
    return str(first.get("name") or "")[:24] if isinstance(first, dict) else ""


def apply_facts(asset: Asset, meta: dict[str, Any]) -> None:
    """Set taken_at, camera and colour from thumbnail metadata (EXIF and dominant colours); the caller
    refreshes the search column, which reads the camera."""
    exif = meta.get("exif") if isinstance(meta.get("exif"), dict) else {}
    asset.taken_at = taken_at_of(exif)
    asset.camera = camera_of(exif)
    asset.colour = colour_of(meta)
