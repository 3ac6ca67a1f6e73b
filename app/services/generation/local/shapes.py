"""Raster primitives for the local design engine: gradients, noise, anti-aliased shapes, compositing.

Images are planar float32 arrays (3, height, width) of sRGB in 0..1: blending a one-channel mask into
three contiguous planes is several times faster than into interleaved (height, width, 3) pixels.
Smooth things (gradients, blurs, noise) are computed at low resolution and scaled up, which costs almost
nothing and looks the same. Shapes are drawn only over their bounding box, with analytic coverage
(discs) or OpenCV's anti-aliased fill at 1/16-pixel precision (polygons), so edges stay crisp without
supersampling the whole canvas.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from app.services.generation.local.palette import (
    RGB,
    Palette,
    oklab_to_srgb,
    srgb_to_oklab,
)

Mask = tuple[np.ndarray, int, int]  # coverage 0..1 (float32) and the (x, y) of its top-left corner
LOW_RES = 160  # long side of the grid smooth fields are computed on



def planar(hwc: np.ndarray) -> np.ndarray:
    """(h, w, 3) → (3, h, w), contiguous."""
    return np.ascontiguousarray(hwc.transpose(2, 0, 1))


def _low_grid(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Normalised x (0..1) and y (0..height/width) coordinates of a small grid with the canvas' aspect."""
    scale = LOW_RES / max(width, height)
    gw, gh = max(2, round(width * scale)), max(2, round(height * scale))
    ys, xs = np.mgrid[0:gh, 0:gw].astype(np.float32)
    return xs / (gw - 1), ys / (gh - 1) * (height / width)


def _up(field: np.ndarray, width: int, height: int) -> np.ndarray:
    return cv2.resize(field.astype(np.float32), (width, height), interpolation=cv2.INTER_CUBIC)


def mix(a: RGB, b: RGB, t: float) -> RGB:
    """`a` moved towards `b` by t (0..1), through OKLab."""
    r, g, bl = (float(x) for x in colour_ramp(np.array([t]), [a, b])[0])
    return (r, g, bl)


def colour_ramp(t: np.ndarray, stops: Sequence[RGB]) -> np.ndarray:
    """Colours along `stops` for t in 0..1, interpolated in OKLab (no muddy midpoints)."""
    labs = srgb_to_oklab(np.array(stops, dtype=np.float64))
    pos = np.clip(t, 0, 1) * (len(stops) - 1)
    i = np.minimum(pos.astype(np.int32), len(stops) - 2)
    f = (pos - i)[..., None]
    return oklab_to_srgb(labs[i] * (1 - f) + labs[i + 1] * f).astype(np.float32)


def linear_gradient(width: int, height: int, stops: Sequence[RGB], *, angle: float = 90.0,
                    warp: np.ndarray | None = None) -> np.ndarray:
    """A gradient along `angle` degrees (90 = top to bottom); `warp` (low-res field) bends it."""
    xs, ys = _low_grid(width, height)
    a = math.radians(angle)
    t = xs * math.cos(a) + ys * math.sin(a)
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    if warp is not None:
        t = t + cv2.resize(warp, (t.shape[1], t.shape[0]))
    return planar(_up(colour_ramp(t, stops), width, height))


def radial_gradient(width: int, height: int, stops: Sequence[RGB], *, cx: float = 0.5, cy: float = 0.5,
                    radius: float = 0.75) -> np.ndarray:
    """A radial gradient around (cx, cy) in canvas fractions; `radius` is a fraction of the width."""
    xs, ys = _low_grid(width, height)
    d = np.hypot(xs - cx, ys - cy * height / width) / radius
    return planar(_up(colour_ramp(d, stops), width, height))


def mesh_gradient(width: int, height: int, points: Sequence[tuple[float, float, RGB]], *,
                  softness: float = 0.35) -> np.ndarray:
    """Colours blended smoothly between points (x, y in canvas fractions), like a gradient mesh."""
    xs, ys = _low_grid(width, height)
    aspect = height / width
    labs = srgb_to_oklab(np.array([p[2] for p in points], dtype=np.float64))
    weights = np.stack([np.exp(-((xs - x) ** 2 + (ys - y * aspect) ** 2) / (2 * softness**2)) + 1e-6
                        for x, y, _ in points])
    weights /= weights.sum(axis=0)
    lab = np.tensordot(weights, labs, axes=(0, 0))
    return planar(_up(oklab_to_srgb(lab), width, height))


