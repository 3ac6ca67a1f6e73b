"""Size and orientation: resize (cover, smart crop, contain, pad, stretch), social presets, upscale, rotate/flip."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from PIL import Image, ImageFilter

from app.services.workflows import schema as s
from app.services.workflows.base import Frame, OpContext, Operation, OperationFailed, StepResult
from app.services.workflows.codec import decode_remote, encode_for_remote, scale_to_cover, web_format
from app.services.workflows.remote import call_remote
from app.services.workflows.smart_crop import CropPlan, anchored, plan_smart

LANCZOS = Image.Resampling.LANCZOS
MAX_SIDE = 16384
MAX_ENLARGEMENT = 1.5  # past this a resize shows its softness; the output then carries a warning

FITS = [("cover", "Cover: fill the size, crop what overflows"),
        ("contain", "Contain: fit inside the size, keep the aspect (output may be smaller on one side)"),
        ("pad", "Pad: fit inside, fill the rest with a color (output exactly the size)"),
        ("stretch", "Stretch: exactly the size, aspect not kept")]
CROPS = [("smart", "Smart (subject and faces)"), ("center", "Center"), ("top", "Top"), ("bottom", "Bottom"),
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


# --- fitting --------------------------------------------------------------------------------------

def enlargement_check(factor: float, *, allow: bool, source: tuple[float, float], size: tuple[int, int]) -> str | None:
    """A warning when the picture is enlarged past MAX_ENLARGEMENT, or OperationFailed when not allowed."""
    if factor <= MAX_ENLARGEMENT + 1e-6:
        return None
    shown = f"{round(source[0])}×{round(source[1])} source pixels for a {size[0]}×{size[1]} result"
    if not allow:
        raise OperationFailed(f"This would enlarge the picture {factor:.1f}× ({shown}); enlargement is turned off. "
                              "Use a larger source or allow enlargement.", code="enlargement_refused")
    return f"Enlarged {factor:.1f}× ({shown}): expect a soft picture. Use a larger source for a sharp one."


def render(image: Image.Image, plan: CropPlan, size: tuple[int, int]) -> Image.Image:
    """The plan's box at `size`; the part of the box outside the image is the plan's padding colour."""
    x0, y0, x1, y1 = plan.box
    if plan.pad is None or (x0 >= -0.5 and y0 >= -0.5 and x1 <= image.width + 0.5 and y1 <= image.height + 0.5):
        return image.resize(size, LANCZOS, box=(max(0.0, x0), max(0.0, y0), min(float(image.width), x1),
                                                min(float(image.height), y1)))
    scale = size[0] / (x1 - x0)
    inner = (max(0.0, x0), max(0.0, y0), min(float(image.width), x1), min(float(image.height), y1))
    part = image.resize((max(1, min(size[0], round((inner[2] - inner[0]) * scale))),
                         max(1, min(size[1], round((inner[3] - inner[1]) * scale)))), LANCZOS, box=inner)
    offset = (min(size[0] - part.width, round((inner[0] - x0) * scale)),
              min(size[1] - part.height, round((inner[1] - y0) * scale)))
    return _on_canvas(part, plan.pad, size, offset)


def _on_canvas(part: Image.Image, colour: tuple[int, int, int, int], size: tuple[int, int],
               offset: tuple[int, int]) -> Image.Image:
    mode = "RGBA" if part.mode == "RGBA" or colour[3] < 255 else "RGB"
    canvas = Image.new(mode, size, colour if mode == "RGBA" else colour[:3])
    if mode == "RGBA":
        canvas.alpha_composite(part.convert("RGBA"), offset)
    else:
        canvas.paste(part, offset)
    return canvas


def fit_image(image: Image.Image, *, width: int, height: int, fit: str, crop: str = "center",
              pad_color: str = "#ffffff", allow_upscale: bool = True) -> tuple[Image.Image, dict[str, Any]]:
    """Resize to the settings; cover, pad and stretch give exactly width×height, contain fits inside.

    The info says what was done (crop box, padding and why, faces kept) and warns of enlargement past
    MAX_ENLARGEMENT (refused with `allow_upscale` false)."""
    info: dict[str, Any] = {}
    size, colour = (width, height), s.parse_color(pad_color)
    if fit == "stretch":
        factor, source = max(width / image.width, height / image.height), image.size
        result = image.resize(size, LANCZOS)
    elif fit == "cover":
        plan = (plan_smart(image, width / height, pad=colour) if crop == "smart"
                else CropPlan(anchored(image.size, width / height, crop)))
        info["crop_box"] = [round(v) for v in plan.box]
        if plan.faces:
            info["faces_kept"] = plan.faces
        if plan.reason:
            info["padded"] = plan.reason
            if plan.warn:  # the picture is not the crop that was asked for: the page shows why
                info.setdefault("warnings", []).append(f"Padded, not cropped: {plan.reason}.")
        factor, source = width / (plan.box[2] - plan.box[0]), (plan.box[2] - plan.box[0], plan.box[3] - plan.box[1])
        result = render(image, plan, size)
    else:
        factor, source = min(width / image.width, height / image.height), image.size
        fitted = (min(width, max(1, round(image.width * factor))), min(height, max(1, round(image.height * factor))))
        result = image.resize(fitted, LANCZOS)
        if fit == "pad":
            result = _on_canvas(result, colour, size, ((width - fitted[0]) // 2, (height - fitted[1]) // 2))
    warning = enlargement_check(factor, allow=allow_upscale, source=source, size=result.size)
    if warning:
        info["enlarged"] = round(factor, 2)
        info.setdefault("warnings", []).append(warning)
    return result, info


# --- resize ---------------------------------------------------------------------------------------

RESIZE_SCHEMA = s.obj({
    "width": s.integer("Width", order=1, minimum=1, maximum=MAX_SIDE, unit="px"),
    "height": s.integer("Height", order=2, minimum=1, maximum=MAX_SIDE, unit="px"),
    "fit": s.choice("Fit", FITS, order=3, default="cover"),
    "crop": s.choice("Crop position", CROPS, order=4, default="center", visible_if={"fit": ["cover"]},
                     description="Which part stays when cover crops; smart keeps faces whole and pads plain "
                                 "backgrounds (logos) with their color instead of cropping into them."),
    "pad_color": s.color("Padding color", order=5, default="#ffffff", visible_if={"fit": ["pad"]},
                         description="Add two hex digits of opacity for a transparent padding (e.g. #ffffff00)."),
    "allow_upscale": s.boolean("Allow enlargement", order=6, default=True,
                               description="Past 1.5× a picture looks soft: allowed with a warning on the result, "
                                           "or refused (the image fails with the reason)."),
}, required=("width", "height"))


def _resize(frame: Frame, params: dict[str, Any], ctx: OpContext) -> StepResult:
    _check_output(params["width"], params["height"], ctx)
    image, info = fit_image(frame.image, width=params["width"], height=params["height"], fit=params["fit"],
                            crop=params["crop"], pad_color=params["pad_color"],
                            allow_upscale=params["allow_upscale"])
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
    "pad_color": s.color("Padding color", order=4, default="#ffffff",
                         description="Fills the padding (a smart crop that cannot keep every face whole pads too; "
                                     "a plain background is padded with its own color)."),
    "allow_upscale": s.boolean("Allow enlargement", order=5, default=True,
                               description="Past 1.5× a picture looks soft: allowed with a warning on the result, "
                                           "or refused (the image fails with the reason)."),
    "format": s.choice("Output", [("auto", "Automatic: JPEG for photos, PNG for logos and transparency"),
                                  ("jpeg", "JPEG"), ("webp", "WebP"), ("png", "PNG")], order=6, default="auto"),
})


def _social(frame: Frame, params: dict[str, Any], ctx: OpContext) -> StepResult:
    label, width, height = SOCIAL_PRESETS[params["preset"]]
    image, info = fit_image(frame.image, width=width, height=height, fit=params["fit"], crop=params["crop"],
                            pad_color=params["pad_color"], allow_upscale=params["allow_upscale"])
    fmt = params["format"].upper() if params["format"] != "auto" else web_format(image, frame.format)
    return StepResult(replace(frame.with_image(image), format=fmt), {"preset": label, **info})


def _social_decode(params: dict[str, Any], size: tuple[int, int]) -> tuple[int, int]:
    _, width, height = SOCIAL_PRESETS[params["preset"]]
    return _resize_decode({"width": width, "height": height, "fit": params["fit"]}, size)


# --- upscale --------------------------------------------------------------------------------------

UPSCALE_SCHEMA = s.obj({
    "factor": s.choice("Factor", [(2, "2×"), (4, "4×")], order=1, default=2),
    "engine": s.choice("Engine", [("local", "Local: Lanczos + sharpening"),
                                  ("remote", "Connected AI upscaler (the upscale default: A1111, ComfyUI, fal "
                                              "or Replicate)")], order=2, default="local"),
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
    "background": s.color("Corner color", order=4, default="#ffffff",
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
              "pad with a color, or stretch.", "size", RESIZE_SCHEMA, _resize, decode_size=_resize_decode),
    Operation("social_preset", "Social media size", "Exact pixel sizes for Instagram, Facebook, LinkedIn, X, "
              "YouTube, Pinterest and Open Graph: cropped with faces kept whole, logos and plain backgrounds padded "
              "with their color, photos written as JPEG.", "size", SOCIAL_SCHEMA, _social,
              decode_size=_social_decode),
    Operation("upscale", "Upscale", "Enlarge 2× or 4×: Lanczos with sharpening locally, or super-resolution "
              "through a remote provider.", "enhance", UPSCALE_SCHEMA, _upscale, remote="upscale"),
    Operation("rotate_flip", "Rotate / flip", "Rotate by 90°, 180°, 270° or any angle and flip. Every operation "
              "already turns the picture upright from its EXIF orientation.", "size", ROTATE_SCHEMA, _rotate),
]
