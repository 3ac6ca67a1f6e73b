"""Reading and writing images for workflows: one loader and one encoder shared by every operation.

Loader: checks the pixel count before decoding, decodes JPEGs at reduced scale when the first steps
need fewer pixels, applies the EXIF orientation, normalises the mode to RGB/RGBA and lifts metadata
out of the pixels into the Frame. Encoder: writes a Frame in its format with exactly the metadata the
frame carries (EXIF with orientation 1, no thumbnail or maker notes — they could show the picture
before a crop or a face blur; XMP; ICC). IPTC is not carried through re-encodes (Pillow cannot write it).
"""

from __future__ import annotations

import io
import math
import warnings
from typing import Any

import numpy as np
from PIL import ExifTags, Image, ImageCms, ImageOps, PngImagePlugin, UnidentifiedImageError

from app.services.assets.images import DAMAGED, FORMATS, ImageRejected  # importing it also registers the HEIC opener
from app.services.workflows.base import ALPHA_FORMATS, WRITE_FORMATS, Frame, OperationFailed, OpOutput

READ_FORMATS = [*FORMATS, "AVIF"]
DEFAULT_QUALITY = {"JPEG": 90, "WEBP": 90, "AVIF": 80}
# Formats a workflow does not write: photos become JPEG, the rest PNG (lossless, keeps transparency).
FALLBACK_FORMAT = {"HEIF": "JPEG", "TIFF": "PNG", "GIF": "PNG"}
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def open_source(data: bytes, *, max_pixels: int) -> Image.Image:
    """Open (not decode) an image and refuse it before decoding when it has too many pixels."""
    if not data:
        raise ImageRejected("The file is empty.", code="empty_file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=READ_FORMATS)
    except UnidentifiedImageError as exc:
        raise ImageRejected("This is not an image type workflows accept (JPEG, PNG, WebP, AVIF, GIF, TIFF, HEIC).",
                            code="unsupported_type") from exc
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombWarning) as exc:
        raise ImageRejected(DAMAGED, code="corrupt_image") from exc
    if image.width * image.height > max_pixels:
        raise ImageRejected(f"The image is {image.width}×{image.height} pixels; the limit is "
                            f"{max_pixels / 1_000_000:g} megapixels.", code="too_many_pixels")
    return image


def upright_size(image: Image.Image) -> tuple[int, int]:
    """The size after EXIF orientation (orientations 5–8 swap width and height)."""
    orientation = image.getexif().get(ExifTags.Base.Orientation)
    return (image.height, image.width) if orientation in (5, 6, 7, 8) else image.size


def clean_exif(exif: Image.Exif) -> bytes | None:
    """EXIF to carry: orientation 1 (pixels are upright), no maker notes; Pillow drops the thumbnail IFD."""
    try:
        if ExifTags.Base.Orientation in exif:
            exif[ExifTags.Base.Orientation] = 1
        sub = exif.get_ifd(ExifTags.IFD.Exif)
        for tag in (ExifTags.Base.MakerNote, ExifTags.Base.ExifImageWidth, ExifTags.Base.ExifImageHeight):
            sub.pop(tag, None)  # maker notes can hold full previews; stored dimensions go stale on resize
        data = exif.tobytes()
    except Exception:  # damaged EXIF is dropped rather than failing the image
        return None
    return data if len(exif) else None


def _normalise(image: Image.Image, icc: bytes | None) -> tuple[Image.Image, bytes | None]:
    """RGB or RGBA pixels; CMYK goes through its ICC profile to sRGB when it has one."""
    if image.mode == "CMYK":
        if icc:
            try:
                source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
                return ImageCms.profileToProfile(image, source, _SRGB, outputMode="RGB"), None
            except (ImageCms.PyCMSError, OSError):
                pass
        return image.convert("RGB"), None  # the CMYK profile would be wrong for RGB pixels
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):  # 16-bit grey: scale, convert() would clip
        grey = (np.asarray(image, dtype=np.float64) / 257).clip(0, 255).astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB"), icc
    if image.mode in ("RGB", "RGBA"):
        return image, icc
    alpha = "A" in image.getbands() or "transparency" in image.info
    return image.convert("RGBA" if alpha else "RGB"), icc


