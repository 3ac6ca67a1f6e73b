"""Charts for the slide preview, drawn with Pillow in the theme's chart colours.

They follow what PowerPoint draws for the native chart the renderer writes (clustered bars with a
70 % gap, pie from 12 o'clock clockwise with percentage labels, legend right for round charts and
below for several series), so the thumbnail reads like the slide.
"""

from __future__ import annotations

import math

from PIL import ImageDraw

from app.services.slides.engine.layout import Design
from app.services.slides.engine.model import ChartData
from app.services.slides.engine.number_format import format_number
from app.services.slides.engine.pptx_content import AREA_ALPHA
from app.services.slides.engine.themes import font_file
from app.services.slides.engine.typeset import pil_font

Rect = tuple[float, float, float, float]


def _darker(hex_color: str) -> str:
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (0, 2, 4))
    return f"{int(r * 0.75):02X}{int(g * 0.75):02X}{int(b * 0.75):02X}"


def series_colors(design: Design, count: int) -> list[str]:
    """#RRGGBB per series/point: the accent cycle, darkened on the second round (as in the file)."""
    slots = design.chart_colors
    colors = []
    for index in range(count):
        base = design.color(slots[index % len(slots)])
        colors.append("#" + (_darker(base) if index >= len(slots) else base))
    return colors


def nice_ticks(low: float, high: float, count: int = 8) -> list[float]:
    """Round tick values covering [low, high] with headroom, the way Office picks an auto axis
    (steps of 1, 2 or 5 × 10^n; the top tick clears the maximum by 5 % of the range)."""
    low, high = min(0.0, low), max(0.0, high)
    if high == low:
        high = low + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    top = high + (high - low) * 0.05 if high > 0 else high
    start = math.floor(low / step) * step
    ticks = [round(start, 10)]
    while ticks[-1] < top - step * 1e-9:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def draw_chart(draw: ImageDraw.ImageDraw, rect: Rect, chart: ChartData, design: Design, font_px: float) -> None:
    left, top, right, bottom = rect
    text, muted, grid = ("#" + design.color(s) for s in ("tx1", "tx2", "bg2"))
    font = pil_font(font_file(design.body_font), font_px)
    bold = pil_font(font_file(design.body_font, bold=True), font_px * 1.25)
    if chart.title:
        draw.text(((left + right) / 2, top), chart.title, font=bold, fill=text, anchor="ma")
        top += font_px * 2.2
    round_chart = chart.type in ("pie", "doughnut")
    names = chart.categories if round_chart else [s.name for s in chart.series]
    colors = series_colors(design, len(names))
    if round_chart:
        legend_w = max(draw.textlength(n, font=font) for n in names) + font_px * 2
        y = (top + bottom) / 2 - len(names) * font_px * 0.75
        for name, color in zip(names, colors, strict=True):
            x = right - legend_w
            draw.rectangle((x, y + font_px * 0.25, x + font_px * 0.6, y + font_px * 0.85), fill=color)
            draw.text((x + font_px, y), name, font=font, fill=text)
            y += font_px * 1.5
        _draw_round(draw, (left, top, right - legend_w - font_px, bottom), chart, colors, font, design)
        return
    if len(chart.series) > 1:
        widths = [draw.textlength(n, font=font) + font_px * 1.6 for n in names]
        x = (left + right - sum(widths)) / 2
        for name, color, width in zip(names, colors, widths, strict=True):
            draw.rectangle((x, bottom - font_px * 0.95, x + font_px * 0.6, bottom - font_px * 0.35), fill=color)
            draw.text((x + font_px * 0.9, bottom - font_px * 1.2), name, font=font, fill=text)
            x += width
        bottom -= font_px * 2
    _draw_axes_chart(draw, (left, top, right, bottom), chart, colors, font, (text, muted, grid))


def _draw_round(draw, rect: Rect, chart: ChartData, colors: list[str], font, design: Design) -> None:
    left, top, right, bottom = rect
    values = [max(0.0, v) for v in chart.series[0].values]
    total = sum(values) or 1.0
    pie = chart.type == "pie"
    pad = font.size * 2.2 if pie else font.size * 0.5
    radius = max(4.0, min(right - left, bottom - top) / 2 - pad)
    cx, cy = (left + right) / 2, (top + bottom) / 2
    bg = "#" + design.color("bg1")
    angles, angle = [], -90.0  # PowerPoint starts at 12 o'clock and runs clockwise
    for value, color in zip(values, colors, strict=False):
        sweep = value / total * 360
        if sweep > 0:
            draw.pieslice((cx - radius, cy - radius, cx + radius, cy + radius), angle, angle + sweep, fill=color,
                          outline=bg, width=1)
        angles.append((angle + sweep / 2, value))
        angle += sweep
    if not pie:
        hole = radius * 0.5
        draw.ellipse((cx - hole, cy - hole, cx + hole, cy + hole), fill=bg)
    label_color = "#" + design.color("tx1" if pie else "bg1")
    distance = radius + pad * 0.55 if pie else radius * 0.75
    for middle, value in angles:
        if value <= 0:
            continue
        rad = math.radians(middle)
        draw.text((cx + math.cos(rad) * distance, cy + math.sin(rad) * distance), f"{round(value / total * 100)}%",
                  font=font, fill=label_color, anchor="mm")