def value_noise(width: int, height: int, rng: np.random.Generator, *, cells: int = 6, octaves: int = 3) -> np.ndarray:
    """Smooth fractal noise in 0..1 (float32, full size): random grids scaled up with cubic filtering."""
    xs, _ = _low_grid(width, height)
    gh, gw = xs.shape
    total = np.zeros((gh, gw), dtype=np.float32)
    amp, norm = 1.0, 0.0
    for octave in range(octaves):
        n = cells * 2**octave
        grid = rng.random((max(2, round(n * gh / gw)) + 1, n + 1)).astype(np.float32)
        total += amp * cv2.resize(grid, (gw, gh), interpolation=cv2.INTER_CUBIC)
        norm += amp
        amp *= 0.5
    total = total / norm
    total = (total - total.min()) / max(float(total.max() - total.min()), 1e-6)
    return _up(total, width, height)


def _trim(mask: Mask) -> Mask:
    """Drop the empty rows above and below a large mask (height fields, shadows) before blending."""
    cov, x, y = mask
    rows = np.flatnonzero(cov.any(axis=1))
    if len(rows) == 0:
        return cov[:0], x, y
    return cov[rows[0]:rows[-1] + 1], x, y + int(rows[0])


def paint(img: np.ndarray, mask: Mask, colour: RGB | np.ndarray, *, opacity: float = 1.0,
          mode: str = "normal") -> None:
    """Composite `colour` (an RGB, or a planar image the size of the mask) through `mask` onto `img`, in
    place; modes: normal, multiply, screen, add."""
    if mask[0].size > 250_000:
        mask = _trim(mask)
    cov, x, y = mask
    _, h, w = img.shape
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + cov.shape[1], w), min(y + cov.shape[0], h)
    if x1 <= x0 or y1 <= y0:
        return
    a = cov[y0 - y:y1 - y, x0 - x:x1 - x]
    if opacity != 1.0:
        a = a * np.float32(opacity)
    src = np.asarray(colour, dtype=np.float32)
    if src.ndim == 3:
        src = src[:, y0 - y:y1 - y, x0 - x:x1 - x]
    for c in range(3):
        ch = img[c, y0:y1, x0:x1]
        s = src[c]
        if mode == "multiply":
            d = ch * (s - 1)
        elif mode == "screen":
            d = s * (1 - ch)
        elif mode == "add":
            d = np.minimum(s, 1 - ch)
        else:
            d = s - ch
        d *= a
        ch += d


def disc(cx: float, cy: float, r: float, *, inner: float = 0.0, feather: float = 1.0,
         bounds: tuple[int, int] | None = None) -> Mask:
    """A disc (or a ring when inner > 0) with exact anti-aliased coverage; `feather` widens the edge.
    `bounds` (width, height) skips the part outside the canvas, for big discs."""
    x0, y0 = math.floor(cx - r - feather), math.floor(cy - r - feather)
    x1 = y1 = size = math.ceil(2 * r + 2 * feather) + 2
    x1, y1 = x0 + size, y0 + size
    if bounds is not None:
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, bounds[0]), min(y1, bounds[1])
        if x1 <= x0 or y1 <= y0:
            return np.zeros((1, 1), np.float32), 0, 0
    dx = np.arange(x0, x1, dtype=np.float32) + np.float32(0.5 - cx)
    dy = np.arange(y0, y1, dtype=np.float32)[:, None] + np.float32(0.5 - cy)
    d = np.sqrt(dx * dx + dy * dy)
    inv = np.float32(1 / feather)
    cov = np.clip((np.float32(r) - d) * inv + np.float32(0.5), 0, 1)
    if inner > 0:
        cov *= np.clip((d - np.float32(inner)) * inv + np.float32(0.5), 0, 1)
    return cov, x0, y0


def polygon(points: Sequence[tuple[float, float]], *, width: int | None = None, height: int | None = None) -> Mask:
    """A filled polygon, anti-aliased at 1/16-pixel precision, over its bounding box (clipped to the canvas)."""
    pts = np.array(points, dtype=np.float64)
    x0, y0 = math.floor(pts[:, 0].min()) - 1, math.floor(pts[:, 1].min()) - 1
    x1, y1 = math.ceil(pts[:, 0].max()) + 2, math.ceil(pts[:, 1].max()) + 2
    if width is not None and height is not None:
        x0, y0, x1, y1 = max(x0, -1), max(y0, -1), min(x1, width + 1), min(y1, height + 1)
    if x1 <= x0 or y1 <= y0:
        return np.zeros((1, 1), np.float32), 0, 0
    canvas = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
    shifted = np.round((pts - [x0, y0]) * 16).astype(np.int32)
    cv2.fillPoly(canvas, [shifted], 255, cv2.LINE_AA, shift=4)
    return canvas.astype(np.float32) / 255, x0, y0


