"""Layouts of the local design engine that are about the type: poster, logo and card (invitations).

A poster runs a composition family and gives the type a band or the calm part of the picture; a logo
is an emblem on a plain ground with the wordmark beneath; a card is paper, a fine double frame and
centred serif type.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from app.services.generation.local.palette import contrast_ratio, luminance
from app.services.generation.local.shapes import (
    Scene,
    add_grain,
    disc,
    full,
    mix,
    paint,
    polygon,
    radial_gradient,
    rounded_rect,
    stroke,
    value_noise,
)
from app.services.generation.local.subject import icon_rgba, over
from app.services.generation.local.typography import FONTS, TextPlan, text_mask

Family = Callable[[Scene], TextPlan]
_OWN_TEXT_AREA = {"neon", "landscape", "retro", "iso", "waves", "bauhaus"}  # they leave room for type already
_SMALL_WORDS = {"&", "and", "the", "of", "co", "co.", "inc", "ltd", "+", "-", "a"}


def poster(scene: Scene, family: Family, family_name: str) -> TextPlan:
    """The family's picture with a print border; type in the room the family left or on a solid band."""
    pal, w, h, s = scene.palette, scene.width, scene.height, scene.side
    plan = family(scene)
    if not scene.has_text:
        border = round(s * 0.035)
        frame = np.ones((h, w), np.float32)
        frame[border:h - border, border:w - border] = 0
        paint(scene.img, full(frame), pal.light if not pal.is_dark else pal.dark)
        return plan
    if family_name in _OWN_TEXT_AREA:
        return TextPlan(plan.box, align=plan.align, valign=plan.valign, upper=True,
                        font=plan.font or "display", glow=plan.glow)
    band_top = round(h * 0.66)
    ground = pal.dark if not pal.is_dark else pal.light
    paint(scene.img, rounded_rect(0, band_top, w, h, 0), ground)
    paint(scene.img, rounded_rect(0, band_top, w, band_top + max(2, round(s * 0.008)), 0), pal.shapes[0])
    m = round(w * 0.07)
    return TextPlan((m, band_top + round(h * 0.04), w - m, h - round(h * 0.04)), align="left", upper=True,
                    font="display")


def _initials(text: str) -> str:
    words = [wd for wd in text.replace("&", " & ").split() if wd.lower() not in _SMALL_WORDS]
    letters = "".join(wd[0] for wd in words[:2] if wd[0].isalnum()).upper()
    return letters or (text.strip()[:1].upper() or "A")