def load_frame(data: bytes, *, max_pixels: int, decode_at: tuple[int, int] | None = None,
               opened: Image.Image | None = None) -> Frame:
    """Decode fully (at reduced JPEG scale when `decode_at`, an upright size, allows it), upright, RGB/RGBA.

    `opened` is `open_source(data)` when the caller already opened it (to read the size for a decode hint).
    """
    image = opened if opened is not None else open_source(data, max_pixels=max_pixels)
    fmt, stored_size = image.format or "PNG", image.size
    try:
        exif = image.getexif()
        orientation = exif.get(ExifTags.Base.Orientation, 1)
        if fmt == "JPEG" and decode_at:
            want = decode_at[::-1] if orientation in (5, 6, 7, 8) else decode_at
            image.draft(image.mode, (max(1, want[0]), max(1, want[1])))  # scale ≥ want in both directions
        image.load()
        icc = image.info.get("icc_profile") or None
        xmp = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp") or None
        if orientation not in (None, 1):
            image = ImageOps.exif_transpose(image)
        image, icc = _normalise(image, icc)
    except ImageRejected:
        raise
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageRejected(DAMAGED, code="corrupt_image") from exc
    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8")
    image.info = {}  # metadata lives on the frame; Pillow would otherwise copy it into every derived image
    out_format = fmt if fmt in WRITE_FORMATS else FALLBACK_FORMAT.get(fmt, "PNG")
    # The source bytes stand for this frame only when nothing changed: written as-is, same scale, upright.
    pristine = out_format == fmt and orientation in (None, 1) and image.size == stored_size
    return Frame(format=out_format, exif=clean_exif(exif), xmp=xmp, icc=icc,
                 encoded=data if pristine else None, _image=image)


def has_alpha(image: Image.Image) -> bool:
    """True when some pixel is not fully opaque."""
    return image.mode == "RGBA" and image.getchannel("A").getextrema()[0] < 255


GRAPHIC_COLOURS, GRAPHIC_SHARE = 16, 0.85  # a logo's few flat colours cover most of it; a photo's never do


def is_graphic(image: Image.Image) -> bool:
    """A logo, icon or flat illustration rather than a photo: a few colours (to 5 bits a channel, so
    JPEG noise and anti-aliasing do not count) cover most of the pixels."""
    small = image.convert("RGB").resize((min(256, image.width), min(256, image.height)), Image.Resampling.NEAREST)
    rgb = np.asarray(small) >> 3
    codes = (rgb[..., 0].astype(np.int32) << 10) | (rgb[..., 1].astype(np.int32) << 5) | rgb[..., 2]
    counts = np.bincount(codes.ravel(), minlength=1 << 15)
    return float(np.sort(counts)[-GRAPHIC_COLOURS:].sum()) / codes.size >= GRAPHIC_SHARE


def web_format(image: Image.Image, source_format: str) -> str:
    """The format to publish `image` in: PNG for transparency and graphics (lossless, small for few colours),
    a photo format for photos (a PNG photo is several times larger than a JPEG that looks the same)."""
    if has_alpha(image):
        return "WEBP" if source_format in ("WEBP", "AVIF") else "PNG"
    if is_graphic(image):
        return "PNG"
    return source_format if source_format in ("JPEG", "WEBP", "AVIF") else "JPEG"


def flatten(image: Image.Image, background: tuple[int, int, int, int] | tuple[int, int, int]) -> Image.Image:
    """RGBA onto an opaque colour (for JPEG): transparent areas show the background, not black."""
    if image.mode != "RGBA":
        return image.convert("RGB")
    canvas = Image.new("RGB", image.size, tuple(background[:3]))
    canvas.paste(image, mask=image.getchannel("A"))
    return canvas


