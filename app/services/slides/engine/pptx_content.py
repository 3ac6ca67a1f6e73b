"""Native content on a slide: pictures (cropped with crop properties), charts (data embedded) and
tables. Every element stays editable in PowerPoint and LibreOffice.
"""

from __future__ import annotations

import io
import re
import warnings

from PIL import Image, ImageOps
from pptx.chart.data import CategoryChartData, XyChartData
from pptx.dml.color import ColorFormat
from pptx.enum.chart import XL_CHART_TYPE, XL_LABEL_POSITION, XL_LEGEND_POSITION, XL_MARKER_STYLE
from pptx.enum.dml import MSO_THEME_COLOR
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.oxml.ns import qn
from pptx.oxml.shapes.picture import CT_Picture
from pptx.shapes.placeholder import PlaceholderPicture
from pptx.util import Emu, Pt

from app.errors import ValidationFailed
from app.services.slides.engine.layout import (
    EMU_PER_INCH,
    Box,
    Design,
    crop_to_fill,
)
from app.services.slides.engine.model import ChartData
from app.services.slides.engine.slideplan import CELL_MARGIN_X_PT, CELL_MARGIN_Y_PT, TablePlan

CHART_TYPES = {
    "bar": XL_CHART_TYPE.BAR_CLUSTERED,
    "column": XL_CHART_TYPE.COLUMN_CLUSTERED,
    "line": XL_CHART_TYPE.LINE_MARKERS,
    "pie": XL_CHART_TYPE.PIE,
    "doughnut": XL_CHART_TYPE.DOUGHNUT,
    "area": XL_CHART_TYPE.AREA,
    "scatter": XL_CHART_TYPE.XY_SCATTER,
}
_SLOTS = {
    "bg1": MSO_THEME_COLOR.BACKGROUND_1, "tx1": MSO_THEME_COLOR.TEXT_1, "bg2": MSO_THEME_COLOR.BACKGROUND_2,
    "tx2": MSO_THEME_COLOR.TEXT_2, **{f"accent{i}": getattr(MSO_THEME_COLOR, f"ACCENT_{i}") for i in range(1, 7)},
}
# python-pptx embeds these formats as they are; anything else (WebP, AVIF…) is converted once.
_NATIVE_FORMATS = {"JPEG", "PNG", "GIF", "BMP", "TIFF"}
MAX_IMAGE_PIXELS = 40_000_000
# A picture is downscaled only when it has more than twice the pixels a 200 dpi print of its box
# needs; a 1920×1080 photo on half a 16:9 slide is embedded byte for byte.
TARGET_DPI = 200
AREA_ALPHA = 0.72
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
# "No Style, No Grid": the renderer sets the fills itself, so colours come from the theme slots and
# a dark theme does not get the light borders of the Office "Medium Style 2" default.
_TABLE_STYLE_NONE = "{2D5ABB26-0587-4C30-8999-92F81FD0307C}"


class SlideImageError(ValidationFailed):
    code = "slide_image_invalid"


def set_color(color: ColorFormat, ref: str, *, darker: bool = False) -> None:
    """Point a python-pptx colour at a scheme slot (re-theming follows) or a literal hex colour."""
    from pptx.dml.color import RGBColor

    if ref in _SLOTS:
        color.theme_color = _SLOTS[ref]
    else:
        color.rgb = RGBColor.from_string(ref.lstrip("#").upper())
    if darker:
        color.brightness = -0.25


