"""Typography for the local design engine: quoted prompt text set in a fitting font, never overflowing.

Only text the user put in quotes is set ("…", “…”, '…'); the prompt itself is never printed. The
font follows the mood (serif for elegant, bold display for posters, rounded for playful, mono for tech).
Text is wrapped and shrunk until it fits its box, and its colour is the palette colour with the best
WCAG contrast against the pixels actually behind it; when the background is too busy for any colour
to read, a soft panel goes behind the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont

from app.services.generation.local.palette import (
    RGB,
    Palette,
    contrast_ratio,
    luminance,
)
from app.services.generation.local.shapes import (
    blur,
    full,
    paint,
    rounded_rect,
)

FONT_DIR = Path(__file__).resolve().parents[4] / "assets" / "fonts"
# category → (headline font, secondary font)
FONTS = {
    "serif": ("EBGaramond12-Regular.otf", "EBGaramond12-Italic.otf"),
    "display": ("LeagueSpartan-Bold.otf", "Inter-Regular.otf"),
    "heavy": ("Inter-Black.otf", "Inter-Regular.otf"),
    "rounded": ("Comfortaa-Bold.ttf", "Comfortaa-Regular.ttf"),
    "mono": ("FiraCode-Bold.ttf", "FiraCode-Regular.ttf"),
    "sans": ("Inter-Bold.otf", "Inter-Regular.otf"),
    "humanist": ("Lato-Bold.ttf", "Lato-Regular.ttf"),
}
FALLBACK = ("DejaVuSans-Bold.ttf", "DejaVuSans.ttf")  # the widest coverage: Greek, Cyrillic, symbols
MAX_TEXT_CHARS = 300  # per quoted string; longer quotes are cut (the prompt itself is capped at 2000)
_QUOTES = re.compile(r"\"([^\"]+)\"|“([^”]+)”|„([^“”]+)[“”]|«([^»]+)»|(?<![\w])'([^']+)'(?![\w])")

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (x1, y1 exclusive)


def quoted_texts(prompt: str) -> list[str]:
    """The quoted strings of a prompt, in order, whitespace tidied, empty ones dropped."""
    out = []
    for match in _QUOTES.finditer(prompt):
        text = " ".join(next(g for g in match.groups() if g is not None).split())
        if text:
            out.append(text[:MAX_TEXT_CHARS])
    return out


def strip_quotes(prompt: str) -> str:
    """The prompt without its quoted strings (their words are type, not instructions)."""
    return _QUOTES.sub(" ", prompt)


@lru_cache(maxsize=256)
def load_font(filename: str, size: int) -> ImageFont.FreeTypeFont:
    """A shipped font at a pixel size (cached: FreeType faces are costly to open)."""
    return ImageFont.truetype(str(FONT_DIR / filename), size)


@dataclass(frozen=True)
class TextPlan:
    """Where a composition wants its type: the box, alignment, case and largest size."""

    box: Box
    align: str = "center"  # center / left
    valign: str = "center"  # top / center / bottom
    upper: bool = False
    max_size: int = 0  # 0 = as large as fits
    font: str = ""  # a FONTS category that overrides the mood's
    glow: bool = False  # neon: the ink also glows


@dataclass(frozen=True)
class Fitted:
    """Text wrapped into lines at the size that fits."""

    lines: tuple[str, ...]
    filename: str
    size: int
    line_height: int


REF_SIZE = 48  # widths are measured once at this size and scaled: big sizes are slow to measure


@lru_cache(maxsize=8192)
def _ref_length(filename: str, text: str) -> float:
    return load_font(filename, REF_SIZE).getlength(text)


def _wrap(text: str, filename: str, width: float) -> tuple[list[str], bool]:
    """Greedy word wrap to `width` (in REF_SIZE units); a word wider than a line is broken between
    characters, and the flag says that happened."""
    lines: list[str] = []
    broke = False
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if _ref_length(filename, candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = ""
        while _ref_length(filename, word) > width and len(word) > 1:
            lo, hi = 1, len(word) - 1  # the longest prefix that fits, by bisection
            while lo < hi:
                mid = (lo + hi + 1) // 2
                lo, hi = (mid, hi) if _ref_length(filename, word[:mid]) <= width else (lo, mid - 1)
            lines.append(word[:lo])
            word = word[lo:]
            broke = True
        current = word
    if current:
        lines.append(current)
    return lines, broke


def fit_text(text: str, filename: str, width: int, height: int, *, max_size: int, min_size: int,
             max_lines: int = 4, leading: float = 1.12) -> Fitted:
    """The largest size at which `text` wraps into `width` × `height`; at the smallest size whatever
    does not fit is cut with an ellipsis, so the result always fits."""

    def ref_width(size: int) -> float:
        return width * REF_SIZE / size * 0.97  # 3% spare for hinting at the real size

    def attempt(size: int) -> list[str] | None:
        lines, broke = _wrap(text, filename, ref_width(size))
        if broke and size > min_size:  # "SUMME / R": only a word too long for any size may be split
            return None
        return lines if len(lines) <= max_lines and len(lines) * round(size * leading) <= height else None

    lo, hi = min_size, max(min_size, max_size)
    best: tuple[int, list[str]] | None = None
    while lo <= hi:
        mid = (lo + hi) // 2
        lines = attempt(mid)
        if lines is not None:
            best, lo = (mid, lines), mid + 1
        else:
            hi = mid - 1
    if best is None:  # too long even at the smallest size: keep what fits and mark the cut
        room = max(1, height // round(min_size * leading))
        limit = ref_width(min_size)
        lines = _wrap(text, filename, limit)[0][:room]
        last = lines[-1]
        while last and _ref_length(filename, last + "…") > limit:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
        best = (min_size, lines)
    size, lines = best
    return Fitted(tuple(lines), filename, size, round(size * leading))


def _pick_ink(lum_lo: float, lum_hi: float, palette: Palette) -> tuple[RGB, float]:
    """The palette colour whose worst contrast over the background's luminance range is best; an
    accent wins when it reads well, since coloured type looks designed rather than default."""
    candidates = [palette.light, palette.dark, *palette.shapes]
    scored = [(min(contrast_ratio(luminance(c), lum_lo), contrast_ratio(luminance(c), lum_hi)), c)
              for c in candidates]
    accents = [s for s in scored[2:] if s[0] >= 5.5]
    worst, ink = max(accents or scored, key=lambda s: s[0])
    return ink, worst


@lru_cache(maxsize=32)
def _coverage(filename: str) -> frozenset[int]:
    return frozenset(TTFont(str(FONT_DIR / filename), lazy=True).getBestCmap())


def drawable(text: str, filename: str, fallback: str) -> tuple[str, str]:
    """(font, text) that can draw `text`: the chosen font, else the wide-coverage fallback, else the
    fallback with the characters no shipped font has (CJK, emoji) left out rather than drawn as boxes."""
    for name in (filename, fallback):
        if all(ord(c) in _coverage(name) or c.isspace() for c in text):
            return name, text
    kept = "".join(c if ord(c) in _coverage(fallback) else " " for c in text)
    return fallback, " ".join(kept.split())


def _layout(title: str, headline: str, subtitle: str, secondary: str, plan: TextPlan, width: int, height: int,
            shrink: float) -> tuple[list, Box, int]:
    """Lines placed as (text, font, baseline x, baseline y), the union of their ink boxes, title size."""
    x0, y0, x1, y1 = plan.box
    box_w, box_h = x1 - x0, y1 - y0
    min_size = max(9, round(min(width, height) * 0.014))
    max_size = max(min_size, round((plan.max_size or box_h) * shrink))
    leading = 1.0 if plan.upper else 1.12
    fitted = fit_text(title, headline, box_w, round(box_h * (0.72 if subtitle else 1.0)), max_size=max_size,
                      min_size=min_size, leading=leading)
    blocks = [fitted]
    if subtitle:
        room = box_h - len(fitted.lines) * fitted.line_height - round(fitted.size * 0.3)
        blocks.append(fit_text(subtitle, secondary, box_w, max(room, min_size * 2),
                               max_size=max(min_size, round(fitted.size * 0.34)), min_size=min_size, max_lines=2,
                               leading=1.3))
    gaps = [0, round(fitted.size * 0.3)]
    total = sum(len(b.lines) * b.line_height for b in blocks) + (gaps[1] if subtitle else 0)
    cursor = {"top": y0, "bottom": y1 - total}.get(plan.valign, y0 + (box_h - total) // 2)
    placed = []
    for block, gap in zip(blocks, gaps, strict=False):
        cursor += gap
        font = load_font(block.filename, block.size)
        cap = -font.getbbox("H", anchor="ls")[1]  # optical centring on the cap height, not the em box
        for line in block.lines:
            lx = x0 if plan.align == "left" else x0 + (box_w - round(font.getlength(line))) // 2
            placed.append((line, font, lx, cursor + (block.line_height + cap) // 2))
            cursor += block.line_height
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    boxes = [probe.textbbox((lx, by), line, font=font, anchor="ls") for line, font, lx, by in placed]
    ux0, uy0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    ux1, uy1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
    # Side bearings and accents can poke out a pixel or two; shift the block back inside.
    dx = max(0, x0 - ux0) - max(0, ux1 - x1)
    dy = max(0, -uy0) - max(0, uy1 - height)
    placed = [(line, font, lx + dx, by + dy) for line, font, lx, by in placed]
    return placed, (ux0 + dx, uy0 + dy, ux1 + dx, uy1 + dy), fitted.size


def set_type(img: np.ndarray, texts: list[str], plan: TextPlan, palette: Palette, category: str) -> list[Box]:
    """Draw the title (first text) and subtitle (the rest) into `plan.box`; returns the inked boxes."""
    headline, secondary = FONTS.get(plan.font or category, FONTS["sans"])
    headline, title = drawable(texts[0].upper() if plan.upper else texts[0], headline, FALLBACK[0]) if texts \
        else (headline, "")
    secondary, subtitle = drawable(" · ".join(texts[1:]), secondary, FALLBACK[1])
    if not title:
        headline, title, subtitle = secondary, subtitle, ""
    if not title:
        return []
    _, height, width = img.shape
    shrink = 1.0
    for _ in range(8):  # widths are measured at a reference size; re-fit smaller in the rare case hinting overflows
        placed, (ux0, uy0, ux1, uy1), size = _layout(title, headline, subtitle, secondary, plan, width, height,
                                                     shrink)
        if ux0 >= plan.box[0] and ux1 <= plan.box[2] and uy0 >= 0 and uy1 <= height:
            break
        shrink *= 0.9
    pad = round(size * 0.35)
    region = img[:, max(0, uy0 - pad):min(height, uy1 + pad), max(0, ux0 - pad):min(width, ux1 + pad)]
    lum = luminance(region.reshape(3, -1)[:, :: max(1, region.size // 30000)].T.clip(0, 1))
    lum_lo, lum_hi = float(np.percentile(lum, 5)), float(np.percentile(lum, 95))
    ink, worst = _pick_ink(lum_lo, lum_hi, palette)
    if worst < 3.0:  # a busy background: a panel behind the text makes it read
        panel = palette.dark if luminance(ink) > 0.4 else palette.light
        px0, py0 = max(0, ux0 - pad * 2), max(0, uy0 - pad * 2)
        px1, py1 = min(width, ux1 + pad * 2), min(height, uy1 + pad * 2)
        paint(img, rounded_rect(px0, py0, px1, py1, pad), panel, opacity=0.82)
    elif worst < 4.5 and not plan.glow:  # readable but soft: a blurred halo in the opposite tone lifts it
        halo = blur(_text_layer(width, height, placed), max(2.0, size * 0.12))
        shade = palette.dark if luminance(ink) > 0.4 else palette.light
        paint(img, full(np.clip(halo * 1.6, 0, 1)), shade, opacity=0.55)
    if plan.glow:  # neon: the letters glow in their colour and burn almost white in the middle
        layer = _text_layer(width, height, placed)
        for sigma, strength in ((size * 0.08, 1.0), (size * 0.3, 0.7)):
            paint(img, full(np.clip(blur(layer, max(1.5, sigma)) * 1.8, 0, 1)), ink, opacity=strength, mode="screen")
        ink = tuple(float(0.45 * c + 0.55) for c in ink)  # type: ignore[assignment]
    _draw_lines(img, placed, ink)
    return [(ux0, uy0, ux1, uy1)]


def _text_layer(width: int, height: int, placed: list) -> np.ndarray:
    layer = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(layer)
    for line, font, lx, by in placed:
        draw.text((lx, by), line, font=font, fill=255, anchor="ls")
    return np.asarray(layer, dtype=np.float32) / 255


def _draw_lines(img: np.ndarray, placed: list, ink: RGB) -> None:
    """Rasterise the lines with FreeType's anti-aliasing into a coverage mask and composite the ink."""
    _, height, width = img.shape
    layer = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(layer)
    for line, font, lx, by in placed:
        draw.text((lx, by), line, font=font, fill=255, anchor="ls")
    bbox = layer.getbbox()
    if bbox is None:
        return
    cov = np.asarray(layer.crop(bbox), dtype=np.float32) / 255
    paint(img, (cov, bbox[0], bbox[1]), ink)


def text_mask(text: str, filename: str, max_w: int, max_h: int) -> np.ndarray:
    """Coverage of `text` set as large as fits in max_w × max_h, tightly cropped (monograms, marks)."""
    size = max(8, max_h)
    font = load_font(filename, size)
    bbox = font.getbbox(text, anchor="ls")
    scale = min(max_w / max(1, bbox[2] - bbox[0]), max_h / max(1, bbox[3] - bbox[1]))
    font = load_font(filename, max(8, int(size * scale)))
    bbox = font.getbbox(text, anchor="ls")
    layer = Image.new("L", (bbox[2] - bbox[0] + 2, bbox[3] - bbox[1] + 2), 0)
    ImageDraw.Draw(layer).text((1 - bbox[0], 1 - bbox[1]), text, font=font, fill=255, anchor="ls")
    return np.asarray(layer, dtype=np.float32) / 255