def encode_image(image: Image.Image, fmt: str, *, quality: int | None = None, exif: bytes | None = None,
                 xmp: bytes | None = None, icc: bytes | None = None,
                 background: tuple[int, ...] = (255, 255, 255)) -> bytes:
    """Bytes of `image` in `fmt` with exactly the given metadata (None = none)."""
    options: dict[str, Any] = {}
    if fmt == "JPEG":
        image = flatten(image, background) if image.mode != "RGB" else image
        options["quality"] = quality or DEFAULT_QUALITY["JPEG"]
    elif fmt in ("WEBP", "AVIF"):
        options["quality"] = quality or DEFAULT_QUALITY[fmt]
    elif fmt == "PNG":
        options["compress_level"] = 3  # on photos 2.5× faster than Pillow's 6 for about the same size
    if exif:
        options["exif"] = exif
    if icc:
        options["icc_profile"] = icc
    if xmp and fmt == "PNG":  # Pillow writes PNG XMP only as this iTXt chunk
        chunks = PngImagePlugin.PngInfo()
        chunks.add_itxt("XML:com.adobe.xmp", xmp.decode("utf-8", "replace"))
        options["pnginfo"] = chunks
    elif xmp:
        options["xmp"] = xmp
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def verify_no_metadata(data: bytes, *, icc_allowed: bool) -> None:
    """Re-read written bytes and fail loudly if EXIF, XMP, IPTC or (unless allowed) ICC are present."""
    image = Image.open(io.BytesIO(data))
    found = [name for name, present in (
        ("EXIF", bool(image.getexif())), ("XMP", bool(image.info.get("xmp") or image.info.get("XML:com.adobe.xmp"))),
        ("IPTC", "photoshop" in image.info), ("ICC", not icc_allowed and bool(image.info.get("icc_profile"))),
        ("comment", bool(image.info.get("comment"))), ("multi-picture data", "mp" in image.info)) if present]
    if found:
        raise OperationFailed(f"Metadata remained after stripping: {', '.join(found)}.", code="strip_failed")


def encode_frame(frame: Frame, *, info: dict[str, Any] | None = None) -> OpOutput:
    """The frame as a file. Keeps the frame's format, except that transparency is never silently lost:
    a JPEG frame whose pixels became transparent (a pad or rotation with a clear colour) is written as PNG."""
    info = dict(info or {})
    if frame.encoded is not None:
        data, fmt = frame.encoded, frame.format
    else:
        image, fmt = frame.image, frame.format
        if fmt not in ALPHA_FORMATS and has_alpha(image):
            info["format_changed"] = f"{fmt} cannot hold transparency; written as PNG"
            fmt = "PNG"
        data = encode_image(image, fmt, quality=frame.quality, exif=frame.exif, xmp=frame.xmp, icc=frame.icc)
    if frame.stripped:
        verify_no_metadata(data, icc_allowed=frame.icc is not None)
    width, height = frame.size
    mime, ext = WRITE_FORMATS[fmt]
    info.setdefault("format", fmt)
    if frame.quality and fmt != "PNG":
        info.setdefault("quality", frame.quality)
    return OpOutput(data=data, mime=mime, ext=ext, width=width, height=height, info=info)


def encode_for_remote(frame: Frame) -> bytes:
    """What a remote provider receives: PNG when transparency matters, else a high-quality JPEG (smaller)."""
    image = frame.image
    return encode_image(image, "PNG") if has_alpha(image) else encode_image(image, "JPEG", quality=95)


def decode_remote(data: bytes, *, max_pixels: int, what: str) -> Image.Image:
    """A provider's answer as RGB/RGBA pixels, within our pixel limit."""
    try:
        return load_frame(data, max_pixels=max_pixels).image
    except ImageRejected as exc:
        raise OperationFailed(f"The remote {what} returned an unusable image ({exc.message})",
                              code="remote_bad_result") from exc


def scale_to_cover(size: tuple[int, int], target: tuple[int, int]) -> tuple[int, int]:
    """The smallest size of the same aspect as `size` that covers `target` (a decode hint)."""
    scale = max(target[0] / size[0], target[1] / size[1])
    return math.ceil(size[0] * scale), math.ceil(size[1] * scale)