def prepare_image(data: bytes, box: Box) -> tuple[bytes, tuple[int, int]]:
    """Bytes python-pptx can embed, and their pixel size (as displayed).

    Pixels are decoded only when they must be: a picture with more than twice the pixels its box
    needs (downscaled once), an EXIF rotation PowerPoint would ignore, or a format it cannot show.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise SlideImageError(f"the picture is {width}×{height} pixels; at most "
                                      f"{MAX_IMAGE_PIXELS // 1_000_000} megapixels fit on a slide")
            orientation = image.getexif().get(0x0112, 1) if image.format == "JPEG" else 1
            swapped = orientation in (5, 6, 7, 8)
            shown_w, shown_h = (height, width) if swapped else (width, height)
            cover = max(box.w / EMU_PER_INCH * TARGET_DPI / shown_w, box.h / EMU_PER_INCH * TARGET_DPI / shown_h)
            if image.format in _NATIVE_FORMATS and cover >= 0.5 and orientation == 1:
                return data, (width, height)
            scale = min(1.0, cover)
            target = (max(1, round(shown_w * scale)), max(1, round(shown_h * scale)))
            if image.format == "JPEG":
                image.draft("RGB", (target[1], target[0]) if swapped else target)  # decode at 1/2, 1/4, 1/8
            image = ImageOps.exif_transpose(image)
            if scale < 1.0:
                image.thumbnail(target, Image.Resampling.LANCZOS)
            out = io.BytesIO()
            if image.mode in ("RGBA", "LA", "P", "PA"):
                image.convert("RGBA").save(out, format="PNG")
            else:
                image.convert("RGB").save(out, format="JPEG", quality=88)
            return out.getvalue(), image.size
    except SlideImageError:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise SlideImageError(f"the picture could not be read as an image ({exc})") from exc


def add_picture(slide, box: Box, data: bytes, *, alt: str, placeholder=None, inherited: Box | None = None):
    """The picture filling `box`, cropped with crop properties (not resampled) so the user can re-crop.

    With a picture placeholder the picture takes its place (and its position, unless `inherited`, the
    layout's box, differs from `box`); python-pptx's insert_picture is avoided because it re-reads the
    inherited size through the layout for every picture, which is a large share of a deck's build time.
    """
    prepared, (width, height) = prepare_image(data, box)
    if placeholder is not None:
        _, rel_id = slide.part.get_or_add_image_part(io.BytesIO(prepared))
        element = CT_Picture.new_ph_pic(placeholder.shape_id, placeholder.name, "", rel_id)
        placeholder._replace_placeholder_with(element)
        picture = PlaceholderPicture(element, slide.shapes)
        if inherited != box:
            picture.left, picture.top, picture.width, picture.height = Emu(box.x), Emu(box.y), Emu(box.w), Emu(box.h)
    else:
        picture = slide.shapes.add_picture(io.BytesIO(prepared), Emu(box.x), Emu(box.y), Emu(box.w), Emu(box.h))
    left, top, right, bottom = crop_to_fill(width, height, box.w, box.h)
    picture.crop_left, picture.crop_top, picture.crop_right, picture.crop_bottom = left, top, right, bottom
    c_nv_pr = picture._element.find(f"./*/{qn('p:cNvPr')}")
    c_nv_pr.set("descr", alt)  # alt text, read by screen readers and PowerPoint's accessibility checker
    return picture


def _x_values(categories: list[str]) -> list[float]:
    if all(_NUMBER.match(c.strip()) for c in categories):
        return [float(c) for c in categories]
    return [float(i + 1) for i in range(len(categories))]


def add_chart(slide, box: Box, chart: ChartData, design: Design, *, font_pt: int):
    """A native chart with its data in an embedded workbook (Edit Data works in PowerPoint)."""
    if chart.type == "scatter":
        data = XyChartData(number_format=chart.number_format)
        xs = _x_values(chart.categories)
        for series in chart.series:
            xy = data.add_series(series.name)
            for x, y in zip(xs, series.values, strict=True):
                xy.add_data_point(x, y)
    else:
        data = CategoryChartData(number_format=chart.number_format)
        data.categories = chart.categories
        for series in chart.series:
            data.add_series(series.name, series.values)
    frame = slide.shapes.add_chart(CHART_TYPES[chart.type], Emu(box.x), Emu(box.y), Emu(box.w), Emu(box.h), data)
    frame.name = f"Chart: {chart.title}" if chart.title else "Chart"
    native = frame.chart
    native.font.size = Pt(font_pt)
    set_color(native.font.color, "tx1")
    native.has_title = bool(chart.title)
    if chart.title:
        native.chart_title.text_frame.text = chart.title
        title_font = native.chart_title.text_frame.paragraphs[0].runs[0].font
        title_font.size, title_font.bold = Pt(font_pt + 4), True
        set_color(title_font.color, "tx1")
    round_chart = chart.type in ("pie", "doughnut")
    native.has_legend = round_chart or len(chart.series) > 1
    if native.has_legend:
        native.legend.position = XL_LEGEND_POSITION.RIGHT if round_chart else XL_LEGEND_POSITION.BOTTOM
        native.legend.include_in_layout = False
    colors = design.chart_colors
    plot = native.plots[0]
    if round_chart:
        for index, point in enumerate(plot.series[0].points):
            point.format.fill.solid()
            set_color(point.format.fill.fore_color, colors[index % len(colors)], darker=index >= len(colors))
            point.format.line.fill.solid()
            set_color(point.format.line.color, "bg1")
        plot.has_data_labels = True
        labels = plot.data_labels
        labels.show_percentage, labels.show_value, labels.show_category_name = True, False, False
        labels.number_format, labels.number_format_is_linked = "0%", False
        labels.font.size, labels.font.bold = Pt(font_pt), True
        if chart.type == "pie":
            labels.position = XL_LABEL_POSITION.OUTSIDE_END
            set_color(labels.font.color, "tx1")
        else:
            set_color(labels.font.color, "bg1")
        return frame
    for index, series in enumerate(plot.series):
        slot, darker = colors[index % len(colors)], index >= len(colors)
        if chart.type in ("line", "scatter"):
            series.format.line.width = Pt(2.75)
            set_color(series.format.line.color, slot, darker=darker)
            if chart.type == "scatter":
                series.format.line.fill.background()  # points only
            series.marker.style, series.marker.size = XL_MARKER_STYLE.CIRCLE, 8
            series.marker.format.fill.solid()
            set_color(series.marker.format.fill.fore_color, slot, darker=darker)
            series.marker.format.line.fill.background()
            series.smooth = False
        else:
            series.format.fill.solid()
            set_color(series.format.fill.fore_color, slot, darker=darker)
            if chart.type == "area":
                # Overlapping areas stay readable whichever series an app draws in front
                # (PowerPoint puts the last in front, LibreOffice the first).
                color = series._element.find(f"{qn('c:spPr')}/{qn('a:solidFill')}")[0]
                color.append(color.makeelement(qn("a:alpha"), {"val": str(round(AREA_ALPHA * 100000))}))
    if chart.type in ("bar", "column"):
        plot.gap_width = 70
        plot.overlap = -10 if len(chart.series) > 1 else 0
    _style_axes(native, chart)
    if chart.type == "bar":  # horizontal bars read top-down in the order given…
        native.category_axis.reverse_order = True
        # …and the value axis crosses at the last category, so it stays at the bottom (python-pptx
        # has no setter for the value axis' own c:crosses).
        native.value_axis._element.find(qn("c:crosses")).set("val", "max")
    return frame


def _style_axes(native, chart: ChartData) -> None:
    value_axis, category_axis = native.value_axis, native.category_axis
    value_axis.has_major_gridlines = True
    gridlines = value_axis.major_gridlines.format.line
    set_color(gridlines.color, "bg2")
    gridlines.width = Pt(0.5)
    value_axis.format.line.fill.background()
    value_axis.tick_labels.number_format = chart.number_format
    value_axis.tick_labels.number_format_is_linked = chart.number_format == "General"
    set_color(value_axis.tick_labels.font.color, "tx2")
    category_axis.format.line.width = Pt(1)
    set_color(category_axis.format.line.color, "tx2")
    set_color(category_axis.tick_labels.font.color, "tx2")
    if chart.type == "scatter":
        category_axis.has_major_gridlines = False


def add_table(slide, plan: TablePlan, design: Design):
    """A native table: header row in the first accent, banded body rows, sizes fitted to the box."""
    rows, cols = len(plan.cells), len(plan.cells[0])
    frame = slide.shapes.add_table(rows, cols, Emu(plan.box.x), Emu(plan.box.y), Emu(plan.box.w), Emu(plan.box.h))
    frame.name = "Table"
    table = frame.table
    frame._element.graphic.graphicData.tbl.tblPr.find(qn("a:tableStyleId")).text = _TABLE_STYLE_NONE
    table.first_row, table.horz_banding = True, True
    for col, width in enumerate(plan.col_widths):
        table.columns[col].width = Emu(width)
    style = design.table_style
    for r, height in enumerate(plan.row_heights):
        table.rows[r].height = Emu(height)
        for c in range(cols):
            cell = table.cell(r, c)
            cell.margin_left = cell.margin_right = Pt(CELL_MARGIN_X_PT)
            cell.margin_top = cell.margin_bottom = Pt(CELL_MARGIN_Y_PT)
            cell.vertical_anchor = MSO_ANCHOR.MIDDLE
            fill = style["header"] if r == 0 else (style["band"] if r % 2 == 0 else "bg1")
            cell.fill.solid()
            set_color(cell.fill.fore_color, fill)
            paragraph = cell.text_frame.paragraphs[0]
            if plan.numeric[c]:
                paragraph.alignment = PP_ALIGN.RIGHT
            run = paragraph.add_run()
            run.text = plan.cells[r][c]
            run.font.size, run.font.bold = Pt(plan.size_pt), r == 0
            set_color(run.font.color, style["header_text"] if r == 0 else style["text"])
    return frame
