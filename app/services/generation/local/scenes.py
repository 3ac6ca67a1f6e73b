"""Scene families of the local design engine: layered landscapes (flat vector, soft photographic or
watercolour), watercolour blooms, and a studio of shaded 3-D shapes.

Landscapes are built from height fields (one y per column), so mountains, city skylines and pine
forests are the same cheap operation: a profile, its anti-aliased coverage, a colour that fades
towards the sky with distance (atmospheric perspective).
"""

from __future__ import annotations

import math

import numpy as np

from app.services.generation.local.compositions import centre_plan
from app.services.generation.local.palette import RGB, lch_to_rgb, rgb_to_lch
from app.services.generation.local.shapes import (
    Scene,
    blur,
    disc,
    full,
    height_field,
    linear_gradient,
    mask_on_canvas,
    mix,
    paint,
    polygon,
    ridge,
    skyline,
    value_noise,
)
from app.services.generation.local.typography import TextPlan


def _wash(scene: Scene, cov: np.ndarray, colour: RGB, opacity: float, noise: np.ndarray) -> None:
    """Watercolour pigment: uneven density, darker at the edges where pigment pools, multiplied on."""
    edge = cov - blur(cov, scene.side * 0.008)
    np.maximum(edge, 0, out=edge)
    density = noise * np.float32(0.45) + np.float32(0.55)
    density *= cov
    density += edge * np.float32(0.9)
    paint(scene.img, full(np.minimum(density, 1.0 / max(opacity, 1e-3))), colour, opacity=opacity, mode="multiply")


def _paper(scene: Scene) -> np.ndarray:
    """Warm paper with a faint fibre texture; returns a noise field the washes reuse."""
    pal, w, h = scene.palette, scene.width, scene.height
    scene.fill(mix(pal.light, (0.98, 0.95, 0.89), 0.55))
    fibre = value_noise(w, h, scene.rng, cells=40, octaves=2)
    scene.img *= (0.97 + 0.03 * fibre)[None]
    return value_noise(w, h, scene.rng, cells=5, octaves=4)


def _trees(profile: np.ndarray, rng: np.random.Generator, size: float, density: float) -> np.ndarray:
    out = profile.copy()
    xs = np.arange(len(profile), dtype=np.float64)
    x = rng.uniform(0, size)
    while x < len(profile):
        tree_h = size * rng.uniform(0.7, 1.3)
        half = tree_h * 0.28
        foot = profile[min(int(x), len(profile) - 1)]
        spike = foot + size * 0.1 - tree_h * (1 - np.abs(xs - x) / half)
        out = np.minimum(out, np.where(np.abs(xs - x) < half, spike, np.inf))
        x += size * rng.uniform(0.3, 1.0) / density
    return out


def _land_colour(scene: Scene) -> RGB:
    """The nearest layer's colour: the palette's most colourful dark tone, so hills are green in a forest
    and plum at sunset rather than grey."""
    lchs = [rgb_to_lch(c) for c in scene.palette.ramp]
    dark = [(c, lch) for c, lch in zip(scene.palette.ramp, lchs, strict=True) if 0.18 < lch[0] < 0.55]
    if not dark:
        return mix(scene.palette.ramp[0], scene.palette.dark, 0.5)
    _colour, lch = max(dark, key=lambda item: item[1][1] - abs(item[1][0] - 0.35) * 0.2)
    return lch_to_rgb((min(lch[0], 0.42), lch[1], lch[2]))


def _sky(scene: Scene, night: bool, mode: str) -> np.ndarray:
    ramp = list(scene.palette.ramp)
    stops = ramp[: max(3, len(ramp) - 2)] if night else ramp[max(0, len(ramp) - 4):]
    if mode == "watercolor":
        stops = [mix(c, (1.0, 1.0, 1.0), 0.3) for c in stops]
    return linear_gradient(scene.width, scene.height, stops, angle=90)


