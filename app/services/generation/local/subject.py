"""The prompt's subject, drawn: "a red sneaker" gets a sneaker, "balloons for a birthday" balloons.

The local design engine cannot draw anything it has no picture of, so it draws what an open-licence icon set
has: Fluent Emoji Flat (MIT, Microsoft; 1,356 things, assets/icons/, built by scripts/build_icons.py) found
through each icon's own name and emojilib's keywords (MIT). A prompt whose subject is not in the set gets
no subject (and `Design.subject` says so) rather than a shape dressed up as one.
"""

from __future__ import annotations

import gzip
import json
from functools import cache
from pathlib import Path

import cv2
import numpy as np
import resvg_py

from app.services.generation.local.lexicon import (
    LAYOUT_WORDS,
    MOODS,
    NAMED,
    NEGATORS,
    SCENE_WORDS,
    STYLE_WORDS,
    THEMES,
)
from app.services.generation.local.palette import BAN_HALF_WIDTH, oklab_to_srgb, srgb_to_oklab
from app.services.generation.local.shapes import Scene, paint

ICONS = Path(__file__).resolve().parents[4] / "assets" / "icons"

# Words that describe a picture rather than name what is in it: they never choose the subject by keyword
# ("happy" would bring a smiley, "red" a red circle, "logo" a theatre mask).
_DESCRIPTIVE = {
    "a", "an", "the", "of", "with", "and", "or", "in", "on", "at", "for", "to", "from", "by", "into", "over",
    "under", "this", "that", "my", "our", "your", "its", "some", "very", "new", "old", "big", "small", "little",
    "large", "tiny", "giant", "cute", "happy", "sad", "beautiful", "pretty", "cool", "nice", "modern", "simple",
    "minimal", "clean", "abstract", "vintage", "retro", "bright", "dark", "light", "soft", "bold", "elegant",
    "calm", "fresh", "warm", "cold", "hot", "top", "best", "good", "great", "design", "image", "picture",
    "photo", "illustration", "background", "style", "art", "logo", "icon", "poster", "card", "banner", "cover",
    "flat", "vector", "render", "realistic", "detailed", "high", "quality", "hd", "4k", "view", "close", "up",
    "shot", "studio", "product", "front", "side", "back", "left", "right", "center", "centre", "one", "two",
    "three", "lot", "lots", "many", "few", "made", "make", "like", "looking", "face", "faces", "sign", "symbol",
}
# Colour themes that are things as well ("coffee shop", "a chocolate bar"): they colour the design and may be
# its subject; the other themes (sunset, ocean, 70s…) are atmospheres.
_THINGS = {"berry", "candy", "chocolate", "coffee", "espresso", "fire", "ice", "matcha", "rainbow", "wedding",
           "christmas", "halloween", "jazz", "galaxy"}
_NOT_SUBJECTS = (_DESCRIPTIVE | set(NEGATORS) | set(NAMED) | (set(THEMES) - _THINGS) | set(MOODS)
                 | {w for ws in STYLE_WORDS.values() for w in ws.split()}
                 | {w for ws in LAYOUT_WORDS.values() for w in ws.split()}
                 | {w for ws in SCENE_WORDS.values() for w in ws.split()})  # scenes are drawn by their families


@cache
def _icons() -> dict[str, str]:
    return json.loads(gzip.decompress((ICONS / "fluent-emoji-flat.json.gz").read_bytes()))["icons"]


@cache
def _index() -> dict[str, list[str]]:
    return json.loads((ICONS / "keywords.json").read_text())


def preload() -> None:
    """Read the icon set and its index now (the worker calls this before forking)."""
    _icons()
    _index()


def _forms(word: str) -> list[str]:
    """The word and its singular ("balloons" → balloon, "cherries" → cherry, "boxes" → box)."""
    forms = [word]
    if word.endswith("ies") and len(word) > 4:
        forms.append(word[:-3] + "y")
    if word.endswith("es") and len(word) > 3:
        forms.append(word[:-2])
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        forms.append(word[:-1])
    return forms


# The icon a word means when emojilib's keyword lists are ambiguous ("coffee" is first a brown heart there).
_PREFERRED = {"coffee": "hot-beverage", "espresso": "hot-beverage", "latte": "hot-beverage", "cafe": "hot-beverage",
              "tea": "teacup-without-handle", "matcha": "teacup-without-handle", "bike": "bicycle",
              "cycling": "bicycle", "car": "automobile", "phone": "mobile-phone", "laptop": "laptop",
              "headshot": "bust-in-silhouette", "portrait": "bust-in-silhouette", "music": "musical-notes",
              "jazz": "saxophone", "fire": "fire", "ice": "ice", "wedding": "wedding", "shop": "shopping-bags",
              "store": "shopping-bags", "bakery": "bread", "pizza": "pizza", "book": "open-book",
              "books": "books", "plant": "potted-plant", "flower": "tulip", "flowers": "bouquet",
              "galaxy": "milky-way", "gift": "wrapped-gift", "party": "party-popper", "heart": "red-heart"}


