"""Colour names for the local analyzer: the subject's colours, not the background's.

A photo's largest colour is usually its background (asphalt under a red motorcycle, the white card
under a logo). So each pixel is weighted by how central it is and by how far it is from the colours
that fill the picture's border, and the named colours are those of what stands out. A picture with
many strong hues and none leading (a colour wheel, a flower stall) is "multicolor".
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

# ~30 names people use, as sRGB, each with a tone (warm, cool, neutral) for the alt-text wording
# and a hue family (None for neutrals) for telling a multicoloured picture from a two-colour one.
PALETTE = (
    ("black", "121212", "n", None), ("dark gray", "4a4a4a", "n", None), ("gray", "8c8c8c", "n", None),
    ("light gray", "c8c8c8", "n", None), ("white", "f8f8f8", "n", None), ("red", "d42020", "w", "red"),
    ("dark red", "7f1416", "w", "red"), ("pink", "f4a6c0", "w", "pink"), ("magenta", "d6249f", "w", "pink"),
    ("coral", "f27b62", "w", "orange"), ("orange", "f08a1c", "w", "orange"), ("peach", "f9c9a2", "w", "orange"),
    ("yellow", "f6d80f", "w", "yellow"), ("light yellow", "f3e58c", "w", "yellow"), ("gold", "c9a227", "w", "yellow"),
    ("beige", "e6d7b8", "w", None), ("tan", "c4a27a", "w", None), ("brown", "7b4a26", "w", None),
    ("dark brown", "3f2817", "w", None), ("olive", "7d7a2a", "n", "green"), ("light green", "9bd67a", "c", "green"),
    ("green", "2f9a3a", "c", "green"), ("dark green", "176b2c", "c", "green"), ("teal", "1d8a8a", "c", "cyan"),
    ("turquoise", "3fd0c9", "c", "cyan"), ("light blue", "a6cfee", "c", "blue"), ("sky blue", "5aaee6", "c", "blue"),
    ("blue", "1f4fe0", "c", "blue"), ("navy", "1a2380", "c", "blue"), ("purple", "7b3aa0", "c", "purple"),
    ("lavender", "b9a3dc", "c", "purple"),
)
MULTICOLOR = "multicolor"
BORDER = 0.1  # the outer tenth on each side stands for the background
BACKGROUND_SHARE = 0.2  # a palette colour filling this much of the border is background
MIN_SUBJECT = 0.06  # less standing-out weight than this: the picture is all background (a lawn, a sky)
HUE_MIN_SHARE = 0.06  # a hue family counts towards "multicolor" from this share of the subject
MULTICOLOR_HUES = 4  # four hue families or more, none above MULTICOLOR_LEAD: multicolour
MULTICOLOR_LEAD = 0.45


def lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB (0-255, last axis) to CIE Lab (D65): distances there follow what people see as different."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    c = np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
    xyz = c @ np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]).T
    xyz /= np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


_PALETTE_LAB = lab(np.array([[int(h[i:i + 2], 16) for i in (0, 2, 4)] for _, h, _, _ in PALETTE]))
_TONES = {name: tone for name, _, tone, _ in PALETTE}


def nearest_name(hex_colour: str) -> str:
    """The palette name nearest to "#rrggbb" in Lab ("" for anything else)."""
    digits = hex_colour.lstrip("#")
    if len(digits) != 6 or any(c not in "0123456789abcdefABCDEF" for c in digits):
        return ""
    point = lab(np.array([int(digits[i:i + 2], 16) for i in (0, 2, 4)]))
    return PALETTE[int(((_PALETTE_LAB - point) ** 2).sum(axis=-1).argmin())][0]


def _centre_weights(height: int, width: int) -> np.ndarray:
    """1 in the middle falling to ~0.2 at the corners: subjects are framed towards the centre."""
    y = (np.arange(height) + 0.5) / height - 0.5
    x = (np.arange(width) + 0.5) / width - 0.5
    return np.exp(-(y[:, None] ** 2 + x[None, :] ** 2) / (2 * 0.3**2))


def subject_weights(nearest: np.ndarray, opaque: np.ndarray) -> np.ndarray:
    """Per-pixel weight of belonging to the subject: central, and not a colour the border is full of.

    `nearest` is each pixel's palette index on the (small) image grid; `opaque` marks pixels that count.
    Returns all zeros when nothing stands out, which callers read as "the picture is its background".
    """
    height, width = nearest.shape
    edge_y, edge_x = max(1, round(height * BORDER)), max(1, round(width * BORDER))
    border = np.zeros_like(opaque)
    border[:edge_y], border[-edge_y:], border[:, :edge_x], border[:, -edge_x:] = True, True, True, True
    border &= opaque
    counts = np.bincount(nearest[border], minlength=len(PALETTE))
    background = counts >= BACKGROUND_SHARE * max(1, border.sum())
    weights = _centre_weights(height, width) * opaque * ~background[nearest]
    total = (_centre_weights(height, width) * opaque).sum()
    return weights if total and weights.sum() >= MIN_SUBJECT * total else np.zeros_like(weights)


def name_colours(image: Image.Image, *, limit: int = 3, min_share: float = 0.08) -> list[dict[str, Any]]:
    """The subject's main named colours with their share of it, largest first ("multicolor" leads when
    many hues share the subject). Pictures with no standing-out subject get their overall colours.

    Pixels of a 64-px copy are quantised to the nearest palette colour in Lab: a fixed palette gives
    stable names (median cut would split one red into three shades) and costs ~1 ms.
    """
    small = image.convert("RGBA")
    small.thumbnail((64, 64), Image.Resampling.BOX)
    rgba = np.asarray(small)
    opaque = rgba[..., 3] >= 128  # transparent areas are not a colour of the picture
    if not opaque.any():
        return []
    rgb = rgba[..., :3]
    nearest = ((lab(rgb)[..., None, :] - _PALETTE_LAB) ** 2).sum(axis=-1).argmin(axis=-1)
    weights = subject_weights(nearest, opaque)
    if not weights.any():
        weights = opaque.astype(np.float64)
    counts = np.bincount(nearest.ravel(), weights=weights.ravel(), minlength=len(PALETTE))
    shares = counts / counts.sum()
    order = sorted(range(len(PALETTE)), key=lambda i: (-shares[i], i))  # index breaks ties: deterministic
    out: list[dict[str, Any]] = []
    for i in order[:limit]:
        if out and shares[i] < min_share:
            break
        chosen = (nearest == i) & (weights > 0)
        mean = rgb[chosen].mean(axis=0).round().astype(int)
        out.append({"name": PALETTE[i][0], "hex": "#{:02x}{:02x}{:02x}".format(*mean),
                    "share": round(float(shares[i]), 3)})
    families: dict[str, float] = {}
    for i, (_, _, _, family) in enumerate(PALETTE):
        if family:
            families[family] = families.get(family, 0.0) + float(shares[i])
    strong = [share for share in families.values() if share >= HUE_MIN_SHARE]
    if len(strong) >= MULTICOLOR_HUES and max(strong) <= MULTICOLOR_LEAD:
        out.insert(0, {"name": MULTICOLOR, "hex": "", "share": round(sum(strong), 3)})
    return out


def tone(colours: list[dict[str, Any]]) -> str:
    """'warm' or 'cool' when such colours clearly dominate the named ones, else ''."""
    warm, cool = (sum(c["share"] for c in colours if _TONES.get(c["name"]) == t) for t in ("w", "c"))
    return "warm" if warm >= max(0.25, 2 * cool) else "cool" if cool >= max(0.25, 2 * warm) else ""