def logo(scene: Scene, title: str, font_category: str, *, subject: str = "",
         variant: int = 0) -> tuple[TextPlan, str]:
    """A centred emblem and the wordmark under it. The emblem is the prompt's subject (alone, or on a disc)
    when the icon set has it, else a badge with monogram, a bean/leaf, interlocking circles or a peak in
    a ring. `variant` (the seed) turns the emblem kind over, so n logos asked at once are n designs.
    Returns where the wordmark goes and the emblem kind drawn."""
    pal, rng, w, h, s = scene.palette, scene.rng, scene.width, scene.height, scene.side
    ground = pal.background[0]
    scene.fill(radial_gradient(w, h, [mix(ground, pal.light, 0.35), ground], radius=0.8))
    cx, cy = w / 2, h * (0.4 if scene.has_text else 0.5)
    r = s * (0.19 if scene.has_text else 0.26)
    # The emblem must stand off the ground: the vivid accent when it does, else the strongest contrast.
    def stands_out(colour: tuple[float, float, float]) -> float:
        return contrast_ratio(luminance(colour), luminance(ground))

    main = pal.vivid if stands_out(pal.vivid) >= 2.5 else max(pal.shapes, key=stands_out)
    second = next((c for c in pal.shapes if c != main and stands_out(c) >= 1.8), pal.shapes[-1])
    inverse = pal.light if not pal.is_dark else pal.dark
    kinds = ["badge", "circles", "peak", "bean"] if title else ["circles", "peak", "bean"]
    if "coffee" in scene.tags:
        kinds.insert(0, kinds.pop(kinds.index("bean")))
    if subject:
        kinds = ["subject_disc", "subject", *kinds[:2]]
    kind = kinds[variant % len(kinds)]
    if kind in ("subject", "subject_disc"):
        if kind == "subject_disc":
            paint(scene.img, disc(cx, cy, r), main)
        size = round(r * (1.25 if kind == "subject_disc" else 2.0))
        rgba = icon_rgba(subject, size)
        over(scene.img, rgba, round(cx - size / 2), round(cy - size / 2))
    elif kind == "badge":
        paint(scene.img, disc(cx, cy, r), main)
        paint(scene.img, disc(cx, cy, r * 0.86, inner=r * 0.86 - max(1.5, s * 0.004)), inverse, opacity=0.9)
        mark = text_mask(_initials(title), FONTS.get(font_category, FONTS["sans"])[0], round(r * 1.1), round(r * 0.7))
        mh, mw = mark.shape
        paint(scene.img, (mark, round(cx - mw / 2), round(cy - mh / 2)), inverse)
    elif kind == "bean":  # two discs' intersection (a vesica) with an S-curve cut: a bean, or a leaf
        angle = math.radians(rng.uniform(-35, 35))
        ox, oy = math.cos(angle) * r * 0.62, math.sin(angle) * r * 0.62
        a, ax, ay = disc(cx + ox, cy + oy, r)
        b, bx, by = disc(cx - ox, cy - oy, r)
        x0, y0 = min(ax, bx), min(ay, by)
        size = max(a.shape[0] + abs(ay - by), a.shape[1] + abs(ax - bx))
        canvas_a, canvas_b = np.zeros((size, size), np.float32), np.zeros((size, size), np.float32)
        canvas_a[ay - y0:ay - y0 + a.shape[0], ax - x0:ax - x0 + a.shape[1]] = a
        canvas_b[by - y0:by - y0 + b.shape[0], bx - x0:bx - x0 + b.shape[1]] = b
        paint(scene.img, (np.minimum(canvas_a, canvas_b), x0, y0), main)
        px, py = -math.sin(angle), math.cos(angle)  # across the bean
        pts = [(cx + px * r * 0.75 * t + ox * 0.18 * math.sin(t * math.pi), cy + py * r * 0.75 * t
                + oy * 0.18 * math.sin(t * math.pi)) for t in np.linspace(-1, 1, 40)]
        paint(scene.img, stroke(pts, max(2.0, r * 0.07)), ground)
    elif kind == "circles":
        for i, colour in enumerate((main, second, pal.shapes[2 % len(pal.shapes)])):
            ang = math.radians(90 + 120 * i)
            paint(scene.img, disc(cx + math.cos(ang) * r * 0.42, cy - math.sin(ang) * r * 0.42, r * 0.58), colour,
                  opacity=0.85, mode="multiply" if not pal.is_dark else "screen")
    else:
        paint(scene.img, disc(cx, cy, r), main)
        peaks = [(cx - r * 0.75, cy + r * 0.35), (cx - r * 0.2, cy - r * 0.45), (cx + r * 0.1, cy - r * 0.05),
                 (cx + r * 0.35, cy - r * 0.3), (cx + r * 0.8, cy + r * 0.35)]
        paint(scene.img, polygon(peaks), inverse)
        paint(scene.img, disc(cx + r * 0.35, cy - r * 0.52, r * 0.12), second)
        paint(scene.img, rounded_rect(cx - r * 0.75, cy + r * 0.45, cx + r * 0.75, cy + r * 0.45 + max(2, r * 0.06),
                                      r * 0.03), inverse)
    m = round(w * 0.12)
    return TextPlan((m, round(h * 0.63), w - m, round(h * 0.86)), max_size=round(s * 0.09)), kind


def _leaf(cx: float, cy: float, length: float, width: float, angle: float) -> list[tuple[float, float]]:
    """A pointed leaf (a lens shape) centred on (cx, cy), pointing along `angle` (radians)."""
    ts = np.linspace(0, 1, 14)
    half = width / 2 * np.sin(np.pi * ts)
    side = [(t - 0.5, hw) for t, hw in zip(ts, half, strict=True)]
    outline = side + [(t, -hw) for t, hw in reversed(side)]
    ca, sa = math.cos(angle), math.sin(angle)
    return [(cx + ca * u * length - sa * v, cy + sa * u * length + ca * v) for u, v in outline]


