"""Photo-like test scenes with camera-style names, drawn with Pillow (no binary fixtures, no downloads).

Each scene is what a designer drops on the renamer: a subject against a background that is not it
(a red motorcycle on asphalt, a logo on white), texture that tempts OCR into noise (grass, brick),
real lettering in the fonts we ship (assets/fonts), a colour wheel. `TEXT` is what a reader should
find in each, so OCR precision can be measured.
"""

from __future__ import annotations

import colorsys
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from tests.images import encode

FONTS = Path(__file__).resolve().parent.parent / "assets" / "fonts"


def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONTS / name), size)


def _noise(width: int, height: int, seed: int, spread: float) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, spread, (height, width, 1))


def _textured(width: int, height: int, rgb: tuple[int, int, int], *, seed: int, spread: float = 18) -> Image.Image:
    """A flat colour with sensor-like noise and a soft vertical light falloff."""
    light = np.linspace(1.08, 0.88, height)[:, None, None]
    pixels = np.array(rgb, dtype=float)[None, None, :] * light + _noise(width, height, seed, spread)
    return Image.fromarray(pixels.clip(0, 255).astype(np.uint8), "RGB")


def red_motorcycle(width: int = 1600, height: int = 1067) -> Image.Image:
    """A red motorcycle (tank, fairing, seat, black wheels, chrome) parked on grey asphalt."""
    image = _textured(width, height, (112, 112, 116), seed=412, spread=22)
    draw = ImageDraw.Draw(image)
    k = width / 1600
    draw.rectangle((0, int(280 * k), width, int(300 * k)), fill=(200, 200, 190))  # a kerb line behind
    for cx in (560, 1060):  # wheels: tyre, rim, hub
        for r, fill in ((170, (25, 25, 28)), (120, (70, 70, 75)), (40, (190, 190, 195))):
            draw.ellipse([v * k for v in (cx - r, 720 - r, cx + r, 720 + r)], fill=fill)
    draw.polygon([(v[0] * k, v[1] * k) for v in ((520, 560), (700, 420), (980, 400), (1140, 520), (1100, 640),
                                                  (640, 660))], fill=(205, 28, 32))  # fairing and tank
    draw.ellipse([v * k for v in (700, 360, 960, 470)], fill=(222, 36, 40))
    draw.rectangle([v * k for v in (860, 370, 1020, 410)], fill=(30, 28, 28))  # seat
    draw.line([(v[0] * k, v[1] * k) for v in ((560, 720), (700, 560), (1060, 720))], fill=(200, 200, 205),
              width=int(18 * k))
    return image.filter(ImageFilter.GaussianBlur(1.2 * k))


def grass(width: int = 1600, height: int = 1067) -> Image.Image:
    """A lawn close up: thousands of blades in many greens, the texture that OCR turns into words."""
    image = _textured(width, height, (58, 112, 40), seed=2001, spread=20)
    draw = ImageDraw.Draw(image)
    rng = np.random.default_rng(2001)
    for _ in range(9000):
        x, y = rng.integers(0, width), rng.integers(0, height)
        length, lean = rng.integers(12, 45), rng.normal(0, 6)
        shade = tuple(int(v) for v in (rng.integers(30, 110), rng.integers(90, 190), rng.integers(20, 70)))
        draw.line((x, y, x + lean, y - length), fill=shade, width=int(rng.integers(1, 4)))
    return image


def logo_on_white(width: int = 1400, height: int = 1400) -> Image.Image:
    """A product shot of a logo: a blue mark and the word ACME on a white card."""
    image = _textured(width, height, (246, 246, 244), seed=7, spread=3)
    draw = ImageDraw.Draw(image)
    draw.ellipse((500, 300, 900, 700), fill=(24, 72, 200))
    draw.polygon([(700, 380), (800, 620), (600, 620)], fill=(246, 246, 244))
    draw.text((700, 900), "ACME", fill=(24, 72, 200), font=font("Inter-Bold.otf", 230), anchor="mm")
    return image


