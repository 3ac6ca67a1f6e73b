"""Image checks and derivatives with Pillow: the type comes from the bytes, never the name."""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
from dataclasses import dataclass
from typing import Any

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

from app.errors import AppError
from app.services.rename.vision.colours import nearest_name
from app.settings import get_settings

register_heif_opener()
# Our own pixel limit is checked before decoding; Pillow's warning-only limit is not relied on.
Image.MAX_IMAGE_PIXELS = None

# Above this, the upload check decodes a JPEG at a reduced scale (the thumbnail needs no more).
CHECK_DECODE_PIXELS = 16_000_000

FORMATS = {  # Pillow format → (MIME type, extension)
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
    "GIF": ("image/gif", "gif"),
    "TIFF": ("image/tiff", "tif"),
    "HEIF": ("image/heic", "heic"),
}


class ImageRejected(AppError):
    status = 422


# Pillow's own words ("Truncated File Read", "broken data stream") say nothing a person can act on.
DAMAGED = "The image is damaged or cut short. Re-export or re-download it, then upload it again."


@dataclass(frozen=True)
class ImageInfo:
    mime: str
    ext: str
    width: int
    height: int


def inspect_image(data: bytes) -> ImageInfo:
    """Accept only a fully decodable image of an allowed type within our limits."""
    return open_checked(data)[1]


