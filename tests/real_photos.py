"""Real photographs (public domain and CC0, see tests/data/photos/LICENSES.md) under camera-style names."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

FOLDER = Path(__file__).resolve().parent / "data" / "photos"
CAT = "DSC_4100.jpg"  # a tabby cat, close-up, 451×300
ASTRONAUT = "DSC_4101.jpg"  # a NASA portrait, 512×512
COFFEE = "DSC_4102.jpg"  # a cup of coffee on wood, 600×400
ROCKET = "DSC_4103.jpg"  # a launch, 640×427
# The cat's eyes in DSC_4100.jpg (x0, y0, x1, y1), measured by eye on the picture.
CAT_EYES = ((135, 85, 210, 145), (295, 110, 345, 162))


def path(name: str) -> Path:
    return FOLDER / name


def read(name: str) -> bytes:
    return path(name).read_bytes()


def image(name: str) -> Image.Image:
    with Image.open(path(name)) as opened:
        return opened.convert("RGB")