def bakery_sign(width: int = 1800, height: int = 1200) -> Image.Image:
    """A shop front: a dark sign with lettering over a brick wall."""
    image = _textured(width, height, (150, 78, 54), seed=2002, spread=16)
    draw = ImageDraw.Draw(image)
    for row, y in enumerate(range(0, height, 60)):  # mortar courses, staggered joints
        draw.line((0, y, width, y), fill=(190, 180, 165), width=6)
        for x in range((row % 2) * 70, width, 140):
            draw.line((x, y, x, y + 60), fill=(190, 180, 165), width=6)
    draw.rectangle((250, 330, 1550, 800), fill=(28, 40, 34))
    draw.text((900, 470), "FRESH BREAD", fill=(240, 226, 180), font=font("Lato-Bold.ttf", 150), anchor="mm")
    draw.text((900, 660), "Bakery", fill=(240, 226, 180), font=font("EBGaramond12-Bold.otf", 130), anchor="mm")
    return image.filter(ImageFilter.GaussianBlur(0.8))


def colour_wheel(size: int = 1200) -> Image.Image:
    """Twelve hue segments around a white centre, on black: many colours, no one of them the subject."""
    image = Image.new("RGB", (size, size), (10, 10, 10))
    draw = ImageDraw.Draw(image)
    box = (size * 0.1, size * 0.1, size * 0.9, size * 0.9)
    for i in range(12):
        r, g, b = colorsys.hsv_to_rgb(i / 12, 0.9, 0.95)
        draw.pieslice(box, i * 30 - 90, (i + 1) * 30 - 90, fill=(int(r * 255), int(g * 255), int(b * 255)))
    draw.ellipse((size * 0.4, size * 0.4, size * 0.6, size * 0.6), fill=(245, 245, 245))
    return image


def beach_sunset(width: int = 1800, height: int = 1200) -> Image.Image:
    """An orange sky over a blue sea with the sun low on the horizon."""
    sky = np.linspace([250, 150, 60], [250, 200, 120], height // 2)
    sea = np.linspace([40, 90, 150], [20, 50, 100], height - height // 2)
    pixels = np.concatenate([sky, sea])[:, None, :].repeat(width, axis=1) + _noise(width, height, 5, 6)
    image = Image.fromarray(pixels.clip(0, 255).astype(np.uint8), "RGB")
    ImageDraw.Draw(image).ellipse((width / 2 - 90, height / 2 - 120, width / 2 + 90, height / 2 + 60),
                                  fill=(255, 230, 150))
    return image


def mountain_panorama(width: int = 3600, height: int = 1200) -> Image.Image:
    """A wide mountain range under a pale sky (3:1)."""
    image = _textured(width, height, (170, 200, 230), seed=9, spread=5)
    draw = ImageDraw.Draw(image)
    ridge = [(x, 600 - 250 * abs(math.sin(x / 420)) - 80 * math.sin(x / 97)) for x in range(0, width + 40, 40)]
    draw.polygon([(0, height), *ridge, (width, height)], fill=(80, 95, 110))
    return image


# name as a camera writes it → (scene, the words a reader should find in it)
SCENES = {
    "DSC_0412.jpg": (red_motorcycle, set()),
    "IMG_2001.JPG": (grass, set()),
    "PXL_20240501_101112.jpg": (logo_on_white, {"acme"}),
    "IMG_2002.JPG": (bakery_sign, {"fresh", "bread", "bakery"}),
    "DSC_0007.JPG": (colour_wheel, set()),
    "beach-sunset-2.jpg": (beach_sunset, set()),
    "DJI_0042.JPG": (mountain_panorama, set()),
}


def scene_bytes(name: str) -> bytes:
    """The named scene as a JPEG, as a camera would hand it over."""
    return encode(SCENES[name][0](), "JPEG", quality=88)
