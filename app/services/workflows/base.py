"""The shared types of image workflows: frames passed between steps, outputs, the run context, errors."""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from PIL import Image

from app.errors import AppError

# Pillow format → (MIME type, extension) for everything a workflow writes.
WRITE_FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
    "AVIF": ("image/avif", "avif"),
}
ALPHA_FORMATS = {"PNG", "WEBP", "AVIF"}
DEFAULT_MAX_INPUT_PIXELS = 100_000_000  # matches Settings.max_image_pixels' default
DEFAULT_MAX_OUTPUT_PIXELS = 64_000_000  # an 8000×8000 result; 4× upscales of big photos stop here

RemoteHook = Callable[[str, bytes, dict[str, Any]], bytes]


class FieldError(dict):
    """One invalid setting: {"field": "steps[1].params.width", "message": "must be at most 16384"}."""

    def __init__(self, field: str, message: str):
        super().__init__(field=field, message=message)


class ParamsInvalid(AppError):
    """Settings that do not match an operation's (or a recipe's) schema; every error names its field."""

    status = 422
    code = "invalid_params"

    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        super().__init__("; ".join(f"{e['field'] or '(settings)'}: {e['message']}" for e in errors))

    @property
    def field(self) -> str:
        return self.errors[0]["field"] if self.errors else ""


class UnknownOperation(AppError):
    status = 404
    code = "unknown_operation"


class OperationFailed(AppError):
    """An operation could not honour its settings on this image (too many pixels, an unreachable size…)."""

    status = 422
    code = "operation_failed"


class RemoteNotConfigured(AppError):
    status = 409
    code = "remote_not_configured"


@dataclass
class OpContext:
    """What a run needs besides the image and the settings; built by the caller (job, API, test)."""

    # Sends (op id, image bytes, params) to fal/Replicate and returns the result's bytes; None = no provider.
    remote: RemoteHook | None = None
    # Bytes of the assets a recipe refers to (watermark logos), keyed by the reference in the params.
    assets: Mapping[str, bytes] = field(default_factory=dict)
    max_input_pixels: int = DEFAULT_MAX_INPUT_PIXELS
    max_output_pixels: int = DEFAULT_MAX_OUTPUT_PIXELS


@dataclass(frozen=True)
class OpOutput:
    data: bytes
    mime: str
    ext: str
    width: int
    height: int
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class Frame:
    """An image between steps: upright pixels plus the metadata a re-encode would carry.

    `encoded` holds bytes that are exactly this frame in `format` (the untouched source, a lossless
    metadata strip, or a convert step's result), so writing it out costs nothing and loses nothing.
    Without pixels, they are decoded from `encoded` on first use.
    """

    format: str  # what the frame is written as unless a later step chooses otherwise
    exif: bytes | None = None  # cleaned: orientation 1, no thumbnail, no maker notes
    xmp: bytes | None = None
    icc: bytes | None = None
    encoded: bytes | None = None
    _image: Image.Image | None = None
    quality: int | None = None  # the quality `encoded` was written with, when a step chose one
    stripped: bool = False  # metadata was removed on purpose: outputs are checked to hold none

    @property
    def image(self) -> Image.Image:
        if self._image is None:
            if self.encoded is None:
                raise ValueError("A frame needs pixels or encoded bytes.")
            image = Image.open(io.BytesIO(self.encoded))
            image.load()
            if image.mode not in ("RGB", "RGBA"):  # a palette PNG from a size-targeted convert, for one
                alpha = "A" in image.getbands() or "transparency" in image.info
                image = image.convert("RGBA" if alpha else "RGB")
            image.info = {}  # metadata lives on the frame
            self._image = image
        return self._image

    @property
    def size(self) -> tuple[int, int]:
        if self._image is None and self.encoded is not None:
            return Image.open(io.BytesIO(self.encoded)).size  # reads the header only
        return self.image.size

    def with_image(self, image: Image.Image) -> Frame:
        """The same metadata around new pixels (which must not be encoded from the old bytes)."""
        return replace(self, _image=image, encoded=None, quality=None)


@dataclass
class StepResult:
    frame: Frame  # what the next step (or the encoder) receives
    info: dict[str, Any] = field(default_factory=dict)  # facts for the user: faces found, crop box, quality…
    extras: list[OpOutput] = field(default_factory=list)  # further files (the palette's JSON)


Apply = Callable[[Frame, dict[str, Any], OpContext], StepResult]
DecodeSize = Callable[[dict[str, Any], tuple[int, int]], tuple[int, int] | None]


@dataclass(frozen=True)
class Operation:
    """One typed operation: its JSON Schema drives the UI form and validates the API."""

    id: str
    name: str
    description: str
    category: str  # size, enhance, format, privacy, brand, analysis
    schema: dict[str, Any]
    apply: Apply
    remote: str | None = None  # the remote capability its `engine: "remote"` option needs, if any
    # The smallest upright size the op needs from the source (JPEGs then decode at 1/2, 1/4, 1/8); None = full.
    decode_size: DecodeSize | None = None
    # The asset references in these params (watermark logos); the caller puts their bytes in ctx.assets.
    asset_refs: Callable[[dict[str, Any]], list[str]] | None = None

    def run(self, image_in: bytes | Frame, params: dict[str, Any], ctx: OpContext | None = None) -> list[OpOutput]:
        """Validate `params` (defaults filled), apply to one image and encode: the image, then any extras."""
        from app.services.workflows.recipes import run_operation  # it imports the catalog, which imports ops

        return run_operation(op_id=self.id, image=image_in, params=params, ctx=ctx or OpContext())