def _draw_axes_chart(draw, rect: Rect, chart: ChartData, colors: list[str], font, palette) -> None:
    _text, muted, grid = palette
    left, top, right, bottom = rect
    values = [v for s in chart.series for v in s.values]
    ticks = nice_ticks(min(values), max(values))
    labels = [format_number(t, chart.number_format) for t in ticks]
    size = font.size
    horizontal = chart.type == "bar"
    if horizontal:
        label_w = max(draw.textlength(c, font=font) for c in chart.categories) + size * 0.6
        plot = (left + label_w, top + size * 0.5, right - size, bottom - size * 1.6)
    else:
        label_w = max(draw.textlength(t, font=font) for t in labels) + size * 0.6
        plot = (left + label_w, top + size * 0.5, right - size * 0.5, bottom - size * 1.6)
    pl, pt, pr, pb = plot
    low, high = ticks[0], ticks[-1]

    def scale(value: float) -> float:  # value → pixel along the value axis
        fraction = (value - low) / (high - low)
        return pl + fraction * (pr - pl) if horizontal else pb - fraction * (pb - pt)

    for tick, label in zip(ticks, labels, strict=True):
        position = scale(tick)
        if horizontal:
            draw.line((position, pt, position, pb), fill="#" + grid.lstrip("#"), width=1)
            draw.text((position, pb + size * 0.3), label, font=font, fill=muted, anchor="ma")
        else:
            draw.line((pl, position, pr, position), fill="#" + grid.lstrip("#"), width=1)
            draw.text((pl - size * 0.3, position), label, font=font, fill=muted, anchor="rm")
    count = len(chart.categories)
    if chart.type == "scatter":
        _draw_scatter(draw, plot, chart, colors, scale, font, muted)
        return
    band = ((pb - pt) if horizontal else (pr - pl)) / count
    zero = scale(max(low, 0.0))
    # Area charts put their points on the tick marks (python-pptx writes crossBetween="midCat"),
    # the others in the middle of each category's band.
    on_ticks = chart.type == "area" and count > 1

    def position(index: int) -> float:
        if on_ticks:
            return pl + (pr - pl) * index / (count - 1)
        return (pt if horizontal else pl) + band * (index + 0.5)

    for index, category in enumerate(chart.categories):
        center = position(index)
        if horizontal:
            draw.text((pl - size * 0.3, center), category, font=font, fill=muted, anchor="rm")
        elif count <= 12 or index % 2 == 0:
            draw.text((center, pb + size * 0.3), category, font=font, fill=muted, anchor="ma")
    if chart.type in ("bar", "column"):
        series_count = len(chart.series)
        bar = band / (series_count + 0.7)
        for s, series in enumerate(chart.series):
            for index, value in enumerate(series.values):
                start = (pt if horizontal else pl) + band * index + bar * 0.35 + bar * s
                end_value = scale(value)
                if horizontal:
                    draw.rectangle((min(zero, end_value), start, max(zero, end_value), start + bar * 0.95),
                                   fill=colors[s])
                else:
                    draw.rectangle((start, min(zero, end_value), start + bar * 0.95, max(zero, end_value)),
                                   fill=colors[s])
    else:
        for s, series in enumerate(chart.series):
            points = [(position(i), scale(v)) for i, v in enumerate(series.values)]
            if chart.type == "area":
                rgb = colors[s].lstrip("#")
                fill = (*(int(rgb[i:i + 2], 16) for i in (0, 2, 4)), round(AREA_ALPHA * 255))
                draw.polygon([(points[0][0], zero), *points, (points[-1][0], zero)], fill=fill)
            else:
                draw.line(points, fill=colors[s], width=max(2, round(size * 0.2)), joint="curve")
                r = max(2.0, size * 0.28)
                for x, y in points:
                    draw.ellipse((x - r, y - r, x + r, y + r), fill=colors[s])
    axis = (pl, pt, pl, pb) if horizontal else (pl, zero, pr, zero)
    draw.line(axis, fill=muted, width=1)


def _draw_scatter(draw, plot: Rect, chart: ChartData, colors: list[str], scale, font, muted: str) -> None:
    pl, _pt, pr, pb = plot
    try:
        xs = [float(c) for c in chart.categories]
    except ValueError:
        xs = [float(i + 1) for i in range(len(chart.categories))]
    x_ticks = nice_ticks(min(xs), max(xs))
    x_low, x_high = x_ticks[0], x_ticks[-1]
    for tick in x_ticks:
        x = pl + (tick - x_low) / (x_high - x_low) * (pr - pl)
        draw.text((x, pb + font.size * 0.3), format_number(tick, "General"), font=font, fill=muted, anchor="ma")
    r = max(2.0, font.size * 0.3)
    for s, series in enumerate(chart.series):
        for x_value, y_value in zip(xs, series.values, strict=True):
            x = pl + (x_value - x_low) / (x_high - x_low) * (pr - pl)
            y = scale(y_value)
            draw.ellipse((x - r, y - r, x + r, y + r), fill=colors[s])
    draw.line((pl, pb, pr, pb), fill=muted, width=1)
