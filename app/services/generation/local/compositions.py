"""Abstract composition families of the local design engine: gradient mesh, Bauhaus grid, radial bands,
wave layers, tiles, neon, retro sunburst and minimal.

Each family draws on `scene.img` in place with the scene's palette and seeded generator, and returns a
`TextPlan` saying where type would sit well in what it drew.
"""

from __future__ import annotations

import math

import numpy as np

from app.services.generation.local.palette import RGB
from app.services.generation.local.shapes import (
    Scene,
    add_grain,
    blur,
    clip_to,
    colour_ramp,
    disc,
    full,
    height_field,
    linear_gradient,
    mask_on_canvas,
    mesh_gradient,
    mix,
    paint,
    polar,
    polygon,
    radial_gradient,
    rounded_rect,
    skyline,
    stroke,
    sunburst,
)
from app.services.generation.local.typography import TextPlan


def centre_plan(scene: Scene, *, height: float = 0.34, **options) -> TextPlan:
    """A text box across the middle, with comfortable side margins."""
    w, h = scene.width, scene.height
    mx, box_h = round(w * 0.1), round(h * height)
    return TextPlan((mx, (h - box_h) // 2, w - mx, (h + box_h) // 2), **options)


def mesh(scene: Scene) -> TextPlan:
    """A soft gradient mesh with glowing blobs; with the photo flag, out-of-focus bokeh lights."""
    pal, rng, w, h, s = scene.palette, scene.rng, scene.width, scene.height, scene.side
    colours = [pal.background[0], pal.light if not pal.is_dark else pal.background[1], pal.vivid, *pal.shapes[:3]]
    points = [(float(rng.uniform(-0.1, 1.1)), float(rng.uniform(-0.1, 1.1)), c) for c in colours]
    scene.fill(mesh_gradient(w, h, points, softness=float(rng.uniform(0.22, 0.34))))
    # Glowing blobs in the brighter, more colourful accents (dark ones would read as holes).
    bright = sorted(pal.shapes, key=lambda c: -(max(c) - min(c)) - 0.5 * sum(c) / 3)[:3] + [pal.vivid]
    for _ in range(int(rng.integers(3, 6))):
        r = s * rng.uniform(0.12, 0.32)
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        paint(scene.img, disc(cx, cy, r, feather=r * rng.uniform(0.6, 1.2)), scene.pick(bright),
              opacity=float(rng.uniform(0.35, 0.65)), mode="screen" if pal.is_dark else "normal")
    if "photo" in scene.tags:  # bokeh: many soft discs of light, larger and fainter towards the front
        for _ in range(int(rng.integers(18, 34))):
            r = s * rng.uniform(0.015, 0.07)
            paint(scene.img, disc(rng.uniform(0, w), rng.uniform(0, h), r, feather=max(1.5, r * 0.12)),
                  mix(scene.pick(pal.shapes), pal.light, 0.5), opacity=float(rng.uniform(0.08, 0.3)),
                  mode="screen")
    else:  # one crisp element gives the softness something to hold on to
        r = s * rng.uniform(0.18, 0.32)
        cx, cy = w * rng.uniform(0.3, 0.7), h * rng.uniform(0.3, 0.7)
        kind = int(rng.integers(3))
        if kind == 0:  # a fine ring
            paint(scene.img, disc(cx, cy, r, inner=r - max(1.5, s * 0.003)), pal.light, opacity=0.75)
        elif kind == 1:  # a frosted-glass disc with a bright rim
            paint(scene.img, disc(cx, cy, r), pal.light, opacity=0.22)
            paint(scene.img, disc(cx, cy, r, inner=r - max(1.2, s * 0.002)), pal.light, opacity=0.8)
        else:  # a row of dots
            n = int(rng.integers(5, 9))
            for i in range(n):
                paint(scene.img, disc(w * (0.5 + (i - (n - 1) / 2) * 0.05), h * 0.82, s * 0.008), pal.light,
                      opacity=0.85)
    return centre_plan(scene)


def _cell_motif(scene: Scene, x0: int, y0: int, size: int, ground: RGB, ink: RGB) -> None:
    img, rng = scene.img, scene.rng
    x1, y1 = x0 + size, y0 + size
    paint(img, rounded_rect(x0, y0, x1, y1, 0), ground)
    kind = int(rng.integers(7))
    corner = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)][int(rng.integers(4))]
    if kind == 0:  # quarter circle from a corner
        paint(img, clip_to(disc(corner[0], corner[1], size), x0, y0, x1, y1), ink)
    elif kind == 1:  # half circle on an edge
        mid = [((x0 + x1) / 2, y0), (x1, (y0 + y1) / 2), ((x0 + x1) / 2, y1), (x0, (y0 + y1) / 2)]
        cx, cy = mid[int(rng.integers(4))]
        paint(img, clip_to(disc(cx, cy, size / 2), x0, y0, x1, y1), ink)
    elif kind == 2:  # circle
        paint(img, disc((x0 + x1) / 2, (y0 + y1) / 2, size * 0.36), ink)
    elif kind == 3:  # triangle
        pts = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
        drop = int(rng.integers(4))
        paint(img, polygon([p for i, p in enumerate(pts) if i != drop]), ink)
    elif kind == 4:  # bars
        n = 3
        for i in range(n):
            bx = x0 + size * (i + 0.25) / n
            paint(img, rounded_rect(bx, y0, bx + size / (2 * n), y1, 0), ink)
    elif kind == 5:  # ring
        r = size * 0.4
        paint(img, disc((x0 + x1) / 2, (y0 + y1) / 2, r, inner=r * 0.55), ink)
    # kind 6: the plain coloured cell is the motif


