"""Pixel operations: adjust (brightness, contrast, saturation, sharpness), blur faces, palette extraction."""

from __future__ import annotations

import json
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

from app.services.workflows import schema as s
from app.services.workflows.base import Frame, OpContext, Operation, OpOutput, StepResult
from app.services.workflows.codec import encode_image
from app.services.workflows.detect import Box, detect_faces
from app.services.workflows.fonts import font

# --- adjust ---------------------------------------------------------------------------------------

_FACTOR = {"minimum": 0, "maximum": 3, "default": 1, "description": "1 leaves it unchanged; 0.5 halves, 2 doubles."}
ADJUST_SCHEMA = s.obj({
    "brightness": s.number("Brightness", order=1, **_FACTOR),
    "contrast": s.number("Contrast", order=2, **_FACTOR),
    "saturation": s.number("Saturation", order=3, **{**_FACTOR, "description": "0 is black and white."}),
    "sharpness": s.number("Sharpness", order=4, **{**_FACTOR, "description": "Below 1 softens, above sharpens."}),
})
_ENHANCERS = (("brightness", ImageEnhance.Brightness), ("contrast", ImageEnhance.Contrast),
              ("saturation", ImageEnhance.Color), ("sharpness", ImageEnhance.Sharpness))


def _adjust(frame: Frame, params: dict[str, Any], ctx: OpContext) -> StepResult:
    changes = [(enhancer, float(params[name])) for name, enhancer in _ENHANCERS if params[name] != 1]
    if not changes:
        return StepResult(frame, {"unchanged": True})
    image = frame.image
    alpha = image.getchannel("A") if image.mode == "RGBA" else None  # enhance colour only, never opacity
    rgb = image.convert("RGB") if alpha is not None else image
    for enhancer, factor in changes:
        rgb = enhancer(rgb).enhance(factor)
    if alpha is not None:
        rgb.putalpha(alpha)
    return StepResult(frame.with_image(rgb))


# --- blur faces -----------------------------------------------------------------------------------

BLUR_SCHEMA = s.obj({
    "method": s.choice("Method", [("gaussian", "Blur"), ("pixelate", "Pixelate")], order=1, default="gaussian"),
    "strength": s.integer("Strength", order=2, minimum=1, maximum=100, default=60, unit="%",
                          description="How unrecognisable: blur radius or block size relative to the face."),
    "padding": s.integer("Margin around faces", order=3, minimum=0, maximum=100, default=25, unit="%",
                         description="Grow each detected face box so hair and ears are covered too."),
    "shape": s.choice("Shape", [("ellipse", "Oval"), ("rectangle", "Rectangle")], order=4, default="ellipse"),
    "profiles": s.boolean("Include side views", order=5, default=True,
                          description="Also look for faces seen from the side (slower, more false alarms)."),
})


def blur_regions(image: Image.Image, boxes: list[Box], *, method: str, strength: int, padding: int,
                 shape: str) -> Image.Image:
    """A copy of `image` with each box (grown by `padding` %) blurred or pixelated beyond recognition."""
    out = image.copy()
    for x0, y0, x1, y1 in boxes:
        grow_x, grow_y = (x1 - x0) * padding / 200, (y1 - y0) * padding / 200
        box = (max(0, round(x0 - grow_x)), max(0, round(y0 - grow_y)),
               min(image.width, round(x1 + grow_x)), min(image.height, round(y1 + grow_y)))
        w, h = box[2] - box[0], box[3] - box[1]
        if w < 2 or h < 2:
            continue
        region = image.crop(box)
        if method == "pixelate":
            blocks = max(2, round(16 - 14 * strength / 100))  # 100 % → 2 blocks across, 1 % → 16
            small = region.resize((blocks, max(2, round(blocks * h / w))), Image.Resampling.BOX)
            hidden = small.resize(region.size, Image.Resampling.NEAREST)
        else:
            hidden = region.filter(ImageFilter.GaussianBlur(max(2.0, min(w, h) * strength / 400)))
        mask = Image.new("L", region.size, 0)
        if shape == "ellipse":
            ImageDraw.Draw(mask).ellipse((0, 0, w - 1, h - 1), fill=255)
        else:
            mask.paste(255, (0, 0, w, h))
        out.paste(hidden, box[:2], mask)
    return out


def _blur_faces(frame: Frame, params: dict[str, Any], ctx: OpContext) -> StepResult:
    image = frame.image
    boxes = detect_faces(image, side=1280, profiles=params["profiles"])
    info = {"faces": len(boxes), "boxes": [list(b) for b in boxes]}
    if not boxes:
        return StepResult(frame, info)
    hidden = blur_regions(image, boxes, method=params["method"], strength=params["strength"],
                          padding=params["padding"], shape=params["shape"])
    return StepResult(frame.with_image(hidden), info)


