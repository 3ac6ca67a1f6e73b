"""One slide's content placed into its design: which text goes where, at what size, in which lines.

Both `pptx_render` and `preview` draw from a `SlidePlan`, so the thumbnail and the file agree on
boxes, font sizes and line breaks.

Bullet levels: the model keeps bullets as flat strings, so a sub-bullet is written with a leading
dash: "- detail" is level 1, "-- finer detail" level 2 (an en dash works too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.services.slides.engine.layout import (
    EMU_PER_PT,
    Box,
    Design,
    Frame,
    LayoutSpec,
)
from app.services.slides.engine.model import Slide, TableData
from app.services.slides.engine.themes import font_file
from app.services.slides.engine.typeset import (
    WIDTH_SLACK,
    FitSpec,
    Fitted,
    Paragraph,
    fit_text,
    layout_text,
    line_height_factor,
    text_width,
)

_FIGURE = re.compile(r"^[-+−]?[$€£¥]?\s?[\d.,  ]+\s?(%|[kKMBbn]{1,2}|[$€£¥])?$")
_LEVEL = re.compile(r"^([-–]{1,2})\s+(\S.*)$")
# Characters XML 1.0 cannot carry (control codes, lone surrogates): lxml refuses them in a chart
# part, and PowerPoint shows them as boxes elsewhere.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
CELL_MARGIN_X_PT = 7.2  # 0.1 in, as set on every cell
CELL_MARGIN_Y_PT = 3.6  # 0.05 in
TABLE_MAX_PT, TABLE_MIN_PT = 20, 9


@dataclass(frozen=True)
class TextBlock:
    role: str
    frame: Frame
    paragraphs: tuple[Paragraph, ...]
    fitted: Fitted


@dataclass(frozen=True)
class TablePlan:
    box: Box
    col_widths: tuple[int, ...]  # EMU
    row_heights: tuple[int, ...]  # EMU, header first
    size_pt: int
    cells: tuple[tuple[str, ...], ...]  # header first
    lines: tuple[tuple[tuple[str, ...], ...], ...]  # wrapped lines per cell, for the preview
    overflow: bool
    numeric: tuple[bool, ...] = ()  # per column: figures, set right-aligned so digits line up


@dataclass(frozen=True)
class SlidePlan:
    kind: str
    spec: LayoutSpec
    texts: dict[str, TextBlock]
    picture: Frame | None = None
    chart: Box | None = None
    chart_font_pt: int = 14
    table: TablePlan | None = None

    @property
    def overflow(self) -> list[str]:
        """Roles whose text does not fit even at the smallest size (the UI can flag them)."""
        roles = [role for role, block in self.texts.items() if block.fitted.overflow]
        if self.table is not None and self.table.overflow:
            roles.append("table")
        return roles


def _scrub(value):
    if isinstance(value, str):
        return _NOT_XML.sub("", value)
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    return value


def xml_safe_text(text: str) -> str:
    return _NOT_XML.sub("", text)


def xml_safe(slide: Slide) -> Slide:
    """The slide without characters a .pptx cannot hold (the model accepts any string)."""
    data = slide.model_dump()
    cleaned = _scrub(data)
    return slide if cleaned == data else Slide.model_validate(cleaned)


def parse_bullet(text: str) -> Paragraph:
    """A bullet string → paragraph with its level ("- x" is level 1, "-- x" level 2)."""
    match = _LEVEL.match(text)
    if match:
        return Paragraph(match.group(2), level=len(match.group(1)))
    return Paragraph(text)


def _pt(emu: int) -> float:
    return emu / EMU_PER_PT


def _block(role: str, frame: Frame | None, paragraphs: list[Paragraph]) -> TextBlock | None:
    if frame is None or frame.style is None or not paragraphs:
        return None
    left, top, right, bottom = frame.style.inset_pt
    fitted = fit_text(paragraphs, frame.style.fit_spec(), width_pt=_pt(frame.box.w) - left - right,
                      height_pt=_pt(frame.box.h) - top - bottom)
    return TextBlock(role, frame, tuple(paragraphs), fitted)


def _body(bullets: list[str], *, lead: str = "") -> list[Paragraph]:
    paragraphs = [Paragraph(lead, bullet=False)] if lead else []
    return paragraphs + [parse_bullet(b) for b in bullets]


def _quoted(text: str) -> str:
    if not text or text[0] in "“\"'«„":
        return text
    return f"“{text}”"


def plan_slide(*, slide: Slide, design: Design, deck_title: str = "") -> SlidePlan:
    """Place one slide's content into the design's layout for its kind."""
    kind = slide.layout
    spec = design.layouts[kind]
    frames = spec.frames
    wanted: dict[str, list[Paragraph]] = {}
    if kind in ("title", "section"):
        title = slide.title or (deck_title if kind == "title" else "")
        wanted["title"] = [Paragraph(title)] if title else []
        subtitle = slide.subtitle or (slide.bullets[0] if slide.bullets else "")
        wanted["subtitle"] = [Paragraph(subtitle)] if subtitle else []
    elif kind == "quote":
        quote = slide.quote or slide.subtitle or (slide.bullets[0] if slide.bullets else "") or slide.title
        wanted["quote"] = [Paragraph(_quoted(quote))] if quote else []
        wanted["attribution"] = [Paragraph(f"— {slide.attribution}")] if slide.attribution else []
        if slide.title and slide.title != quote:
            wanted["kicker"] = [Paragraph(slide.title)]
    else:
        wanted["title"] = [Paragraph(slide.title)] if slide.title else []
        if kind == "two_column":
            wanted["left"] = _body(slide.bullets, lead=slide.subtitle)
            wanted["right"] = _body(slide.bullets_right)
        elif kind in ("bullets", "image_text"):
            wanted["body"] = _body(slide.bullets, lead=slide.subtitle)
    texts = {}
    for role, paragraphs in wanted.items():
        block = _block(role, frames.get(role), paragraphs)
        if block is not None:
            texts[role] = block
    plan = SlidePlan(kind=kind, spec=spec, texts=texts, picture=frames.get("picture"))
    if kind == "chart" and slide.chart is not None and "chart" in frames:
        count = len(slide.chart.categories)
        size = 16 if count <= 6 else 14 if count <= 10 else 12 if count <= 16 else 10
        plan = SlidePlan(kind=kind, spec=spec, texts=texts, chart=frames["chart"].box, chart_font_pt=size)
    if kind == "table" and slide.table is not None and "table" in frames:
        plan = SlidePlan(kind=kind, spec=spec, texts=texts, table=plan_table(slide.table, frames["table"].box, design))
    return plan


def _column_widths(cells: list[list[str]], regular: FitSpec, bold: FitSpec, box_w: int) -> tuple[int, ...]:
    """Share the width by how much text each column holds (in ems: a long line counts up to 14 em,
    the longest word in full so it need not break), with a floor so no column collapses."""
    columns = len(cells[0])
    desired = []
    for col in range(columns):
        texts = [(bold if r == 0 else regular, row[col]) for r, row in enumerate(cells) if row[col]]
        longest_line = max((text_width(spec.font, t, 1.0) for spec, t in texts), default=0.0)
        longest_word = max((text_width(spec.font, w, 1.0) + 0.6 for spec, t in texts for w in t.split(" ")),
                           default=0.0)
        desired.append(max(min(longest_line, 14.0), longest_word, 2.0))
    total = sum(desired)
    floor = 0.55 / columns
    shares = [max(d / total, floor) for d in desired]
    scale = sum(shares)
    widths = [int(box_w * s / scale) for s in shares]
    widths[-1] += box_w - sum(widths)
    return tuple(widths)


def plan_table(table: TableData, box: Box, design: Design) -> TablePlan:
    """Column widths, font size and row heights for a native table that fits the box."""
    cells = [list(table.header)] + [list(r) for r in table.rows]
    regular = FitSpec(font=font_file(design.body_font), max_pt=TABLE_MAX_PT, min_pt=TABLE_MIN_PT)
    bold = FitSpec(font=font_file(design.body_font, bold=True), max_pt=TABLE_MAX_PT, min_pt=TABLE_MIN_PT)
    widths = _column_widths(cells, regular, bold, box.w)
    pitch_factor = max(line_height_factor(regular.font), line_height_factor(bold.font))

    def attempt(size: int, slack: float = WIDTH_SLACK) -> tuple[float, list[float], list[tuple[tuple[str, ...], ...]]]:
        heights, all_lines = [], []
        for index, row in enumerate(cells):
            spec = bold if index == 0 else regular
            row_lines = tuple(layout_text([Paragraph(text)], spec, size, _pt(w) - 2 * CELL_MARGIN_X_PT,
                                          slack=slack).lines[0]
                              if text else ("",) for text, w in zip(row, widths, strict=True))
            all_lines.append(row_lines)
            tallest = max(len(lines) for lines in row_lines)
            heights.append(tallest * size * pitch_factor + 2 * CELL_MARGIN_Y_PT)
        return sum(heights), heights, all_lines

    # The size is chosen with width slack, the lines kept are wrapped at full width (as in typeset.fit_text).
    size = next((s for s in range(TABLE_MAX_PT, TABLE_MIN_PT - 1, -1) if attempt(s)[0] <= _pt(box.h)), None)
    overflow = size is None
    size = TABLE_MIN_PT if size is None else size
    _, heights, lines = attempt(size, slack=1.0)
    # Rows get a little air when the table is short; the table never grows past its box.
    spare = max(0.0, _pt(box.h) - sum(heights))
    extra = min(spare / len(heights), size * 0.9)
    row_heights = tuple(round((h + extra) * EMU_PER_PT) for h in heights)
    used = Box(box.x, box.y, box.w, min(box.h, sum(row_heights)))
    numeric = tuple(bool(table.rows) and all(_FIGURE.match(row[c].strip()) for row in table.rows if row[c].strip())
                    and any(row[c].strip() for row in table.rows) for c in range(len(table.header)))
    return TablePlan(box=used, col_widths=widths, row_heights=row_heights, size_pt=size,
                     cells=tuple(tuple(r) for r in cells), lines=tuple(lines), overflow=overflow, numeric=numeric)