def stroke(points: Sequence[tuple[float, float]], thickness: float, *, closed: bool = False) -> Mask:
    """An anti-aliased polyline of the given thickness over its bounding box."""
    pts = np.array(points, dtype=np.float64)
    pad = math.ceil(thickness) + 2
    x0, y0 = math.floor(pts[:, 0].min()) - pad, math.floor(pts[:, 1].min()) - pad
    x1, y1 = math.ceil(pts[:, 0].max()) + pad, math.ceil(pts[:, 1].max()) + pad
    canvas = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
    shifted = np.round((pts - [x0, y0]) * 16).astype(np.int32)
    cv2.polylines(canvas, [shifted], closed, 255, max(1, round(thickness)), cv2.LINE_AA, shift=4)
    return canvas.astype(np.float32) / 255, x0, y0


def polar(width: int, height: int, cx: float, cy: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distance of every pixel centre from (cx, cy), and the x and y offsets (float32, broadcastable)."""
    dx = np.arange(width, dtype=np.float32) + np.float32(0.5 - cx)
    dy = np.arange(height, dtype=np.float32)[:, None] + np.float32(0.5 - cy)
    return np.sqrt(dx * dx + dy * dy), dx, dy


def sunburst(d: np.ndarray, dx: np.ndarray, dy: np.ndarray, rays: int) -> np.ndarray:
    """Coverage of every other ray of `rays` around the centre of a `polar` field, anti-aliased across
    each ray's edges (whose width in pixels grows with the distance)."""
    ang = np.arctan2(dy, dx)
    ang += np.float32(math.pi)
    ang *= np.float32(rays / (2 * math.pi))
    frac = ang - np.floor(ang)
    width_px = d * np.float32(2 * math.pi / rays)
    return np.clip(np.minimum(frac, 1 - frac) * width_px - 0.25 * width_px + 0.5, 0, 1)


def rounded_rect(x0: float, y0: float, x1: float, y1: float, radius: float) -> Mask:
    """A rectangle with rounded corners, anti-aliased (signed distance, so any radius is smooth)."""
    bx, by = math.floor(x0) - 1, math.floor(y0) - 1
    ys, xs = np.ogrid[by:math.ceil(y1) + 2, bx:math.ceil(x1) + 2]
    cx, cy, hw, hh = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
    radius = min(radius, hw, hh)
    qx = np.abs(xs + 0.5 - cx).astype(np.float32) - (hw - radius)
    qy = np.abs(ys + 0.5 - cy).astype(np.float32) - (hh - radius)
    dist = np.hypot(np.maximum(qx, 0), np.maximum(qy, 0)) + np.minimum(np.maximum(qx, qy), 0) - radius
    return np.clip(0.5 - dist, 0, 1).astype(np.float32), bx, by


def full(coverage: np.ndarray) -> Mask:
    """A whole-canvas mask."""
    return coverage.astype(np.float32, copy=False), 0, 0


def blur(field: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur; large sigmas are done on a smaller copy (same look, a fraction of the cost)."""
    if sigma < 0.5:
        return field
    h, w = field.shape[:2]
    factor = max(1, int(sigma // 4))
    if factor == 1:
        return cv2.GaussianBlur(field, (0, 0), sigma)
    small = cv2.resize(field, (max(1, w // factor), max(1, h // factor)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma / factor)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def mask_on_canvas(mask: Mask, width: int, height: int) -> np.ndarray:
    """A mask placed on a full-size zero canvas (for blurs and shadows that spread past the shape)."""
    out = np.zeros((height, width), dtype=np.float32)
    cov, x, y = mask
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + cov.shape[1], width), min(y + cov.shape[0], height)
    if x1 > x0 and y1 > y0:
        out[y0:y1, x0:x1] = np.maximum(out[y0:y1, x0:x1], cov[y0 - y:y1 - y, x0 - x:x1 - x])
    return out


def add_grain(img: np.ndarray, rng: np.random.Generator, amount: float) -> None:
    """Monochrome film grain (also dithers gradients so they never band in 8 bits)."""
    _, h, w = img.shape
    noise = rng.random((h, w), dtype=np.float32)
    noise -= 0.5
    noise *= np.float32(amount * 3.46)  # uniform noise with the standard deviation `amount`
    img += noise[None]


def vignette(img: np.ndarray, strength: float) -> None:
    """Darken the corners a little, which pulls the eye to the middle."""
    _, h, w = img.shape
    xs, ys = _low_grid(w, h)
    d = np.hypot(xs - 0.5, ys - 0.5 * h / w) / math.hypot(0.5, 0.5 * h / w)
    img *= _up(1 - strength * d**2.2, w, h)[None]


@dataclass
class Scene:
    """What a composition draws with: the canvas (drawn on in place), palette, seeded generator, tags."""

    img: np.ndarray
    palette: Palette
    rng: np.random.Generator
    tags: frozenset[str] = frozenset()  # scene words (city, trees, water, sun, night…) and style flags
    has_text: bool = False

    @property
    def width(self) -> int:
        return int(self.img.shape[2])

    @property
    def height(self) -> int:
        return int(self.img.shape[1])

    def fill(self, value: RGB | np.ndarray) -> None:
        """Set the whole canvas to a colour or to a planar image."""
        value = np.asarray(value, dtype=np.float32)
        self.img[:] = value[:, None, None] if value.ndim == 1 else value

    @property
    def side(self) -> int:
        return min(self.width, self.height)

    def pick(self, items: Sequence):
        """One of `items`, chosen by the seed."""
        return items[int(self.rng.integers(len(items)))]


def clip_to(mask: Mask, x0: int, y0: int, x1: int, y1: int) -> Mask:
    """The part of a mask inside a rectangle (for shapes that belong to one grid cell)."""
    cov, x, y = mask
    cx0, cy0 = max(x0, x), max(y0, y)
    cx1, cy1 = min(x1, x + cov.shape[1]), min(y1, y + cov.shape[0])
    if cx1 <= cx0 or cy1 <= cy0:
        return np.zeros((1, 1), np.float32), x0, y0
    return cov[cy0 - y:cy1 - y, cx0 - x:cx1 - x], cx0, cy0


def height_field(profile: np.ndarray, height: int, *, softness: float = 1.0) -> np.ndarray:
    """Coverage of everything below a curve y = profile[x] (one value per column), anti-aliased by the
    distance to the curve, so slopes stay smooth; `softness` > 1 blurs the edge (haze, distance)."""
    slope = np.gradient(profile)
    scale = 1.0 / (softness * np.sqrt(1.0 + slope * slope)).astype(np.float32)
    ys = np.arange(height, dtype=np.float32)[:, None] + 0.5
    return np.clip((ys - profile[None, :].astype(np.float32)) * scale[None, :] + 0.5, 0, 1)


def ridge(width: int, rng: np.random.Generator, *, points: int, amplitude: float, smooth: bool = True) -> np.ndarray:
    """A 1-D fractal profile (0-centred, ±amplitude): mountains, hills, waves of land."""
    out = np.zeros(width, dtype=np.float64)
    amp = amplitude
    for octave in range(4):
        n = points * 2**octave + 2
        knots = rng.uniform(-1, 1, n)
        xs = np.linspace(0, n - 1, width)
        if smooth:
            out += amp * cv2.resize(knots[None, :].astype(np.float32), (width, 1),
                                    interpolation=cv2.INTER_CUBIC)[0]
        else:
            out += amp * np.interp(xs, np.arange(n), knots)
        amp *= 0.45
    return out


def skyline(width: int, base: float, rng: np.random.Generator, height: int) -> np.ndarray:
    """A city skyline as a height field: flat roofs of random widths and heights, a few spires."""
    profile = np.full(width, base, dtype=np.float64)
    x = 0
    while x < width:
        bw = int(width * rng.uniform(0.03, 0.075))
        top = base - height * rng.uniform(0.06, 0.3)
        profile[x:x + bw] = top
        if rng.random() < 0.2:  # an antenna or spire
            mid = x + bw // 2
            profile[max(0, mid - 1):mid + 2] = top - height * rng.uniform(0.03, 0.07)
        x += bw + int(width * rng.uniform(0.0, 0.012))
    return profile