# --- palette --------------------------------------------------------------------------------------

PALETTE_SCHEMA = s.obj({
    "colors": s.integer("Colors", order=1, minimum=2, maximum=16, default=6),
    "swatch_width": s.integer("Swatch width", order=2, minimum=100, maximum=4000, default=960, unit="px"),
    "swatch_height": s.integer("Swatch height", order=3, minimum=20, maximum=2000, default=200, unit="px"),
    "labels": s.boolean("Write hex codes on the swatch", order=4, default=True),
    "proportional": s.boolean("Size by share", order=5, default=False,
                              description="Each color's width follows how much of the picture it covers."),
})
SAMPLE_SIDE = 200  # 40,000 pixels describe a palette; nearest-neighbour sampling keeps real colours


def extract_palette(image: Image.Image, count: int) -> list[dict[str, Any]]:
    """The main colours by k-means in CIE Lab, largest share first: [{"hex", "rgb", "share"}, …].

    Each colour is the mean of the pixels in its cluster (in sRGB), so a flat area gives its exact value.
    Fully transparent pixels are not part of the picture and are ignored. Deterministic (fixed seed).
    """
    sample = image.convert("RGBA")
    if max(sample.size) > SAMPLE_SIDE:
        k = SAMPLE_SIDE / max(sample.size)
        sample = sample.resize((max(1, round(sample.width * k)), max(1, round(sample.height * k))),
                               Image.Resampling.NEAREST)
    pixels = np.asarray(sample).reshape(-1, 4)
    rgb = pixels[pixels[:, 3] >= 128][:, :3]
    if not len(rgb):
        return []
    distinct = np.unique(rgb, axis=0)
    count = min(count, len(distinct))
    lab = cv2.cvtColor(rgb.reshape(-1, 1, 3).astype(np.float32) / 255, cv2.COLOR_RGB2LAB).reshape(-1, 3)
    cv2.setRNGSeed(1234)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 30, 0.1)
    _, labels, _ = cv2.kmeans(lab, count, None, criteria, 3, cv2.KMEANS_PP_CENTERS)
    labels = labels.ravel()
    colours = []
    for cluster in range(count):
        members = rgb[labels == cluster]
        if not len(members):
            continue
        mean = tuple(int(v) for v in members.mean(axis=0).round())
        colours.append({"hex": "#{:02x}{:02x}{:02x}".format(*mean), "rgb": list(mean),
                        "share": round(len(members) / len(rgb), 4)})
    return sorted(colours, key=lambda c: (-c["share"], c["hex"]))


def swatch(colours: list[dict[str, Any]], *, width: int, height: int, labels: bool, proportional: bool) -> Image.Image:
    """Blocks of the colours side by side, each optionally labelled with its hex code in a readable ink."""
    image = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    total = sum(c["share"] for c in colours) or 1
    x = 0.0
    for i, colour in enumerate(colours):
        span = width * (colour["share"] / total if proportional else 1 / len(colours))
        x1 = width if i == len(colours) - 1 else round(x + span)
        draw.rectangle((round(x), 0, x1, height), fill=tuple(colour["rgb"]))
        if labels and x1 - round(x) >= 40:
            r, g, b = colour["rgb"]
            ink = (20, 20, 20) if 0.299 * r + 0.587 * g + 0.114 * b > 150 else (245, 245, 245)
            face = font("Inter-Bold.otf", max(8, min(height // 6, round((x1 - x) / 7))))
            draw.text(((x + x1) / 2, height - height * 0.12), colour["hex"].upper(), font=face, fill=ink, anchor="ms")
        x += span
    return image


def _palette(frame: Frame, params: dict[str, Any], ctx: OpContext) -> StepResult:
    colours = extract_palette(frame.image, params["colors"])
    image = swatch(colours, width=params["swatch_width"], height=params["swatch_height"], labels=params["labels"],
                   proportional=params["proportional"])
    document = json.dumps({"colours": colours}, indent=2).encode()
    extra = OpOutput(data=document, mime="application/json", ext="json", width=0, height=0, info={"kind": "palette"})
    swatch_frame = Frame(format="PNG", encoded=encode_image(image, "PNG"), _image=image)
    return StepResult(swatch_frame, {"colours": colours}, [extra])


OPERATIONS = [
    Operation("adjust", "Adjust", "Brightness, contrast, saturation and sharpness.", "enhance", ADJUST_SCHEMA,
              _adjust),
    Operation("blur_faces", "Blur faces", "Find faces (front and side views) and blur or pixelate them.",
              "privacy", BLUR_SCHEMA, _blur_faces),
    Operation("palette", "Color palette", "The main colors with hex codes and shares, as a swatch image and a "
              "JSON file.", "analysis", PALETTE_SCHEMA, _palette),
]