def card(scene: Scene) -> TextPlan:
    """Invitation or greeting card on paper: a double frame with corner diamonds, an arch window, or a
    wreath of leaves, each leaving the middle for centred serif type."""
    pal, rng, w, h, s = scene.palette, scene.rng, scene.width, scene.height, scene.side
    paper = mix(pal.light, (0.98, 0.95, 0.9), 0.5) if not pal.is_dark else mix(pal.dark, (0.05, 0.06, 0.1), 0.3)
    scene.fill(paper)
    scene.img *= (0.975 + 0.025 * value_noise(w, h, rng, cells=30, octaves=2))[None]
    accent = pal.vivid  # gold stays gold; only a colour lost on the paper gives way to the strongest contrast
    if abs(sum(accent) - sum(paper)) < 0.45:
        accent = max(pal.shapes, key=lambda c: abs(sum(c) - sum(paper)))
    second = next((c for c in pal.shapes if c != accent and abs(sum(c) - sum(paper)) > 0.45), accent)
    variant = scene.pick(["frame", "arch", "wreath"])
    thin = max(1.0, s * 0.0016)
    if variant == "frame":
        m, gap = s * 0.06, s * 0.014
        for inset, thick in ((m, s * 0.004), (m + gap, thin)):
            pts = [(inset, inset), (w - inset, inset), (w - inset, h - inset), (inset, h - inset)]
            paint(scene.img, stroke(pts, max(1.0, thick), closed=True), accent)
        for fx, fy in ((0, 0), (1, 0), (1, 1), (0, 1)):  # a diamond in each corner, between the frames
            x = m + gap / 2 if fx == 0 else w - m - gap / 2
            y = m + gap / 2 if fy == 0 else h - m - gap / 2
            d = gap * 1.2
            paint(scene.img, polygon([(x, y - d), (x + d, y), (x, y + d), (x - d, y)]), accent)
        inner = round(m + gap * 3)
        box = (max(round(w * 0.1), inner), round(h * 0.33), min(round(w * 0.9), w - inner), round(h * 0.67))
    elif variant == "arch":
        aw = min(w * 0.36, h * 0.3)
        top, bottom = h * 0.12 + aw, h * 0.88
        arc = [(w / 2 - aw * math.cos(a), top - aw * math.sin(a)) for a in np.linspace(0, math.pi, 60)]
        outline = [(w / 2 - aw, bottom), *arc, (w / 2 + aw, bottom)]
        paint(scene.img, stroke(outline, max(1.5, s * 0.004), closed=True), accent)
        inset = [(w / 2 - (aw - s * 0.014), bottom - s * 0.014)] + [
            (w / 2 - (aw - s * 0.014) * math.cos(a), top - (aw - s * 0.014) * math.sin(a))
            for a in np.linspace(0, math.pi, 60)] + [(w / 2 + (aw - s * 0.014), bottom - s * 0.014)]
        paint(scene.img, stroke(inset, thin, closed=True), accent)
        box = (round(w / 2 - aw * 0.82), round(top - aw * 0.1), round(w / 2 + aw * 0.82), round(bottom - h * 0.12))
    else:
        r = s * 0.34
        cx, cy = w / 2, h / 2
        for side in (-1, 1):  # two branches from the bottom, meeting near the top
            for i, a in enumerate(np.linspace(math.pi / 2 + 0.35, math.pi / 2 + 2.75, 16)):
                ang = math.pi / 2 + side * (a - math.pi / 2)
                px, py = cx + r * math.cos(ang), cy + r * math.sin(ang)
                tangent = ang - side * math.pi / 2
                tilt = tangent + side * (0.55 if i % 2 else -0.55)
                size = s * (0.06 - 0.0015 * i)
                paint(scene.img, polygon(_leaf(px + math.cos(tilt) * size * 0.45, py + math.sin(tilt) * size * 0.45,
                                               size, size * 0.38, tilt)), accent if i % 3 else second)
            paint(scene.img, stroke([(cx + r * math.cos(math.pi / 2 + side * (a - math.pi / 2)),
                                      cy + r * math.sin(math.pi / 2 + side * (a - math.pi / 2)))
                                     for a in np.linspace(math.pi / 2 + 0.3, math.pi / 2 + 2.8, 40)], thin), accent)
        box = (round(cx - r * 0.78), round(cy - r * 0.5), round(cx + r * 0.78), round(cy + r * 0.5))
    if variant != "wreath":
        rule_w = s * 0.1
        for y in (box[1] - h * 0.03, box[3] + h * 0.03):
            paint(scene.img, rounded_rect(w / 2 - rule_w, y, w / 2 + rule_w, y + thin, 0), accent)
            paint(scene.img, disc(w / 2, y, s * 0.004), accent)
    add_grain(scene.img, rng, 0.006)
    return TextPlan(box, max_size=round(s * 0.14), font="serif")
