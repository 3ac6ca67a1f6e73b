"""Real image files made on the fly for tests and benchmarks (no binary fixtures to rot)."""

from __future__ import annotations

import io
import random
import struct
import zlib

import numpy as np
from PIL import Image, ImageDraw


def photo(width: int = 640, height: int = 480, seed: int = 0) -> Image.Image:
    """A photo-like picture: a gradient sky, noise and shapes, different for every seed."""
    rng = random.Random(seed)
    base = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    tint = Image.new("RGB", (width, height), tuple(rng.randrange(40, 220) for _ in range(3)))
    image = Image.blend(base, tint, 0.6)
    # Seeded noise (Pillow's effect_noise is not seedable): the same seed gives the same bytes.
    gray = np.random.default_rng(seed).normal(128, 40, (height, width)).clip(0, 255).astype(np.uint8)
    noise = Image.fromarray(gray, "L").convert("RGB")
    image = Image.blend(image, noise, 0.15)
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.randrange(width), rng.randrange(height)
        r = rng.randrange(10, max(11, width // 6))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rng.randrange(256) for _ in range(3)))
    return image


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def jpeg(width: int = 640, height: int = 480, seed: int = 0, exif: bytes | None = None) -> bytes:
    options = {"quality": 90}
    if exif:
        options["exif"] = exif
    return encode(photo(width, height, seed), "JPEG", **options)


def png(width: int = 320, height: int = 240, seed: int = 0) -> bytes:
    return encode(photo(width, height, seed).convert("RGBA"), "PNG")


def pixel_flood_png(width: int = 60000, height: int = 60000) -> bytes:
    """A tiny PNG whose header claims billions of pixels (a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    # One compressed row of zeros repeated: a few KB that would inflate to gigabytes.
    body = zlib.compress(b"\x00" * (width + 1) * 64, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def exif_with_orientation(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "Atelier Test Camera Co"
    exif[0x0110] = "Model T"
    return exif.tobytes()