def open_checked(data: bytes) -> tuple[Image.Image, ImageInfo]:
    """The fully decoded image and what it is, or ImageRejected: inspect_image for callers that go
    on to use the pixels (a thumbnail made from the same decode)."""
    settings = get_settings()
    if not data:
        raise ImageRejected("The file is empty.", code="empty_file")
    if len(data) > settings.max_upload_file_bytes:
        raise ImageRejected(f"The file is larger than {settings.max_upload_file_bytes // (1024 * 1024)} MB.",
                            code="file_too_large", status=413)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(FORMATS))
            width, height = image.size
            check_pixels(image)
            fmt = image.format
            if fmt == "JPEG" and width * height > CHECK_DECODE_PIXELS:
                # Every byte is still entropy-decoded (so a cut or corrupt file fails), but into
                # 1/2…1/8-scale pixels: a 100 MP photo costs ~40 MB here, not 300.
                image.draft(image.mode, (width // 8, height // 8))
            image.load()  # a full decode: truncated or corrupt files fail here, not later
    except ImageRejected:
        raise
    except UnidentifiedImageError as exc:
        raise ImageRejected("This is not an image type Atelier accepts (JPEG, PNG, WebP, GIF, TIFF, "
                            "HEIC).", code="unsupported_type") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRejected("The image has too many pixels.", code="too_many_pixels") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageRejected(DAMAGED, code="corrupt_image") from exc
    mime, ext = FORMATS[fmt]
    return image, ImageInfo(mime=mime, ext=ext, width=width, height=height)


def check_pixels(image: Image.Image) -> None:
    """Refuse, before decoding, an image whose decode would not fit our memory bound.

    JPEG decodes at a reduced scale (draft), so it may have up to MAX_IMAGE_PIXELS; every other
    format is decoded whole, so it gets the lower MAX_FULL_DECODE_PIXELS.
    """
    settings = get_settings()
    width, height = image.size
    if width * height > settings.max_image_pixels:
        raise ImageRejected(f"The image is {width}×{height} pixels; the limit is "
                            f"{settings.max_image_pixels // 1_000_000} megapixels.", code="too_many_pixels")
    if image.format != "JPEG" and width * height > settings.max_full_decode_pixels:
        raise ImageRejected(
            f"The image is {width}×{height} pixels ({width * height // 1_000_000} megapixels). {image.format} "
            f"images are decoded at full size, so their limit is {settings.max_full_decode_pixels // 1_000_000} "
            f"megapixels (JPEG may have up to {settings.max_image_pixels // 1_000_000}). Scale it down, or save "
            "it as JPEG.", code="too_many_pixels")


_UNSAFE = re.compile(r"[\\/:*?\"<>|]")


def clean_filename(name: str, ext: str) -> str:
    """A display/download name: no folders, control or direction-override characters; our extension."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = unicodedata.normalize("NFC", base)
    base = "".join(ch for ch in base if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp"))
    stem = base.rsplit(".", 1)[0] if "." in base.lstrip(".") else base
    stem = _UNSAFE.sub("_", " ".join(stem.split())).strip(" .")[:180]
    return f"{stem or 'image'}.{ext}"


def display_name(name: str) -> str:
    """A file's name as the user sent it (`flood.png`, extension kept), made safe to show in a message."""
    base = re.split(r"[\\/]", name or "")[-1]
    stem, _dot, ext = base.rpartition(".") if "." in base.lstrip(".") else (base, "", "")
    ext = "".join(ch for ch in ext if ch.isalnum())[:16]
    return clean_filename(stem, ext) if ext else clean_filename(stem, "")[:-1] or "file"


def _exif(image: Image.Image) -> dict[str, Any]:
    try:
        exif = image.getexif()
    except Exception:  # broken EXIF never blocks a thumbnail
        return {}
    wanted = {"Make", "Model", "DateTime", "Orientation", "Software", "Artist", "Copyright"}
    out: dict[str, Any] = {}
    for tag, value in exif.items():
        name = ExifTags.TAGS.get(tag)
        if name in wanted:
            out[name] = str(value)[:100] if not isinstance(value, int) else value
    try:
        sub = exif.get_ifd(ExifTags.IFD.Exif)
        for tag in (ExifTags.Base.DateTimeOriginal, ExifTags.Base.LensModel, ExifTags.Base.FNumber,
                    ExifTags.Base.ExposureTime, ExifTags.Base.ISOSpeedRatings, ExifTags.Base.FocalLength):
            if tag in sub:
                out[ExifTags.TAGS[tag]] = str(sub[tag])[:100]
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        if gps:
            out["GPS"] = {ExifTags.GPSTAGS.get(k, str(k)): str(v)[:60] for k, v in gps.items()}
    except Exception:
        pass
    return out


def dominant_colours(image: Image.Image, count: int = 5) -> list[dict[str, Any]]:
    """The main colours of an image (median cut on a small copy), with their share."""
    small = image.convert("RGB")
    small.thumbnail((96, 96))
    paletted = small.quantize(colors=count, method=Image.Quantize.MEDIANCUT)
    palette = paletted.getpalette() or []
    counts = sorted(paletted.getcolors() or [], reverse=True)
    total = sum(c for c, _ in counts) or 1
    hexes = ["#{:02x}{:02x}{:02x}".format(*palette[i * 3:i * 3 + 3]) for _, i in counts[:count]]
    # A name people search by ("blue"), from the same fixed palette the renamer speaks.
    return [{"hex": h, "share": round(c / total, 3), "name": nearest_name(h)}
            for h, (c, _) in zip(hexes, counts[:count], strict=True)]


def make_thumbnail(data: bytes, size: int) -> tuple[bytes, dict[str, Any]]:
    """A WebP thumbnail with EXIF orientation applied, plus metadata (EXIF, colours)."""
    image = Image.open(io.BytesIO(data), formats=list(FORMATS))
    # Checked again here: the worker must not decode what the upload check would refuse now
    # (a stored original from before a limit was lowered).
    check_pixels(image)
    if image.format == "JPEG":
        image.draft("RGB", (size * 2, size * 2))  # decode at reduced scale: far less work and memory
    return thumbnail_of(image, size)


def thumbnail_of(image: Image.Image, size: int) -> tuple[bytes, dict[str, Any]]:
    """make_thumbnail for an image already opened (and perhaps already decoded)."""
    meta: dict[str, Any] = {"exif": _exif(image), "format": image.format,
                            "frames": getattr(image, "n_frames", 1)}
    orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    # Shrink first, then turn: turning the full-size image would copy it (twice the memory).
    # The box is square, so shrinking before or after turning gives the same size.
    # reducing_gap=1: shrink by the whole factor with an exact box average first, then Lanczos for the
    # rest. A tenth of the time of the default (14 → 1.2 ms for 1024² → 512²) for a thumbnail that
    # differs by 1.5/255 on average: the time matters, as a generated image's user waits for it.
    image.thumbnail((size, size), Image.Resampling.LANCZOS, reducing_gap=1.0)
    if orientation != 1:
        image = ImageOps.exif_transpose(image)
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB")
    meta["colours"] = dominant_colours(image)
    out = io.BytesIO()
    image.save(out, format="WEBP", quality=80, method=4)
    return out.getvalue(), meta


CONVERT_TO = {"png": ("PNG", "image/png"), "jpeg": ("JPEG", "image/jpeg"), "webp": ("WEBP", "image/webp")}


def convert(data: bytes, fmt: str) -> tuple[bytes, str]:
    """The image re-encoded as PNG, JPEG (transparency flattened on white) or WebP; (bytes, MIME)."""
    if fmt not in CONVERT_TO:
        raise AppError(f"Cannot convert to {fmt!r}; choose png, jpeg or webp.", code="invalid_format", status=422)
    pil_format, mime = CONVERT_TO[fmt]
    with Image.open(io.BytesIO(data), formats=list(FORMATS)) as image:
        if image.format == pil_format:
            return data, mime  # already in that format: the stored bytes, untouched
        image = ImageOps.exif_transpose(image)
        if pil_format == "JPEG" and image.mode != "RGB":
            rgba = image.convert("RGBA")
            image = Image.new("RGB", rgba.size, (255, 255, 255))
            image.paste(rgba, mask=rgba.getchannel("A"))
        elif image.mode not in ("RGB", "RGBA", "L", "LA"):
            image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        out = io.BytesIO()
        options = {"PNG": {"optimize": False}, "JPEG": {"quality": 92, "optimize": True},
                   "WEBP": {"quality": 90, "method": 4}}[pil_format]
        image.save(out, format=pil_format, **options)
        return out.getvalue(), mime