def _orb(scene: Scene, sky: np.ndarray, sx: float, sy: float, sr: float, *, night: bool,
         noise: np.ndarray | None) -> None:
    """The sun (with a glow) or a crescent moon among stars."""
    rng, w, h, s = scene.rng, scene.width, scene.height, scene.side
    orb = mix(scene.palette.ramp[-1], (1.0, 0.97, 0.9), 0.5)
    if noise is not None:
        _wash(scene, mask_on_canvas(disc(sx, sy, sr, feather=2.0), w, h), mix(orb, (1.0, 0.72, 0.45), 0.5), 0.55, noise)
        return
    paint(scene.img, disc(sx, sy, sr * 3.5, feather=sr * 3), orb, opacity=0.35 if night else 0.45, mode="screen")
    if not night:
        paint(scene.img, disc(sx, sy, sr), orb)
        return
    for _ in range(round(rng.integers(60, 140) * (w * h) / 1024**2) + 20):
        paint(scene.img, disc(rng.uniform(0, w), rng.uniform(0, sy + h * 0.25), s * rng.uniform(0.001, 0.003)),
              (1.0, 1.0, 1.0), opacity=float(rng.uniform(0.3, 0.9)))
    moon, mx, my = disc(sx, sy, sr)
    bite, bx, by = disc(sx + sr * 0.42, sy - sr * 0.22, sr * 0.9)
    cut = np.zeros_like(moon)
    oy, ox = by - my, bx - mx  # the bite's offset inside the moon's box
    y0, x0 = max(0, oy), max(0, ox)
    y1, x1 = min(moon.shape[0], oy + bite.shape[0]), min(moon.shape[1], ox + bite.shape[1])
    cut[y0:y1, x0:x1] = bite[y0 - oy:y1 - oy, x0 - ox:x1 - ox]
    paint(scene.img, (moon * (1 - cut), mx, my), orb)


def _profiles(scene: Scene, horizon: float, ground: float) -> list[tuple[np.ndarray, float]]:
    """(profile, base) of each land layer, far to near: mountains or hills, a skyline, pine forests."""
    rng, w, h, tags = scene.rng, scene.width, scene.height, scene.tags
    layers = int(rng.integers(3, 6))
    mountains = "mountains" in tags or ("land" not in tags and "city" not in tags and rng.random() < 0.5)
    out = []
    for i in range(layers):
        t = i / max(1, layers - 1)  # 0 far … 1 near
        base = horizon + (ground - horizon) * (0.1 + 0.75 * t) ** 1.3
        if mountains and i < layers - 1:
            amp = h * (0.16 - 0.1 * t)
            profile = base - amp * np.abs(ridge(w, rng, points=3 + i, amplitude=1.0, smooth=False)) - amp * 0.3
        else:
            profile = base + ridge(w, rng, points=2 + i, amplitude=h * 0.03)
        if "city" in tags and i == layers // 2:
            profile = np.minimum(profile, skyline(w, base, rng, h))
        if "trees" in tags and i >= layers - 2:
            profile = _trees(profile, rng, h * (0.06 + 0.06 * t), 1.4 if i == layers - 1 else 0.9)
        out.append((np.minimum(profile, ground) if "water" in tags else profile, base))
    return out