def bauhaus(scene: Scene) -> TextPlan:
    """A grid of Bauhaus cells (quarter circles, halves, triangles, bars) in the palette's colours."""
    pal, rng, w, h = scene.palette, scene.rng, scene.width, scene.height
    scene.fill(pal.background[0])
    text_band = scene.has_text
    area_h = h * (0.66 if text_band else 1.0)
    margin = round(scene.side * 0.06)
    # Square cells sized from the short side, as many as fit the long side: any aspect ratio fills.
    size = int((min(w, area_h) - 2 * margin) // int(rng.integers(2, 5)))
    cols, rows = max(1, (w - 2 * margin) // size), max(1, int((area_h - 2 * margin) // size))
    gx = (w - cols * size) // 2
    gy = margin if text_band else (h - rows * size) // 2
    colours = [*pal.shapes[:4], pal.dark if not pal.is_dark else pal.light]
    for row in range(rows):
        for col in range(cols):
            ground = scene.pick([pal.background[0], pal.background[1], *colours[:2]])
            ink = scene.pick([c for c in colours if c != ground] or [pal.dark])
            _cell_motif(scene, gx + col * size, gy + row * size, size, ground, ink)
    if text_band:
        top = gy + rows * size + margin // 2
        return TextPlan((gx, top, w - gx, h - margin), align="left", valign="top", upper=True, font="display")
    return centre_plan(scene)


def tiles(scene: Scene) -> TextPlan:
    """A Truchet-style pattern: every tile a quarter-circle pair turned by the seed."""
    pal, rng, w, h = scene.palette, scene.rng, scene.width, scene.height
    ground, ink = pal.background[0], pal.shapes[0]
    second = pal.shapes[1] if len(pal.shapes) > 1 else pal.dark
    scene.fill(ground)
    n = int(rng.integers(5, 10))
    size = math.ceil(max(w, h) / n)
    band = max(2.0, size * rng.uniform(0.12, 0.2))
    arcs = rng.random() < 0.6
    for ty in range(math.ceil(h / size)):
        for tx in range(math.ceil(w / size)):
            x0, y0 = tx * size, ty * size
            flip = rng.random() < 0.5
            corners = [(x0, y0), (x0 + size, y0 + size)] if flip else [(x0 + size, y0), (x0, y0 + size)]
            for i, (cx, cy) in enumerate(corners):
                colour = ink if (tx + ty + i) % 2 == 0 else second
                if arcs:
                    mask = disc(cx, cy, size / 2 + band / 2, inner=size / 2 - band / 2)
                else:
                    mask = disc(cx, cy, size / 2)
                paint(scene.img, clip_to(mask, x0, y0, x0 + size, y0 + size), colour)
    return centre_plan(scene, height=0.3)


def radial(scene: Scene) -> TextPlan:
    """Concentric bands shading from one palette colour to another, or a sunburst of rays."""
    pal, rng, w, h, s = scene.palette, scene.rng, scene.width, scene.height, scene.side
    cx, cy = scene.pick([(0.5, 0.5), (0.33, 0.4), (0.7, 0.65), (0.5, 1.0), (0.0, 0.0)])
    cx, cy = cx * w, cy * h
    d, dx, dy = polar(w, h, cx, cy)
    # Bands run from the ground through the most colourful accents, light to dark or the reverse.
    vivid = sorted(pal.shapes, key=lambda c: -(max(c) - min(c)))[:3]
    stops = [pal.background[0], *sorted(vivid, key=lambda c: sum(c) if not pal.is_dark else -sum(c))]
    if rng.random() < 0.7:
        step = s * rng.uniform(0.05, 0.1)
        band = d / np.float32(step)
        idx = band.astype(np.int32)  # floor: distances are positive
        edge = np.clip((band - idx) * np.float32(step), 0, 1)  # one pixel of anti-aliasing at each edge
        below = np.maximum(idx - 1, 0)
        n = math.ceil(math.hypot(w, h) / step) + 1
        colours = colour_ramp(np.linspace(0, 1, n) ** 0.8, stops if rng.random() < 0.5 else stops[::-1])
        for c in range(3):  # a small colour table looked up per plane
            lo = colours[:, c][below]
            scene.img[c] = lo + (colours[:, c][idx] - lo) * edge
    else:
        scene.fill(pal.background[0])
        paint(scene.img, full(sunburst(d, dx, dy, int(rng.integers(12, 28)) * 2)), pal.background[1], opacity=0.9)
        r = s * rng.uniform(0.18, 0.3)
        paint(scene.img, disc(cx, cy, r * 1.12), pal.light if pal.is_dark else pal.background[0], opacity=0.9)
        paint(scene.img, disc(cx, cy, r), pal.vivid)
    return centre_plan(scene)


def waves(scene: Scene) -> TextPlan:
    """Layers of paper-cut waves from the back (light) to the front (dark), each casting a soft shadow."""
    pal, rng, w, h = scene.palette, scene.rng, scene.width, scene.height
    n = int(rng.integers(5, 9))
    light_first = not pal.is_dark
    stops = [pal.background[0], *pal.shapes[:3], pal.dark if light_first else pal.light]
    colours = colour_ramp(np.linspace(0, 1, n + 1), stops)
    scene.fill(colours[0])
    xs = np.arange(w, dtype=np.float64)
    start = 0.3 if scene.has_text else 0.12
    for i in range(1, n + 1):
        base = h * (start + (0.95 - start) * i / (n + 1))
        amp = h * rng.uniform(0.02, 0.06)
        freq = rng.uniform(0.6, 1.8) * 2 * math.pi / w
        profile = base + amp * np.sin(xs * freq + rng.uniform(0, 6.3)) + amp * 0.4 * np.sin(xs * freq * 2.3 + i)
        shadow = height_field(profile - h * 0.012, h, softness=h * 0.02)
        paint(scene.img, full(shadow), (0.0, 0.0, 0.0), opacity=0.22)
        paint(scene.img, full(height_field(profile, h)), tuple(colours[i]))
    return centre_plan(scene, height=0.26) if not scene.has_text else TextPlan(
        (round(w * 0.1), round(h * 0.06), round(w * 0.9), round(h * 0.3)))


def neon(scene: Scene) -> TextPlan:
    """Glowing tubes on a dark ground: a synthwave sun over a perspective grid, or neon outlines."""
    pal, rng, w, h, s = scene.palette, scene.rng, scene.width, scene.height, scene.side
    dark = mix(pal.dark, (0.0, 0.0, 0.0), 0.55)
    scene.fill(radial_gradient(w, h, [mix(dark, pal.shapes[0], 0.18), dark], cy=0.45, radius=0.9))
    glow_a, glow_b = pal.shapes[0], pal.shapes[1 % len(pal.shapes)]
    lines = np.zeros((h, w), np.float32)

    def tube(pts: list, thickness: float, closed: bool = False) -> np.ndarray:
        return mask_on_canvas(stroke(pts, thickness, closed=closed), w, h)

    if rng.random() < 0.55 or "city" in scene.tags:
        horizon = h * 0.62
        r = s * 0.24
        sun_cx, sun_cy = w / 2, horizon - r * 0.35
        sun = np.zeros((h, w), np.float32)
        cov, x, y = disc(sun_cx, sun_cy, r)
        sun[max(0, y):y + cov.shape[0], max(0, x):x + cov.shape[1]] = cov[max(0, -y):, max(0, -x):][
            :h - max(0, y), :w - max(0, x)]
        ys = np.arange(h, dtype=np.float32)[:, None]
        slits = np.clip(np.abs(np.sin((ys - sun_cy) / (r * 0.07))) * 3 - 0.6, 0, 1)
        sun *= np.where(ys > sun_cy, slits, 1.0)
        sun[int(horizon):] = 0
        paint(scene.img, full(blur(sun, s * 0.05)), glow_a, opacity=0.8, mode="screen")
        grad = linear_gradient(w, h, [pal.shapes[-1], glow_a], angle=90)
        paint(scene.img, full(sun), grad)
        if "city" in scene.tags:  # a dark skyline against the sun, outlined in neon
            profile = skyline(w, horizon, rng, h)
            cov = height_field(profile, h)
            cov[int(horizon) + 1:] = 0
            paint(scene.img, full(cov), dark)
            steps = np.flatnonzero(np.diff(profile)) + 1
            outline = [(0.0, float(profile[0]))]
            for x in steps:
                outline += [(float(x), float(profile[x - 1])), (float(x), float(profile[x]))]
            outline.append((float(w), float(profile[-1])))
        for k in range(1, 14):
            y = horizon + (h - horizon) * (k / 13) ** 2.1
            lines = np.maximum(lines, tube([(0, y), (w, y)], max(1.5, s * 0.003)))
        for k in range(-12, 13):
            lines = np.maximum(lines, tube([(w / 2 + k * w * 0.015, horizon), (w / 2 + k * w * 0.22, h)],
                                                 max(1.5, s * 0.003)))
        lines[: int(horizon)] = 0
        if "city" in scene.tags:
            lines = np.maximum(lines, tube(outline, max(1.5, s * 0.0035)))
        text = TextPlan((round(w * 0.08), round(h * 0.07), round(w * 0.92), round(h * 0.3)), glow=True,
                        font="rounded")
    elif scene.has_text:  # a neon frame around the words, like a sign over a club door
        thick = max(2.0, s * 0.006)
        if rng.random() < 0.5:
            r = s * 0.4
            pts = [(w / 2 + r * math.cos(2 * math.pi * i / 120), h / 2 + r * math.sin(2 * math.pi * i / 120))
                   for i in range(120)]
            lines = tube(pts, thick, closed=True)
            box = (round(w / 2 - r * 0.72), round(h / 2 - r * 0.42), round(w / 2 + r * 0.72), round(h / 2 + r * 0.42))
        else:
            mx, my = w * 0.1, h / 2 - min(h * 0.22, s * 0.3)
            lines = tube([(mx, my), (w - mx, my), (w - mx, h - my), (mx, h - my)], thick, closed=True)
            inner = [(mx + thick * 4, my + thick * 4), (w - mx - thick * 4, my + thick * 4),
                     (w - mx - thick * 4, h - my - thick * 4), (mx + thick * 4, h - my - thick * 4)]
            lines = np.maximum(lines, tube(inner, thick * 0.6, closed=True) * 0.8)
            pad = s * 0.07
            box = (round(mx + pad), round(my + pad), round(w - mx - pad), round(h - my - pad))
        text = TextPlan(box, glow=True, font="rounded")
    else:
        for _ in range(int(rng.integers(2, 4))):
            cx, cy, r = rng.uniform(0.25, 0.75) * w, rng.uniform(0.25, 0.75) * h, s * rng.uniform(0.12, 0.3)
            k = int(rng.integers(3, 7))
            start = rng.uniform(0, 2 * math.pi)
            pts = [(cx + r * math.cos(start + 2 * math.pi * i / k), cy + r * math.sin(start + 2 * math.pi * i / k))
                   for i in range(k)] if rng.random() < 0.6 else [
                (cx + r * math.cos(2 * math.pi * i / 90), cy + r * math.sin(2 * math.pi * i / 90)) for i in range(90)]
            lines = np.maximum(lines, tube(pts, max(2.0, s * 0.006), closed=True))
        text = centre_plan(scene, glow=True, font="rounded")
    glow = blur(lines, s * 0.012)
    paint(scene.img, full(np.clip(glow * 2.2, 0, 1)), glow_b, mode="screen")
    paint(scene.img, full(np.clip(blur(lines, s * 0.04) * 1.5, 0, 1)), glow_a, opacity=0.6, mode="screen")
    paint(scene.img, full(lines), mix(glow_b, (1.0, 1.0, 1.0), 0.6))
    return text


def retro(scene: Scene) -> TextPlan:
    """A 70s sunburst with rainbow arcs rising from the bottom, printed on warm paper with halftone dots."""
    pal, rng, w, h, s = scene.palette, scene.rng, scene.width, scene.height, scene.side
    paper = mix(pal.light, (0.96, 0.9, 0.78), 0.6)
    scene.fill(paper)
    cx, cy = w / 2, h * (0.98 if scene.has_text else 0.9)
    d, dx, dy = polar(w, h, cx, cy)
    paint(scene.img, full(sunburst(d, dx, dy, int(rng.integers(14, 24)) * 2)), mix(paper, pal.shapes[-1], 0.25))
    arcs = list(pal.shapes[:5])
    band = s * rng.uniform(0.05, 0.075)
    outer = s * rng.uniform(0.5, 0.62)
    for i, colour in enumerate([*arcs, paper]):  # filled discs, outermost first: each leaves a ring
        r = outer - i * band
        top = max(0, int(cy - r - 2))
        paint(scene.img, (np.clip(np.float32(r + 0.5) - d[top:], 0, 1), 0, top), colour)
    # Halftone: dots on a grid whose radius grows towards the top corner.
    step = max(6, round(s * 0.018))
    rows = int(h * 0.45)
    gx = np.arange(w, dtype=np.float32) % step - step / 2
    gy = np.arange(rows, dtype=np.float32)[:, None] % step - step / 2
    ys = np.arange(rows, dtype=np.float32)[:, None]
    rad = step * 0.45 * np.clip(1 - ys / (h * 0.45) - np.abs(np.arange(w, dtype=np.float32) / w - 0.85), 0, 1)
    dots = np.clip(rad - np.sqrt(gx * gx + gy * gy) + 0.5, 0, 1)
    paint(scene.img, full(dots.astype(np.float32)), pal.shapes[0], opacity=0.55)
    add_grain(scene.img, rng, 0.02)
    if scene.has_text:
        return TextPlan((round(w * 0.08), round(h * 0.06), round(w * 0.92), round(h * 0.34)), upper=True,
                        font="display")
    return centre_plan(scene)


def minimal(scene: Scene) -> TextPlan:
    """Quiet space and one shape on a third: an arch, a circle or a sun on a line."""
    pal, rng, w, h, s = scene.palette, scene.rng, scene.width, scene.height, scene.side
    scene.fill(linear_gradient(w, h, [pal.background[0], mix(pal.background[0], pal.background[1], 0.5)],
                               angle=float(rng.uniform(60, 120))))
    left = rng.random() < 0.5
    cx = w * (0.36 if left else 0.64) if w > h else w / 2
    cy = h * 0.42 if w > h or not scene.has_text else h * 0.36
    r = s * rng.uniform(0.16, 0.24)
    kind = int(rng.integers(3))
    colour = pal.vivid
    if kind == 0:  # arch
        paint(scene.img, disc(cx, cy - r * 0.3, r), colour)
        paint(scene.img, rounded_rect(cx - r, cy - r * 0.3, cx + r, cy + r * 1.2, 0), colour)
    elif kind == 1:  # two overlapping circles
        paint(scene.img, disc(cx - r * 0.35, cy, r), colour)
        paint(scene.img, disc(cx + r * 0.35, cy, r), pal.shapes[1 % len(pal.shapes)], opacity=0.75, mode="multiply")
    else:  # sun on a horizon line
        paint(scene.img, disc(cx, cy, r), colour)
        paint(scene.img, rounded_rect(w * 0.15, cy + r * 1.35, w * 0.85, cy + r * 1.35 + max(1.5, s * 0.003), 0),
              pal.dark if not pal.is_dark else pal.light, opacity=0.8)
    if w > h:
        tx0 = round(w * 0.06) if not left else round(w * 0.56)
        return TextPlan((tx0, round(h * 0.3), tx0 + round(w * 0.38), round(h * 0.7)), align="left")
    return TextPlan((round(w * 0.12), round(h * 0.68), round(w * 0.88), round(h * 0.9)))
