"""Typesetting: text measured, wrapped and fitted with the real font files.

python-pptx cannot measure text, so the renderer picks each text box's font size here: words are
measured with Pillow (FreeType) on the shipped font files, wrapped greedily the way PowerPoint and
LibreOffice wrap, and the largest size whose lines fit the box wins. The preview draws the very
lines computed here, so the thumbnail and the file break lines in the same places.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

REF_SIZE = 200  # measure at a large size and scale: advance widths are close to linear in size
EMU_PER_PT = 12700
# PowerPoint and LibreOffice kern and hint slightly differently from FreeType; keep a little slack.
WIDTH_SLACK = 0.96


@lru_cache(maxsize=64)
def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size)


def pil_font(path: Path, size_px: float) -> ImageFont.FreeTypeFont:
    """A cached Pillow font at a whole pixel size (for drawing)."""
    return _font(path, max(1, round(size_px)))


@lru_cache(maxsize=16)
def line_height_factor(path: Path) -> float:
    """Line pitch as a multiple of the font size at 100 % spacing.

    Office applications use the font's ascent + descent, which is about 1.2 for most faces; fonts
    whose metrics claim less (League Spartan says 0.92) still get 1.2 so lines are never too tight.
    """
    ascent, descent = _font(path, REF_SIZE).getmetrics()
    return max(1.2, (ascent + descent) / REF_SIZE)


@lru_cache(maxsize=20000)
def _word_width(path: Path, word: str) -> float:
    return _font(path, REF_SIZE).getlength(word) / REF_SIZE


def text_width(path: Path, text: str, size_pt: float) -> float:
    """Width of `text` in points at `size_pt`."""
    return _word_width(path, text) * size_pt


@dataclass(frozen=True)
class Paragraph:
    text: str
    level: int = 0  # 0 = top-level bullet
    bullet: bool = True  # False: a lead-in line in a bulleted box, set flush left without a bullet


@dataclass(frozen=True)
class FitSpec:
    """How one text box lays out: the font, size range, spacing and bullet indents (in points)."""

    font: Path
    max_pt: int
    min_pt: int
    line_spacing: float = 1.0  # multiple of the font's natural line pitch
    space_before: float = 0.0  # before every paragraph but the first, as a multiple of the size
    indent_pt: tuple[float, ...] = (0.0,)  # left margin per level (text start, after the bullet)
    uppercase: bool = False
    level_step: float = 0.0  # sub-bullets are this many points smaller per level


@dataclass(frozen=True)
class Fitted:
    size_pt: int
    lines: tuple[tuple[str, ...], ...]  # wrapped lines, per paragraph
    height_pt: float
    overflow: bool  # True when even min_pt does not fit


def indent_for(spec: FitSpec, para: Paragraph) -> float:
    """Where the paragraph's text starts, in points from the box's inner left edge."""
    if not para.bullet:
        return 0.0
    return spec.indent_pt[min(para.level, len(spec.indent_pt) - 1)]


def paragraph_size(spec: FitSpec, size_pt: int, para: Paragraph) -> int:
    """The size of one paragraph when the box is set at `size_pt` (sub-bullets step down)."""
    if not para.bullet or not para.level or not spec.level_step:
        return size_pt
    return max(spec.min_pt, round(size_pt - spec.level_step * para.level))


def wrap(path: Path, text: str, size_pt: float, width_pt: float) -> list[str]:
    """Greedy word wrap; a word longer than the line is broken between characters, as Office does."""
    if width_pt <= 0:
        return [text]
    space = _word_width(path, " ") * size_pt
    lines: list[str] = []
    current, current_w = "", 0.0
    for word in text.split(" "):
        word_w = _word_width(path, word) * size_pt
        if current and current_w + space + word_w <= width_pt:
            current, current_w = f"{current} {word}", current_w + space + word_w
            continue
        if current:
            lines.append(current)
        while word_w > width_pt and len(word) > 1:
            cut = len(word) - 1
            while cut > 1 and _word_width(path, word[:cut]) * size_pt > width_pt:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
            word_w = _word_width(path, word) * size_pt
        current, current_w = word, word_w
    lines.append(current)
    return lines


def layout_text(paragraphs: list[Paragraph], spec: FitSpec, size_pt: int, width_pt: float, *,
                slack: float = WIDTH_SLACK) -> Fitted:
    """Wrap every paragraph at one size and add up the height."""
    usable = width_pt * slack
    factor = line_height_factor(spec.font) * spec.line_spacing
    all_lines: list[tuple[str, ...]] = []
    height = 0.0
    for index, para in enumerate(paragraphs):
        text = para.text.upper() if spec.uppercase else para.text
        size = paragraph_size(spec, size_pt, para)
        lines = wrap(spec.font, text, size, usable - indent_for(spec, para))
        all_lines.append(tuple(lines))
        height += len(lines) * size * factor + (spec.space_before * size if index else 0.0)
    return Fitted(size_pt=size_pt, lines=tuple(all_lines), height_pt=height, overflow=False)


def fit_text(paragraphs: list[Paragraph], spec: FitSpec, *, width_pt: float, height_pt: float) -> Fitted:
    """The largest size in [min_pt, max_pt] whose wrapped text fits the box (binary search: the
    height only grows with the size).

    The size is chosen with a little width slack (safe if PowerPoint measures slightly wider); the
    lines returned are wrapped at the full width, as LibreOffice and PowerPoint will break them.
    """
    if not paragraphs:
        return Fitted(size_pt=spec.max_pt, lines=(), height_pt=0.0, overflow=False)
    low, high = spec.min_pt, spec.max_pt
    best: Fitted | None = None
    while low <= high:
        mid = (low + high) // 2
        fitted = layout_text(paragraphs, spec, mid, width_pt)
        if fitted.height_pt <= height_pt:
            best, low = fitted, mid + 1
        else:
            high = mid - 1
    if best is None:
        smallest = layout_text(paragraphs, spec, spec.min_pt, width_pt, slack=1.0)
        return Fitted(smallest.size_pt, smallest.lines, smallest.height_pt, overflow=True)
    return layout_text(paragraphs, spec, best.size_pt, width_pt, slack=1.0)