def _sky_wash_colour(scene: Scene, sky: np.ndarray) -> RGB:
    """Watercolour skies are one wash: the palette's clearest light colour (a blue when there is one)."""
    light = [c for c in scene.palette.ramp if rgb_to_lch(c)[0] > 0.6]
    if not light:
        return tuple(float(v) for v in sky[:, scene.height // 4, scene.width // 2])  # type: ignore[return-value]
    def sky_likeness(c: RGB) -> float:
        _, chroma, hue = rgb_to_lch(c)
        return chroma + (0.1 if 180 < hue < 280 else -0.05 if 95 < hue < 165 else 0.0)

    best = max(light, key=sky_likeness)
    return mix(best, (1.0, 1.0, 1.0), 0.2)


def landscape(scene: Scene) -> TextPlan:
    """Sky, sun or moon, and 3-5 layers of land (mountains, hills, city, forest), optionally water."""
    pal, rng, w, h, s = scene.palette, scene.rng, scene.width, scene.height, scene.side
    tags = scene.tags
    mode = "watercolor" if "watercolor" in tags else "photo" if "photo" in tags else "flat"
    night, water = "night" in tags, "water" in tags
    noise = _paper(scene) if mode == "watercolor" else None
    sky = _sky(scene, night, mode)
    horizon = h * rng.uniform(0.48, 0.6)
    ground = h * (0.74 if water else 1.02)
    profiles = _profiles(scene, horizon, ground)
    if noise is not None:
        fade = np.clip(1 - np.arange(h, dtype=np.float32)[:, None] / horizon, 0, 1) ** 0.6
        _wash(scene, fade * np.ones((1, w), np.float32), _sky_wash_colour(scene, sky), 0.6, noise)
    else:
        scene.fill(sky)
    horizon_colour: RGB = tuple(float(v) for v in sky[:, min(h - 1, int(horizon)), w // 2])  # type: ignore[assignment]
    sx, sr = w * rng.uniform(0.25, 0.75), s * rng.uniform(0.06, 0.1)
    far = profiles[0][0][max(0, int(sx - sr)):int(sx + sr) + 1].min()
    # The sun sits just above the far ridge, a little behind it in opaque modes; watercolour washes are
    # transparent, so there it stays clear of the hills.
    sy = far - sr * (1.4 if noise is not None else rng.uniform(0.3, 1.6))
    sy = max(sy, sr * 1.5)
    _orb(scene, sky, sx, sy, sr, night=night, noise=noise)
    near = _land_colour(scene)
    if night:
        near = mix(near, pal.dark, 0.5)
    xs = np.arange(w)
    for i, (profile, base) in enumerate(profiles):
        t = i / max(1, len(profiles) - 1)
        colour = mix(horizon_colour, near, 0.3 + 0.7 * t)
        if noise is not None:
            wobble = (noise[int(h * 0.4), xs] - 0.5) * h * 0.02
            _wash(scene, height_field(profile + wobble, h, softness=2.0), mix(colour, (1.0, 1.0, 1.0), 0.2),
                  0.6, noise)
            continue
        softness = 1.0 + (1 - t) * s * 0.004 if mode == "photo" else 1.0
        cov = height_field(profile, h, softness=softness)
        if water:
            cov[int(ground):] = 0
        paint(scene.img, full(cov), colour)
        if mode == "photo" and i < len(profiles) - 1:  # haze thickening towards the foot of this layer
            top = float(profile.min())
            ys = np.arange(h, dtype=np.float32)[:, None]
            haze = np.clip((ys - top) / max(1.0, base + h * 0.04 - top), 0, 1) ** 1.6 * np.ones((1, w), np.float32)
            paint(scene.img, full(haze), horizon_colour, opacity=0.55)
        if "city" in tags and i == len(profiles) // 2 and (night or "sun" in tags):
            _windows(scene, profile, base, colour)
    if water:
        _water(scene, sky, ground)
    if scene.has_text:
        bottom = round(max(h * 0.2, min(sy - sr * 1.4, h * 0.3)))
        return TextPlan((round(w * 0.1), round(h * 0.06), round(w * 0.9), bottom))
    return centre_plan(scene)


def _windows(scene: Scene, profile: np.ndarray, base: float, wall: RGB) -> None:
    rng, s = scene.rng, scene.side
    lit = mix((1.0, 0.85, 0.55), wall, 0.15)
    size = max(2.0, s * 0.006)
    for _ in range(int(rng.integers(40, 90))):
        x = int(rng.uniform(0, scene.width))
        top = profile[x]
        if base - top < size * 4:
            continue
        y = rng.uniform(top + size * 2, base - size)
        paint(scene.img, polygon([(x, y), (x + size, y), (x + size, y + size * 1.4), (x, y + size * 1.4)]), lit,
              opacity=float(rng.uniform(0.5, 0.95)))


def _water(scene: Scene, sky: np.ndarray, waterline: float) -> None:
    """A lake or sea: the sky mirrored, darkened, with thin ripple highlights."""
    w, h, rng, s = scene.width, scene.height, scene.rng, scene.side
    top = int(waterline)
    rows = np.clip(2 * top - np.arange(top, h), 0, h - 1)
    scene.img[:, top:] = sky[:, rows] * 0.72 + np.asarray(scene.palette.ramp[0], np.float32)[:, None, None] * 0.2
    highlight = mix(scene.palette.ramp[-1], (1.0, 1.0, 1.0), 0.5)
    for _ in range(int(rng.integers(25, 50))):
        y = rng.uniform(top + 2, h)
        length = w * rng.uniform(0.03, 0.18) * (0.4 + (y - top) / (h - top))
        x = rng.uniform(-length / 2, w)
        thick = max(1.0, s * 0.0025)
        paint(scene.img, polygon([(x, y), (x + length, y), (x + length, y + thick), (x, y + thick)]), highlight,
              opacity=float(rng.uniform(0.15, 0.45)))


def watercolor(scene: Scene) -> TextPlan:
    """Loose watercolour blooms on paper: uneven pigment, dark pooled edges, a few splatters."""
    pal, rng, w, h, s = scene.palette, scene.rng, scene.width, scene.height, scene.side
    noise = _paper(scene)
    for i in range(int(rng.integers(5, 9))):
        r = s * rng.uniform(0.14, 0.3)
        cx, cy = rng.uniform(0.1, 0.9) * w, rng.uniform(0.1, 0.9) * h
        if scene.has_text and abs(cy - h / 2) < h * 0.15:
            cy += math.copysign(h * 0.2, cy - h / 2)
        cov, x, y = disc(cx, cy, r, feather=r * 0.8)
        blob = np.zeros((h, w), np.float32)
        x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + cov.shape[1], w), min(y + cov.shape[0], h)
        blob[y0:y1, x0:x1] = cov[y0 - y:y1 - y, x0 - x:x1 - x]
        # Fresh noise for each bloom (a rolled copy of one field would show its seam as a straight edge).
        shifted = noise if i == 0 else value_noise(w, h, rng, cells=5, octaves=3)
        organic = np.clip((blob - 0.45 + (shifted - 0.5) * 0.7) * 6, 0, 1)
        _wash(scene, organic, mix(scene.pick(pal.shapes), (1.0, 1.0, 1.0), 0.1), 0.55, shifted)
    for _ in range(int(rng.integers(10, 30))):  # splatters
        paint(scene.img, disc(rng.uniform(0, w), rng.uniform(0, h), s * rng.uniform(0.002, 0.008)),
              scene.pick(pal.shapes), opacity=0.6, mode="multiply")
    return centre_plan(scene)


def _sphere(scene: Scene, cx: float, cy: float, r: float, colour: RGB, floor: RGB) -> None:
    cov, x0, y0 = disc(cx, cy, r)
    ys, xs = np.mgrid[0:cov.shape[0], 0:cov.shape[1]].astype(np.float32)
    nx, ny = (xs + x0 + 0.5 - cx) / r, (ys + y0 + 0.5 - cy) / r
    nz = np.sqrt(np.clip(1 - nx * nx - ny * ny, 0, 1))
    lx, ly, lz = -0.45, -0.6, 0.66
    diffuse = np.clip(nx * lx + ny * ly + nz * lz, 0, 1)
    shade = 0.42 + 0.68 * (0.5 * diffuse + 0.5) ** 2  # half-Lambert: the soft look of clay renders
    spec = np.clip(2 * diffuse * nz - lz, 0, 1) ** 28 * 0.45
    bounce = np.clip(ny, 0, 1) ** 3 * 0.18
    col = np.asarray(colour, np.float32) * shade[..., None] + spec[..., None] \
        + bounce[..., None] * np.asarray(floor, np.float32)
    paint(scene.img, (cov, x0, y0), np.clip(col, 0, 1).transpose(2, 0, 1))


def _cube(scene: Scene, cx: float, foot: float, e: float, colour: RGB) -> None:
    c = 0.866 * e
    top = [(cx, foot - 2 * e), (cx + c, foot - 1.5 * e), (cx, foot - e), (cx - c, foot - 1.5 * e)]
    left = [(cx - c, foot - 1.5 * e), (cx, foot - e), (cx, foot), (cx - c, foot - 0.5 * e)]
    right = [(cx, foot - e), (cx + c, foot - 1.5 * e), (cx + c, foot - 0.5 * e), (cx, foot)]
    paint(scene.img, polygon(left), mix(colour, (0.0, 0.0, 0.0), 0.12))
    paint(scene.img, polygon(right), mix(colour, (0.0, 0.0, 0.0), 0.28))
    paint(scene.img, polygon(top), mix(colour, (1.0, 1.0, 1.0), 0.25))


def _cylinder(scene: Scene, cx: float, foot: float, r: float, colour: RGB) -> None:
    """An upright cylinder: a body shaded across its width and a lighter elliptical top."""
    body_h = r * scene.rng.uniform(1.0, 1.8)
    ry = r * 0.32
    x0, x1 = cx - r, cx + r
    top = foot - ry - body_h
    cov, bx, _ = disc(cx, 0, r)
    ellipse = np.ascontiguousarray(cov[:: max(1, round(r / ry))])
    ell_h = ellipse.shape[0]
    body, x, y = polygon([(x0, top), (x1, top), (x1, foot - ry), (x0, foot - ry)])
    # The body with its rounded bottom: the bottom ellipse joined under the rectangle.
    full_h = (round(foot - ry + ell_h / 2) - y)
    shape = np.zeros((max(full_h, body.shape[0]), max(body.shape[1], ellipse.shape[1] + bx - x)), np.float32)
    shape[:body.shape[0], :body.shape[1]] = body
    ey, ex = round(foot - ry - ell_h / 2) - y, bx - x
    sub = shape[ey:ey + ell_h, ex:ex + ellipse.shape[1]]
    np.maximum(sub, ellipse[:sub.shape[0], :sub.shape[1]], out=sub)
    across = np.clip((np.arange(shape.shape[1], dtype=np.float32) + x + 0.5 - x0) / (2 * r), 0, 1)
    shade = 0.5 + 0.55 * np.sqrt(np.clip(np.sin(np.pi * np.clip(across * 1.25 - 0.1, 0, 1)), 0, 1)) - 0.15 * across
    tint = np.asarray(colour, np.float32)[:, None, None] * np.broadcast_to(shade[None, :], shape.shape)[None]
    paint(scene.img, (shape, x, y), np.clip(tint, 0, 1))
    paint(scene.img, (ellipse, bx, round(top - ell_h / 2)), mix(colour, (1.0, 1.0, 1.0), 0.3))


def iso(scene: Scene) -> TextPlan:
    """A soft studio: wall, floor, and shaded spheres, blocks and cylinders with contact shadows."""
    pal, rng, w, h, s = scene.palette, scene.rng, scene.width, scene.height, scene.side
    wall = mix(pal.background[0], pal.vivid, 0.12)
    floor = mix(wall, pal.background[1], 0.6)
    horizon = 0.45 if not scene.has_text else 0.6
    scene.fill(linear_gradient(w, h, [mix(wall, pal.light, 0.35), wall, floor, mix(floor, pal.dark, 0.1)]))
    paint(scene.img, full(height_field(np.full(w, h * horizon), h, softness=s * 0.06)), floor, opacity=0.5)
    objects: list[tuple[float, float, float]] = []
    wanted = int(rng.integers(5, 9))
    for _ in range(200):
        if len(objects) >= wanted:
            break
        r = s * rng.uniform(0.06, 0.15) * (1.25 if not objects else 1.0)
        x = float(np.clip(rng.normal(0.5, 0.2) * w, r * 1.2 + w * 0.04, w - r * 1.2 - w * 0.04))
        foot = rng.uniform(horizon + 0.05, 0.92) * h
        if all(math.hypot(x - ox, (foot - oy) * 1.6) > (r + orr) * 0.95 for ox, oy, orr in objects):
            objects.append((x, foot, r))
    objects.sort(key=lambda o: o[1])
    colours = [pal.vivid, *pal.shapes]
    for i, (x, foot, r) in enumerate(objects):
        colour = colours[i % len(colours)]
        kind = rng.random()
        cov, _, _ = disc(0, 0, r * 1.15, feather=r * 0.6)
        squashed = np.ascontiguousarray(cov[::4])
        shadow_y = foot - (r * 0.45 if 0.5 <= kind < 0.78 else 0)  # a cube's foot is its front corner
        paint(scene.img, (squashed, round(x + r * 0.35 - cov.shape[1] / 2), round(shadow_y - squashed.shape[0] / 2)),
              pal.dark, opacity=0.3)
        if kind < 0.5:
            _sphere(scene, x, foot - r, r, colour, floor)
        elif kind < 0.78:
            _cube(scene, x, foot, r * 0.95, colour)
        else:
            _cylinder(scene, x, foot, r * 0.8, colour)
    if scene.has_text:
        return TextPlan((round(w * 0.1), round(h * 0.07), round(w * 0.9), round(h * 0.3)))
    return centre_plan(scene)