def find_subject(words: list[str]) -> str:
    """The icon for the prompt's subject, or "" when the set has none. An icon named exactly like a word
    ("cat", "motorcycle") wins over a two-word name ("running shoe"), which wins over a keyword ("sneaker");
    earlier words win ties, so "a cat with a balloon" draws the cat."""
    icons, index = _icons(), _index()
    best: tuple[int, int, str] | None = None
    for position, word in enumerate(words):
        if word in _NOT_SUBJECTS or (position and words[position - 1] in NEGATORS):  # "no cats": not a cat
            continue
        for form in _forms(word):
            if form in _NOT_SUBJECTS:
                continue
            found: tuple[int, str] | None = None
            following = words[position + 1] if position + 1 < len(words) else ""
            if following and f"{form}-{following}" in icons:
                found = (0, f"{form}-{following}")
            elif form in icons:
                found = (1, form)
            elif following and any(f"{form}-{f}" in icons for f in _forms(following)):
                found = (0, next(f"{form}-{f}" for f in _forms(following) if f"{form}-{f}" in icons))
            elif _PREFERRED.get(form) in icons:
                found = (2, _PREFERRED[form])
            elif index.get(form):
                found = (2, index[form][0])
            if found and (best is None or (found[0], position) < best[:2]):
                best = (found[0], position, found[1])
            if found:
                break
    return best[2] if best else ""


def icon_rgba(name: str, size: int, angle: float = 0.0) -> np.ndarray:
    """The icon rendered at size × size, turned by `angle` degrees on a canvas 30 % wider so the corners stay
    (resvg turns it while rasterising, sharper and cheaper than turning pixels): float32 (4, s, s), straight
    alpha, sRGB 0..1."""
    icon = _icons()[name]
    vw, vh = icon.get("width", 32), icon.get("height", 32)
    pad = 0.15 * max(vw, vh) if angle else 0.0
    side = round(size * (1 + 2 * pad / max(vw, vh)))
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{side}" height="{side}" '
           f'viewBox="{-pad} {-pad} {vw + 2 * pad} {vh + 2 * pad}">'
           f'<g transform="rotate({angle:.2f} {vw / 2} {vh / 2})">{icon["body"]}</g></svg>')
    png = resvg_py.svg_to_bytes(svg_string=svg, width=side, height=side)
    rgba = cv2.imdecode(np.frombuffer(bytes(png), np.uint8), cv2.IMREAD_UNCHANGED)  # BGRA
    return rgba[:, :, [2, 1, 0, 3]].transpose(2, 0, 1).astype(np.float32) / 255.0


def recolour(rgba: np.ndarray, banned_hues: list[float], hue: float) -> np.ndarray:
    """The icon with every colour near a banned hue ("no red") turned to `hue`, lightness and chroma kept:
    "roses, no red" gets roses, in the palette's colour."""
    rgb = rgba[:3].reshape(3, -1).T
    lab = srgb_to_oklab(rgb)
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    angle = np.degrees(np.arctan2(lab[:, 2], lab[:, 1])) % 360
    hit = np.zeros(len(lab), bool)
    for banned in banned_hues:
        hit |= (chroma > 0.03) & (np.abs((angle - banned + 180) % 360 - 180) <= BAN_HALF_WIDTH)
    if not hit.any():
        return rgba
    turned = np.radians(hue)
    lab[hit, 1], lab[hit, 2] = chroma[hit] * np.cos(turned), chroma[hit] * np.sin(turned)
    out = rgba.copy()
    out[:3] = oklab_to_srgb(lab).T.reshape(rgba[:3].shape).astype(np.float32)
    return out


def draw_subject(scene: Scene, name: str, box: tuple[int, int, int, int], *,
                 banned_hues: list[float] | None = None) -> tuple[int, int, int, int]:
    """Draw the icon as the design's hero inside `box`, with a seeded size, nudge and tilt and a soft
    shadow in the palette's darkest colour; returns where it landed (x0, y0, x1, y1)."""
    rng = scene.rng
    x0, y0, x1, y1 = box
    room = min(x1 - x0, y1 - y0)
    size = max(16, int(room * float(rng.uniform(0.72, 0.92))))
    cx = (x0 + x1) / 2 + float(rng.uniform(-0.5, 0.5)) * (x1 - x0 - size)
    cy = (y0 + y1) / 2 + float(rng.uniform(-0.5, 0.5)) * (y1 - y0 - size)
    angle = float(rng.uniform(-9, 9))
    rgba = icon_rgba(name, size, angle if abs(angle) > 1 else 0.0)
    if banned_hues:
        rgba = recolour(rgba, banned_hues, scene.palette.hue)
    side = rgba.shape[1]
    left, top = round(cx - side / 2), round(cy - side / 2)
    # The shadow: the alpha blurred at a quarter of the size (the same look, a hundredth of the time).
    quarter = cv2.resize(rgba[3], None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    shade = cv2.resize(cv2.GaussianBlur(quarter, (0, 0), sigmaX=max(0.5, size * 0.035 / 4)), (side, side),
                       interpolation=cv2.INTER_LINEAR)
    drop = max(1, int(size * 0.03))
    paint(scene.img, (shade, left + drop, top + 2 * drop), scene.palette.dark, opacity=0.28)
    over(scene.img, rgba, left, top)
    return left, top, left + side, top + side


def over(img: np.ndarray, rgba: np.ndarray, left: int, top: int) -> None:
    """Straight-alpha "over" of a planar RGBA onto the planar canvas, clipped to it."""
    _, h, w = img.shape
    side_h, side_w = rgba.shape[1:]
    x0, y0, x1, y1 = max(left, 0), max(top, 0), min(left + side_w, w), min(top + side_h, h)
    if x1 <= x0 or y1 <= y0:
        return
    part = rgba[:, y0 - top:y1 - top, x0 - left:x1 - left]
    canvas = img[:, y0:y1, x0:x1]
    canvas += (part[:3] - canvas) * part[3]
