"""Fonts shipped in assets/fonts (open licences, see its README) for watermarks and swatch labels."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

FONT_DIR = Path(__file__).resolve().parents[3] / "assets" / "fonts"
# The choices offered for watermarks: file → label. Files missing from a checkout are left out.
WATERMARK_FONTS = {
    "Inter-Bold.otf": "Inter Bold", "Inter-Regular.otf": "Inter", "Inter-Black.otf": "Inter Black",
    "LeagueSpartan-Bold.otf": "League Spartan Bold", "EBGaramond12-Regular.otf": "EB Garamond",
    "EBGaramond12-Italic.otf": "EB Garamond Italic", "Lato-Bold.ttf": "Lato Bold",
    "OpenSans-Bold.ttf": "Open Sans Bold", "Comfortaa-Bold.ttf": "Comfortaa Bold", "FiraCode-Regular.ttf": "Fira Code",
    "DejaVuSans-Bold.ttf": "DejaVu Sans Bold",
}


def available_fonts() -> list[tuple[str, str]]:
    """(file, label) for the watermark fonts present on disk, in offering order."""
    return [(name, label) for name, label in WATERMARK_FONTS.items() if (FONT_DIR / name).is_file()]


@lru_cache(maxsize=64)
def font(name: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A shipped font at `size` pixels; Pillow's built-in font when the file is missing (never fails)."""
    path = FONT_DIR / name
    if path.is_file():
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)
