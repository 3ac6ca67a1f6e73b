"""Size and orientation: resize (cover, smart crop, contain, pad, stretch), social presets, upscale, rotate/flip."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PIL import Image, ImageFilter

from app.services.workflows import schema as s
from app.services.workflows.base import Frame, OpContext, Operation, OperationFailed, StepResult
from app.services.workflows.codec import decode_remote, encode_for_remote, scale_to_cover
from app.services.workflows.detect import detect_faces, importance, small_rgb
from app.services.workflows.remote import call_remote

LANCZOS = Image.Resampling.LANCZOS
MAX_SIDE = 16384
FACE_WEIGHT = 3.0  # faces together outweigh the rest of the importance map threefold: people look at faces

FITS = [("cover", "Cover: fill the size, crop what overflows"),
        ("contain", "Contain: fit inside the size, keep the aspect (output may be smaller on one side)"),
        ("pad", "Pad: fit inside, fill the rest with a colour (output exactly the size)"),
        ("stretch", "Stretch: exactly the size, aspect not kept")]
CROPS = [("smart", "Smart (subject and faces)"), ("center", "Centre"), ("top", "Top"), ("bottom", "Bottom"),
         ("left", "Left"), ("right", "Right")]

# Sizes as the platforms documented them (checked May 2026). Facebook cover: Meta's Help Center gives
# 851×315 (desktop display size); mobile shows the middle 640×360 of it.
SOCIAL_PRESETS: dict[str, tuple[str, int, int]] = {
    "instagram_post": ("Instagram post (square)", 1080, 1080),
    "instagram_portrait": ("Instagram portrait", 1080, 1350),
    "instagram_story": ("Instagram story / Reels", 1080, 1920),
    "facebook_post": ("Facebook post", 1200, 630),
    "facebook_cover": ("Facebook cover", 851, 315),
    "linkedin_post": ("LinkedIn post", 1200, 627),
    "linkedin_banner": ("LinkedIn banner", 1584, 396),
    "x_header": ("X header", 1500, 500),
    "x_post": ("X post", 1600, 900),
    "youtube_thumbnail": ("YouTube thumbnail", 1280, 720),
    "pinterest_pin": ("Pinterest pin", 1000, 1500),
    "open_graph": ("Open Graph (link preview)", 1200, 630),
}


def _check_output(width: int, height: int, ctx: OpContext) -> None:
    if width * height > ctx.max_output_pixels:
        raise OperationFailed(f"The result would be {width}×{height} ({width * height / 1e6:.1f} MP); the limit is "
                              f"{ctx.max_output_pixels / 1e6:g} MP.", code="output_too_large")


# --- cropping -------------------------------------------------------------------------------------

def crop_window(image: Image.Image, aspect: float, crop: str, *, faces: bool = True) -> tuple[float, ...]:
    """The largest box of `aspect` (w/h) inside the image, placed by `crop` (float coordinates).

    Smart: the box slides along the axis with room to hold the most importance (saliency + border
    contrast), with detected faces weighted high; a slight centre preference breaks ties.
    """
    w, h = image.size
    if w / h > aspect:  # too wide: the box is full height and slides horizontally
        bw, bh, axis = h * aspect, float(h), 0
    else:
        bw, bh, axis = float(w), w / aspect, 1
    room = (w - bw) if axis == 0 else (h - bh)
    if room <= 0.5:
        return 0.0, 0.0, float(w), float(h)
    start = {"left": 0.0, "top": 0.0, "right": room, "bottom": room}.get(crop, room / 2)
    if crop in ("left", "right") and axis == 1 or crop in ("top", "bottom") and axis == 0:
        start = room / 2  # the anchor names the other axis: nothing to choose along this one
    if crop == "smart":
        start = _smart_start(image, axis, bw if axis == 0 else bh, faces=faces)
    return (start, 0.0, start + bw, float(h)) if axis == 0 else (0.0, start, float(w), start + bh)


def _smart_start(image: Image.Image, axis: int, length: float, *, faces: bool) -> float:
    rgb, back = small_rgb(image, 256)
    weight = importance(rgb)
    if faces:
        boxes = detect_faces(image, side=640, profiles=False, min_fraction=1 / 30)
        if boxes:
            face_mask = np.zeros_like(weight)
            for x0, y0, x1, y1 in boxes:
                face_mask[int(y0 / back):int(np.ceil(y1 / back)), int(x0 / back):int(np.ceil(x1 / back))] = 1
            weight = weight + FACE_WEIGHT * weight.sum() / max(face_mask.sum(), 1) * face_mask
    profile = weight.sum(axis=axis).astype(np.float64)  # importance per column (axis 0) or per row (axis 1)
    n, win = len(profile), max(1, min(len(profile), round(length / back)))
    sums = np.convolve(profile, np.ones(win), mode="valid")  # importance inside each window position
    centre = (n - win) / 2
    sums = sums - 1e-3 * sums.max() * np.abs(np.arange(len(sums)) - centre) / max(centre, 1)
    full_room = (image.width if axis == 0 else image.height) - length
    return float(min(full_room, max(0.0, int(np.argmax(sums)) * back)))


def fit_image(image: Image.Image, *, width: int, height: int, fit: str, crop: str = "center",
              pad_color: str = "#ffffff") -> tuple[Image.Image, dict[str, Any]]:
    """Resize to the settings; cover, pad and stretch give exactly width×height, contain fits inside."""
    info: dict[str, Any] = {}
    if fit == "stretch":
        return image.resize((width, height), LANCZOS), info
    if fit == "cover":
        box = crop_window(image, width / height, crop)
        info["crop_box"] = [round(v) for v in box]
        return image.resize((width, height), LANCZOS, box=box), info
    scale = min(width / image.width, height / image.height)
    size = (min(width, max(1, round(image.width * scale))), min(height, max(1, round(image.height * scale))))
    resized = image.resize(size, LANCZOS)
    if fit == "contain":
        return resized, info
    colour = s.parse_color(pad_color)
    mode = "RGBA" if resized.mode == "RGBA" or colour[3] < 255 else "RGB"
    canvas = Image.new(mode, (width, height), colour if mode == "RGBA" else colour[:3])
    offset = ((width - size[0]) // 2, (height - size[1]) // 2)
    if mode == "RGBA":
        canvas.alpha_composite(resized.convert("RGBA"), offset)
    else:
        canvas.paste(resized, offset)
    return canvas, info


# --- resize ---------------------------------------------------------------------------------------

RESIZE_SCHEMA = s.obj({
    "width": s.integer("Width", order=1, minimum=1, maximum=MAX_SIDE, unit="px"),
    "height": s.integer("Height", order=2, minimum=1, maximum=MAX_SIDE, unit="px"),
    "fit": s.choice("Fit", FITS, order=3, default="cover"),
    "crop": s.choice("Crop position", CROPS, order=4, default="center", visible_if={"fit": ["cover"]},
                     description="Which part stays when cover crops; smart finds the subject and faces."),
    "pad_color": s.color("Padding colour", order=5, default="#ffffff", visible_if={"fit": ["pad"]},
                         description="Add two hex digits of opacity for a transparent padding (e.g. #ffffff00)."),
}, required=("width", "height"))


def _resize(frame: Frame, params: dict[str, Any], ctx: OpContext) -> StepResult:
    _check_output(params["width"], params["height"], ctx)
    image, info = fit_image(frame.image, width=params["width"], height=params["height"], fit=params["fit"],
                            crop=params["crop"], pad_color=params["pad_color"])
    return StepResult(frame.with_image(image), info)


def _resize_decode(params: dict[str, Any], size: tuple[int, int]) -> tuple[int, int]:
    target = (params["width"], params["height"])
    if params["fit"] in ("contain", "pad"):  # the whole image must reach the fitted size, not cover it
        scale = min(target[0] / size[0], target[1] / size[1])
        target = (max(1, round(size[0] * scale)), max(1, round(size[1] * scale)))
    return scale_to_cover(size, target)


# --- social presets -------------------------------------------------------------------------------

SOCIAL_SCHEMA = s.obj({
    "preset": s.choice("Preset", [(k, f"{label} — {w}×{h}") for k, (label, w, h) in SOCIAL_PRESETS.items()],
                       order=1, default="instagram_post"),
    "fit": s.choice("Fit", [FITS[0], FITS[2]], order=2, default="cover"),
    "crop": s.choice("Crop position", CROPS, order=3, default="smart", visible_if={"fit": ["cover"]}),
    "pad_color": s.color("Padding colour", order=4, default="#ffffff", visible_if={"fit": ["pad"]}),
})


def _social(frame: Frame, params: dict[str, Any], ctx: OpContext) -> StepResult:
    label, width, height = SOCIAL_PRESETS[params["preset"]]
    image, info = fit_image(frame.image, width=width, height=height, fit=params["fit"], crop=params["crop"],
                            pad_color=params["pad_color"])
    return StepResult(frame.with_image(image), {"preset": label, **info})


def _social_decode(params: dict[str, Any], size: tuple[int, int]) -> tuple[int, int]:
    _, width, height = SOCIAL_PRESETS[params["preset"]]
    return _resize_decode({"width": width, "height": height, "fit": params["fit"]}, size)


# --- upscale --------------------------------------------------------------------------------------

UPSCALE_SCHEMA = s.obj({
    "factor": s.choice("Factor", [(2, "2×"), (4, "4×")], order=1, default=2),
    "engine": s.choice("Engine", [("local", "Local: Lanczos + sharpening"),
                                  ("remote", "Remote super-resolution (fal / Replicate)")], order=2, default="local"),
    "sharpen": s.integer("Sharpening", order=3, minimum=0, maximum=300, default=60, unit="%",
                         visible_if={"engine": ["local"]}, description="Unsharp-mask strength after enlarging."),
    "radius": s.number("Sharpening radius", order=4, minimum=0.5, maximum=5, default=1.5, unit="px",
                       visible_if={"engine": ["local"]}),
})


def _upscale(frame: Frame, params: dict[str, Any], ctx: OpContext) -> StepResult:
    image, factor = frame.image, params["factor"]
    size = (image.width * factor, image.height * factor)
    _check_output(*size, ctx)
    if params["engine"] == "remote":
        answer = call_remote(ctx, "upscale", encode_for_remote(frame), {"factor": factor})
        result = decode_remote(answer, max_pixels=ctx.max_output_pixels, what="upscaler")
        info: dict[str, Any] = {"engine": "remote"}
        if result.size != size:  # the settings say exactly factor×: providers that differ are resized to it
            info["resized_from"] = list(result.size)
            result = result.resize(size, LANCZOS)
        if image.mode == "RGBA" and result.mode != "RGBA":  # super-resolution models drop alpha; keep ours
            result = result.convert("RGB")
            result.putalpha(image.getchannel("A").resize(size, LANCZOS))
        return StepResult(frame.with_image(result), info)
    result = image.resize(size, LANCZOS)
    if params["sharpen"]:
        result = result.filter(ImageFilter.UnsharpMask(radius=params["radius"] * factor / 2,
                                                       percent=params["sharpen"], threshold=2))
    return StepResult(frame.with_image(result), {"engine": "local"})


# --- rotate / flip --------------------------------------------------------------------------------

ROTATE_SCHEMA = s.obj({
    "angle": s.number("Rotate", order=1, minimum=-360, maximum=360, default=0, unit="°",
                      description="Clockwise. Multiples of 90° are lossless; other angles resample."),
    "flip": s.choice("Flip", [("none", "None"), ("horizontal", "Horizontal (mirror)"), ("vertical", "Vertical"),
                              ("both", "Both")], order=2, default="none"),
    "expand": s.boolean("Keep whole image", order=3, default=True,
                        description="For angles that are not multiples of 90°: grow the canvas to fit the corners."),
    "background": s.color("Corner colour", order=4, default="#ffffff",
                          description="Fills the corners of a free rotation; #ffffff00 makes them transparent."),
})
_TRANSPOSE = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_90}


def _rotate(frame: Frame, params: dict[str, Any], ctx: OpContext) -> StepResult:
    image, angle = frame.image, params["angle"] % 360
    if angle in _TRANSPOSE:  # PIL's ROTATE_n turns counter-clockwise; our angles are clockwise
        image = image.transpose(_TRANSPOSE[int(angle)])
    elif angle:
        if params["expand"]:  # checked before rotating: the grown canvas is allocated at once
            turn = math.radians(angle)
            _check_output(math.ceil(abs(image.width * math.cos(turn)) + abs(image.height * math.sin(turn))),
                          math.ceil(abs(image.width * math.sin(turn)) + abs(image.height * math.cos(turn))), ctx)
        colour = s.parse_color(params["background"])
        if colour[3] < 255 and image.mode != "RGBA":
            image = image.convert("RGBA")
        image = image.rotate(-angle, resample=Image.Resampling.BICUBIC, expand=params["expand"],
                             fillcolor=colour if image.mode == "RGBA" else colour[:3])
    if params["flip"] in ("horizontal", "both"):
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    if params["flip"] in ("vertical", "both"):
        image = image.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    if image is frame.image:
        return StepResult(frame, {"unchanged": True})  # EXIF orientation was applied on reading
    return StepResult(frame.with_image(image))


OPERATIONS = [
    Operation("resize", "Resize", "Resize to an exact width × height: cover (crop, optionally smart), contain, "
              "pad with a colour, or stretch.", "size", RESIZE_SCHEMA, _resize, decode_size=_resize_decode),
    Operation("social_preset", "Social media size", "Exact pixel sizes for Instagram, Facebook, LinkedIn, X, "
              "YouTube, Pinterest and Open Graph, cropped around the subject.", "size", SOCIAL_SCHEMA, _social,
              decode_size=_social_decode),
    Operation("upscale", "Upscale", "Enlarge 2× or 4×: Lanczos with sharpening locally, or super-resolution "
              "through a remote provider.", "enhance", UPSCALE_SCHEMA, _upscale, remote="upscale"),
    Operation("rotate_flip", "Rotate / flip", "Rotate by 90°, 180°, 270° or any angle and flip. Every operation "
              "already turns the picture upright from its EXIF orientation.", "size", ROTATE_SCHEMA, _rotate),
]
