"""Watermark: a text or a logo (an asset's bytes, resolved by the caller) at an anchor or tiled."""

from __future__ import annotations

import math
from typing import Any

from PIL import Image, ImageDraw, ImageFilter

from app.services.assets.images import ImageRejected
from app.services.workflows import schema as s
from app.services.workflows.base import Frame, OpContext, Operation, OperationFailed, StepResult
from app.services.workflows.codec import load_frame
from app.services.workflows.fonts import available_fonts, font

POSITIONS = [("top-left", "Top left"), ("top", "Top center"), ("top-right", "Top right"), ("left", "Middle left"),
             ("center", "Center"), ("right", "Middle right"), ("bottom-left", "Bottom left"),
             ("bottom", "Bottom center"), ("bottom-right", "Bottom right"), ("tiled", "Tiled over the image")]
MAX_LOGO_PIXELS = 25_000_000
MAX_TILES = 400  # a 1 %-wide mark tiled over a poster would otherwise mean tens of thousands of pastes

_FONTS = available_fonts() or [("Inter-Bold.otf", "Inter Bold")]
WATERMARK_SCHEMA = s.obj({
    "kind": s.choice("Watermark", [("text", "Text"), ("logo", "Logo")], order=1, default="text"),
    "text": s.text("Text", order=2, min_length=1, max_length=200, visible_if={"kind": ["text"]}),
    "logo": s.text("Logo", order=3, min_length=1, max_length=200, visible_if={"kind": ["logo"]},
                   description="An image from your library (PNG with transparency works best)."),
    "font": s.choice("Font", _FONTS, order=4, default=_FONTS[0][0], visible_if={"kind": ["text"]}),
    "color": s.color("Text color", order=5, default="#ffffff", visible_if={"kind": ["text"]}),
    "shadow": s.boolean("Shadow", order=6, default=True, visible_if={"kind": ["text"]},
                        description="A soft dark shadow keeps light text readable on light areas."),
    "position": s.choice("Position", POSITIONS, order=7, default="bottom-right"),
    "opacity": s.integer("Opacity", order=8, minimum=1, maximum=100, default=60, unit="%"),
    "scale": s.integer("Width", order=9, minimum=1, maximum=100, default=25, unit="% of image width"),
    "margin": s.integer("Margin", order=10, minimum=0, maximum=25, default=3, unit="% of the short side"),
    "angle": s.integer("Angle", order=11, minimum=-90, maximum=90, default=0, unit="°",
                       description="Counter-clockwise tilt; tiled marks often use 30."),
}, when=(("kind", "text", ("text",)), ("kind", "logo", ("logo",))))


def text_mark(text: str, *, width: int, font_name: str, color: str, shadow: bool) -> Image.Image:
    """`text` rendered `width` pixels wide on one line (RGBA, transparent around it)."""
    text = " ".join(text.split())  # line breaks would break the measuring; a watermark is one line
    reference = font(font_name, 100)
    left, top, right, bottom = reference.getbbox(text)
    size = max(6, min(2000, round(100 * width / max(1, right - left))))
    face = font(font_name, size)
    left, top, right, bottom = face.getbbox(text)
    pad = max(2, size // 12)
    mark = Image.new("RGBA", (right - left + 2 * pad, bottom - top + 2 * pad), (0, 0, 0, 0))
    origin = (pad - left, pad - top)
    if shadow:
        shade = Image.new("RGBA", mark.size, (0, 0, 0, 0))
        ImageDraw.Draw(shade).text((origin[0] + pad / 3, origin[1] + pad / 3), text, font=face, fill=(0, 0, 0, 150))
        mark = Image.alpha_composite(mark, shade.filter(ImageFilter.GaussianBlur(pad / 2)))
    ImageDraw.Draw(mark).text(origin, text, font=face, fill=s.parse_color(color))
    return mark


def logo_mark(data: bytes, *, width: int) -> Image.Image:
    """The logo's pixels (RGBA) scaled to `width` pixels wide, keeping its aspect."""
    try:
        logo = load_frame(data, max_pixels=MAX_LOGO_PIXELS).image.convert("RGBA")
    except ImageRejected as exc:
        raise OperationFailed(f"The watermark logo cannot be used: {exc.message}", code="logo_unusable") from exc
    height = max(1, round(logo.height * width / logo.width))
    return logo.resize((width, height), Image.Resampling.LANCZOS)


def _placements(size: tuple[int, int], mark: tuple[int, int], position: str, margin: int) -> list[tuple[int, int]]:
    (w, h), (mw, mh) = size, mark
    if position == "tiled":
        step_x, step_y = mw + max(margin, mw // 2), mh + max(margin, mh)
        while math.ceil(w / step_x + 1) * math.ceil(h / step_y + 1) > MAX_TILES:
            step_x, step_y = round(step_x * 1.2), round(step_y * 1.2)
        spots = []
        for row, y in enumerate(range(-mh // 2, h, step_y)):
            shift = (step_x // 2) * (row % 2)  # brick pattern: no straight columns to crop out
            spots += [(x + shift, y) for x in range(-mw // 2 - step_x // 2, w, step_x)]
        return spots
    vertical, _, horizontal = position.partition("-") if "-" in position else (position, "", position)
    x = {"left": margin, "right": w - mw - margin}.get(horizontal, (w - mw) // 2)
    y = {"top": margin, "bottom": h - mh - margin}.get(vertical, (h - mh) // 2)
    return [(x, y)]


def _watermark(frame: Frame, params: dict[str, Any], ctx: OpContext) -> StepResult:
    image = frame.image
    width = max(1, round(image.width * params["scale"] / 100))
    if params["kind"] == "logo":
        data = ctx.assets.get(params["logo"])
        if data is None:
            raise OperationFailed(f"The watermark logo “{params['logo']}” was not provided.", code="logo_missing")
        mark = logo_mark(data, width=width)
    else:
        mark = text_mark(params["text"], width=width, font_name=params["font"], color=params["color"],
                         shadow=params["shadow"])
    if params["angle"]:
        mark = mark.rotate(params["angle"], resample=Image.Resampling.BICUBIC, expand=True)
    if params["opacity"] < 100:
        mark.putalpha(mark.getchannel("A").point(lambda a: round(a * params["opacity"] / 100)))
    margin = round(min(image.size) * params["margin"] / 100)
    out = image.convert("RGBA")
    spots = _placements(out.size, mark.size, params["position"], margin)
    for x, y in spots:
        # Clip to the canvas: alpha_composite only draws where the mark is, so the rest stays byte-identical.
        sx, sy = max(0, -x), max(0, -y)
        right, bottom = min(mark.width, out.width - x), min(mark.height, out.height - y)
        if right > sx and bottom > sy:
            out.alpha_composite(mark, dest=(x + sx, y + sy), source=(sx, sy, right, bottom))
    result = out if image.mode == "RGBA" else out.convert("RGB")
    return StepResult(frame.with_image(result), {"marks": len(spots), "mark_size": list(mark.size)})


OPERATIONS = [
    Operation("watermark", "Watermark", "Add a text or a logo at a corner, an edge, the center, or tiled, with "
              "opacity, size and margin.", "brand", WATERMARK_SCHEMA, _watermark,
              asset_refs=lambda params: [params["logo"]] if params["kind"] == "logo" else []),
]
