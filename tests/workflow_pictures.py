"""Pictures like the ones designers bring to workflows, made in memory: a product shot on a near-white
studio backdrop, a logo on a flat colour, a subject on a busy background, a portrait."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from tests import images
from tests.unit.test_vision_local import schematic_face

LOGO_BACKGROUND, LOGO_INK = (25, 70, 160), (250, 180, 40)


def _drawn(size: tuple[int, int], background: tuple[int, int, int],
           k: int = 4) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    """A canvas `k`× larger: shapes drawn on it and scaled down get anti-aliased edges, as real ones have."""
    big = Image.new("RGB", (size[0] * k, size[1] * k), background)
    return big, ImageDraw.Draw(big)


def product_on_white() -> bytes:
    """A 640×480 JPEG: a green bottle with a dark cap and an off-white label on a studio white that
    brightens towards the bottom, with sensor noise."""
    big, draw = _drawn((640, 480), (255, 255, 255))
    for box, fill, radius in (((270, 60, 370, 120), (30, 30, 35), 8), ((240, 110, 400, 440), (40, 95, 60), 30),
                              ((255, 220, 385, 330), (238, 233, 220), 6)):
        draw.rounded_rectangle([v * 4 for v in box], radius=radius * 4, fill=fill)
    pixels = np.asarray(big.resize((640, 480), Image.Resampling.LANCZOS)).astype(np.float32)
    backdrop = pixels.min(axis=2, keepdims=True) > 240
    pixels += np.linspace(-5, 0, 480)[:, None, None] * backdrop + np.random.default_rng(5).normal(0, 1.2, pixels.shape)
    return images.encode(Image.fromarray(pixels.clip(0, 255).astype(np.uint8)), "JPEG", quality=90)


# Regions of product_on_white: surely bottle, surely label, surely backdrop.
BOTTLE = (250, 140, 390, 210)
LABEL = (265, 230, 375, 320)
BACKDROP = ((0, 0, 220, 480), (420, 0, 640, 480), (0, 455, 640, 480))


def logo() -> bytes:
    """A 600×300 PNG: the letters O, I and L in orange on a flat blue, anti-aliased."""
    big, draw = _drawn((600, 300), LOGO_BACKGROUND)
    draw.ellipse((320, 240, 1040, 960), outline=LOGO_INK, width=144)  # O: ring 80..260 × 60..240, 36 px thick
    for box in ((320, 60, 360, 240), (400, 60, 440, 240), (400, 200, 520, 240)):
        draw.rectangle([v * 4 for v in box], fill=LOGO_INK)
    return images.encode(big.resize((600, 300), Image.Resampling.LANCZOS), "PNG")


LOGO_COUNTER = (150, 130, 190, 170)  # inside the O
LOGO_RING = (84, 140, 108, 160)  # the O's left stroke


def subject_on_busy_background(seed: int = 11) -> bytes:
    """A 640×480 JPEG: a head-and-shoulders shape in front of a cluttered, noisy scene."""
    image = images.photo(640, 480, seed=seed)
    draw = ImageDraw.Draw(image)
    draw.ellipse((250, 120, 390, 300), fill=(200, 160, 130))
    draw.rectangle((230, 290, 410, 480), fill=(60, 80, 120))
    return images.encode(image.filter(ImageFilter.GaussianBlur(1)), "JPEG", quality=90)


def gradient_backdrop(w: int, h: int, seed: int = 1) -> Image.Image:
    """A noisy blue gradient, top to bottom: a backdrop that is not one plain colour, as in photos."""
    rows = np.linspace(0, 1, h)[:, None, None]
    backdrop = np.array([70, 90, 120]) * (1 - rows) + np.array([120, 140, 170]) * rows
    backdrop = backdrop * np.ones((h, w, 1)) + np.random.default_rng(seed).normal(0, 4, (h, w, 3))
    return Image.fromarray(backdrop.clip(0, 255).astype(np.uint8))


def portrait_on_gradient() -> bytes:
    """A 480×600 JPEG: a face and shoulders (cut by the bottom of the frame) on a noisy blue gradient."""
    image = gradient_backdrop(480, 600)
    ImageDraw.Draw(image).ellipse((100, 460, 380, 760), fill=(150, 40, 40))
    face = schematic_face(300).crop((100, 60, 300, 340))
    mask = Image.new("L", face.size, 0)
    ImageDraw.Draw(mask).ellipse((10, 10, 190, 270), fill=255)
    image.paste(face, (140, 200), mask)
    return images.encode(image, "JPEG", quality=90)


def region(array: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    x0, y0, x1, y1 = box
    return array[y0:y1, x0:x1]
