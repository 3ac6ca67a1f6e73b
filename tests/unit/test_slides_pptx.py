"""The .pptx renderer read back with python-pptx, the text fitter, and the preview that must agree."""

from __future__ import annotations

import hashlib
import io

import pytest
from lxml import etree
from PIL import Image
from pptx import Presentation
from pptx.enum.chart import XL_CHART_TYPE
from pptx.enum.shapes import MSO_SHAPE_TYPE, PP_PLACEHOLDER
from pptx.enum.text import PP_ALIGN
from pptx.opc.constants import RELATIONSHIP_TYPE as RT

from app.services.slides.engine.layout import crop_to_fill, theme_design
from app.services.slides.engine.model import (
    ChartData,
    ChartSeries,
    Outline,
    Slide,
    SlideImage,
    TableData,
)
from app.services.slides.engine.pptx_render import FAILED_NOTE, render_pptx
from app.services.slides.engine.preview import slide_preview_png
from app.services.slides.engine.slideplan import parse_bullet, plan_slide
from app.services.slides.engine.themes import (
    THEMES,
    UnknownTheme,
    font_file,
    get_theme,
)
from app.services.slides.engine.typeset import FitSpec, Paragraph, fit_text
from tests import images

A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
PHOTO = images.jpeg(1920, 1080, seed=7)


def deck() -> Outline:
    """One slide of every layout, with notes, a failed slide, a chart of every type and a table."""
    charts = [
        ChartData(type=kind, title=f"{kind} chart", categories=["North", "South", "East", "West"],
                  series=[ChartSeries(name="2025", values=[4.0, 7.5, 3.25, 9.0])]
                  + ([] if kind in ("pie", "doughnut") else [ChartSeries(name="2026", values=[5.0, 8.0, 2.0, 10.0])]))
        for kind in ("bar", "column", "line", "pie", "doughnut", "area")
    ]
    charts.append(ChartData(type="scatter", categories=["1", "2.5", "4", "8"],
                            series=[ChartSeries(name="Latency", values=[10.0, 14.0, 21.0, 40.0])]))
    slides = [
        Slide(id="title", layout="title", title="Quarterly review", subtitle="Atelier · Q3", notes="Welcome everyone."),
        Slide(id="section", layout="section", title="Where we stand", subtitle="Three trends"),
        Slide(id="bullets", layout="bullets", title="Findings", bullets=["Growth is up", "- mostly downtown",
                                                                        "-- near stations", "Costs are flat"]),
        Slide(id="two", layout="two_column", title="Build or buy", bullets=["Control", "Cost"],
              bullets_right=["Speed", "Risk"]),
        Slide(id="image", layout="image_text", title="Streets for people", bullets=["Trees", "Shade"],
              image=SlideImage(alt="A street lined with trees")),
        *[Slide(id=f"chart-{c.type}", layout="chart", title=f"A {c.type} chart", chart=c) for c in charts],
        Slide(id="table", layout="table", title="Cities", table=TableData(
            header=["City", "Lanes (km)"], rows=[["Utrecht", "245"], ["Paris", "1,100"], ["Lyon"]])),
        Slide(id="quote", layout="quote", title="Voices", quote="The lane changed my commute.",
              attribution="A rider"),
        Slide(id="failed", layout="bullets", title="Next steps", stage="failed", error="the text provider timed out",
              notes="Original notes."),
    ]
    return Outline(title="Review deck", slides=slides)


def read(data: bytes):
    return Presentation(io.BytesIO(data))


def title_of(slide) -> str:
    shape = slide.shapes.title
    return shape.text_frame.text if shape is not None else ""


@pytest.fixture(scope="module")
def studio_deck() -> tuple[Outline, bytes]:
    outline = deck()
    return outline, render_pptx(outline=outline, theme=get_theme("studio"), images={"image": PHOTO})


def test_slide_count_titles_in_title_placeholders_and_notes(studio_deck):
    outline, data = studio_deck
    prs = read(data)
    assert len(prs.slides) == len(outline.slides)
    titles = [title_of(s) for s in prs.slides]
    expected = [s.title if s.layout != "quote" else s.quote for s in outline.slides]
    assert titles[:-2] == expected[:-2]
    assert titles[-2] == "“The lane changed my commute.”"  # the quote is the quote slide's title
    assert titles[-1] == "Next steps"
    assert prs.slides[0].notes_slide.notes_text_frame.text == "Welcome everyone."
    assert not prs.slides[1].has_notes_slide
    assert round(prs.slide_width / 914400, 3) == 13.333 and prs.slide_height == 6858000


def test_failed_slide_keeps_its_title_and_says_so_in_the_notes(studio_deck):
    _, data = studio_deck
    failed = read(data).slides[-1]
    notes = failed.notes_slide.notes_text_frame.text
    assert title_of(failed) == "Next steps"
    assert notes.startswith(FAILED_NOTE) and "the text provider timed out" in notes and "Original notes." in notes


def test_bullets_are_real_paragraphs_with_levels(studio_deck):
    _, data = studio_deck
    body = read(data).slides[2].placeholders[1]
    paragraphs = body.text_frame.paragraphs
    assert [(p.text, p.level) for p in paragraphs] == [
        ("Growth is up", 0), ("mostly downtown", 1), ("near stations", 2), ("Costs are flat", 0)]
    assert parse_bullet("-5% margin") == Paragraph("-5% margin")  # a dash without a space is text


def test_charts_are_native_with_their_data(studio_deck):
    _outline, data = studio_deck
    found = {}
    for slide in read(data).slides:
        for shape in slide.shapes:
            if shape.has_chart:
                found[shape.chart.chart_type] = shape.chart
    assert set(found) == {XL_CHART_TYPE.BAR_CLUSTERED, XL_CHART_TYPE.COLUMN_CLUSTERED, XL_CHART_TYPE.LINE_MARKERS,
                          XL_CHART_TYPE.PIE, XL_CHART_TYPE.DOUGHNUT, XL_CHART_TYPE.AREA, XL_CHART_TYPE.XY_SCATTER}
    column = found[XL_CHART_TYPE.COLUMN_CLUSTERED]
    plot = column.plots[0]
    assert list(plot.categories) == ["North", "South", "East", "West"]
    assert [(s.name, list(s.values)) for s in plot.series] == [
        ("2025", [4.0, 7.5, 3.25, 9.0]), ("2026", [5.0, 8.0, 2.0, 10.0])]
    assert column.chart_title.text_frame.text == "column chart"
    pie = found[XL_CHART_TYPE.PIE].plots[0]
    assert pie.has_data_labels and pie.data_labels.show_percentage
    scatter = found[XL_CHART_TYPE.XY_SCATTER].plots[0].series[0]
    assert list(scatter.values) == [10.0, 14.0, 21.0, 40.0]
    # the workbook is embedded, so "Edit Data" works in PowerPoint
    assert column.part.chart_workbook.xlsx_part is not None
    # series colours are theme slots, so re-theming in PowerPoint recolours the chart
    fills = etree.tostring(column._chartSpace).decode()
    assert 'schemeClr val="accent1"' in fills and 'schemeClr val="accent2"' in fills


def test_table_is_native_with_a_styled_header(studio_deck):
    _, data = studio_deck
    slide = next(s for s in read(data).slides if title_of(s) == "Cities")
    table = next(shape.table for shape in slide.shapes if shape.has_table)
    cells = [[table.cell(r, c).text for c in range(2)] for r in range(4)]
    assert cells == [["City", "Lanes (km)"], ["Utrecht", "245"], ["Paris", "1,100"], ["Lyon", ""]]
    header_run = table.cell(0, 0).text_frame.paragraphs[0].runs[0]
    assert header_run.font.bold is True
    assert 'schemeClr val="accent1"' in etree.tostring(table.cell(0, 0)._tc).decode()
    alignments = [table.cell(2, c).text_frame.paragraphs[0].alignment for c in range(2)]
    assert alignments == [None, PP_ALIGN.RIGHT]  # figures line up on the right, words stay left


def test_picture_is_cropped_with_crop_properties_and_has_alt_text(studio_deck):
    _, data = studio_deck
    slide = read(data).slides[4]
    pictures = [s for s in slide.shapes if s.shape_type in (MSO_SHAPE_TYPE.PICTURE, MSO_SHAPE_TYPE.PLACEHOLDER)
                and s._element.tag.endswith("}pic")]
    assert len(pictures) == 1
    picture = pictures[0]
    assert picture._element.nvPicPr.cNvPr.get("descr") == "A street lined with trees"
    box = theme_design(get_theme("studio")).layouts["image_text"].frames["picture"].box
    expected = crop_to_fill(1920, 1080, box.w, box.h)
    assert (picture.crop_left, picture.crop_top, picture.crop_right, picture.crop_bottom) == pytest.approx(expected)
    assert picture.crop_left > 0.2  # a wide photo in a tall box is cropped at the sides, not squashed
    # a 1920×1080 photo is embedded byte for byte: no re-encoding
    assert hashlib.sha1(picture.image.blob).digest() == hashlib.sha1(PHOTO).digest()


def test_huge_and_rotated_pictures_are_normalised_once():
    huge = images.encode(Image.new("RGB", (5200, 3900), (30, 90, 160)), "JPEG", quality=80)
    rotated = images.jpeg(400, 300, seed=3, exif=images.exif_with_orientation(6))
    outline = Outline(slides=[Slide(id="a", layout="image_text", title="Huge"),
                              Slide(id="b", layout="image_text", title="Rotated")])
    prs = read(render_pptx(outline=outline, theme=get_theme("soft"), images={"a": huge, "b": rotated}))
    blobs = [next(s for s in slide.shapes if s._element.tag.endswith("}pic")).image.blob for slide in prs.slides]
    big = Image.open(io.BytesIO(blobs[0]))
    assert big.width < 5200 and big.width * 3900 == pytest.approx(big.height * 5200, rel=0.01)
    assert Image.open(io.BytesIO(blobs[1])).size == (300, 400)  # turned upright: PowerPoint ignores EXIF


def test_unusable_picture_leaves_the_slide_and_explains_in_the_notes():
    outline = Outline(slides=[Slide(id="a", layout="image_text", title="Broken", notes="n")])
    prs = read(render_pptx(outline=outline, theme=get_theme("mono"), images={"a": b"not an image at all"}))
    slide = prs.slides[0]
    assert title_of(slide) == "Broken"
    assert "could not be used" in slide.notes_slide.notes_text_frame.text
    assert any(ph.placeholder_format.type == PP_PLACEHOLDER.PICTURE for ph in slide.placeholders)


def test_theme_fonts_and_colours_are_in_the_master(studio_deck):
    _, data = studio_deck
    prs = read(data)
    theme_xml = etree.fromstring(prs.slide_master.part.part_related_by(RT.THEME).blob)
    assert theme_xml.find(f".//{A}majorFont/{A}latin").get("typeface") == "Inter"
    assert theme_xml.find(f".//{A}minorFont/{A}latin").get("typeface") == "Inter"
    assert theme_xml.find(f".//{A}clrScheme/{A}accent1/{A}srgbClr").get("val") == "6D28D9"
    title_style = prs.slide_master._element.find(".//{http://schemas.openxmlformats.org/presentationml/2006/main}"
                                                 "titleStyle")
    assert title_style.find(f".//{A}latin").get("typeface") == "+mj-lt"
    # slide text carries no font names: it inherits the theme's, so PowerPoint's font menus follow the theme
    title_xml = etree.tostring(prs.slides[2].shapes.title._element).decode()
    assert "typeface" not in title_xml
    assert {layout.name for layout in prs.slide_layouts} >= {"Title Slide", "Title and Content", "Quote"}


@pytest.mark.parametrize("name", sorted(THEMES))
def test_every_theme_renders_every_layout(name):
    outline = deck()
    prs = read(render_pptx(outline=outline, theme=get_theme(name), images={"image": PHOTO}))
    assert len(prs.slides) == len(outline.slides)
    theme_xml = etree.fromstring(prs.slide_master.part.part_related_by(RT.THEME).blob)
    assert theme_xml.find(f".//{A}majorFont/{A}latin").get("typeface") == THEMES[name].heading_font
    for slide, source in zip(prs.slides, outline.slides, strict=True):
        assert slide.slide_layout.name == theme_design(THEMES[name]).layouts[source.layout].layout_name


def test_a_sixty_slide_deck_with_long_text_renders():
    long = "A sentence that goes on for a while to test the fitter with realistic text " * 7
    slides = [Slide(id=f"s{i}", layout="bullets", title=f"Slide {i} " + "long title " * (i % 5),
                    bullets=[long[:590]] * (1 + i % 12)) for i in range(60)]
    prs = read(render_pptx(outline=Outline(slides=slides), theme=get_theme("editorial"), images={}))
    assert len(prs.slides) == 60
    sizes = [run.font.size.pt for run in prs.slides[59].placeholders[1].text_frame.paragraphs[0].runs]
    assert sizes and sizes[0] < THEMES["editorial"].body_pt  # shrunk to fit


def test_fit_picks_the_largest_size_that_fits_and_flags_overflow():
    spec = FitSpec(font=font_file("Inter"), max_pt=40, min_pt=10)
    short = fit_text([Paragraph("Hi")], spec, width_pt=500, height_pt=200)
    assert short.size_pt == 40 and not short.overflow
    text = [Paragraph("word " * 60)]
    fitted = fit_text(text, spec, width_pt=500, height_pt=200)
    assert 10 < fitted.size_pt < 40 and fitted.height_pt <= 200 and not fitted.overflow
    bigger = fit_text(text, FitSpec(font=font_file("Inter"), max_pt=fitted.size_pt + 1, min_pt=fitted.size_pt + 1),
                      width_pt=500, height_pt=200)
    assert bigger.overflow  # one point more would not fit
    assert fit_text([Paragraph("word " * 2000)], spec, width_pt=500, height_pt=200).overflow


def test_run_sizes_in_the_file_match_the_plan():
    slide = Slide(id="x", layout="bullets", title="Plan and file agree",
                  bullets=["A long bullet that needs several lines on the slide to be read in full " * 3] * 4)
    design = theme_design(get_theme("bold"))
    plan = plan_slide(slide=slide, design=design)
    prs = read(render_pptx(outline=Outline(slides=[slide]), theme=get_theme("bold"), images={}))
    run = prs.slides[0].placeholders[1].text_frame.paragraphs[0].runs[0]
    assert run.font.size.pt == plan.texts["body"].fitted.size_pt < design.layouts["bullets"].frames["body"].style.max_pt


def test_control_characters_are_dropped_not_fatal():
    slides = [Slide(id="a", layout="bullets", title="Ti\x01tle", bullets=["a\x02b"], notes="n\x03"),
              Slide(id="c", layout="chart", title="Chart", chart=ChartData(
                  categories=["c\x06"], series=[ChartSeries(name="s\x07", values=[1.0])]))]
    prs = read(render_pptx(outline=Outline(title="Deck\x0b", slides=slides), theme=get_theme("studio"), images={}))
    assert title_of(prs.slides[0]) == "Title"
    assert prs.slides[0].placeholders[1].text_frame.text == "ab"
    chart = next(s for s in prs.slides[1].shapes if s.has_chart).chart
    assert list(chart.plots[0].categories) == ["c"] and chart.plots[0].series[0].name == "s"
    assert prs.core_properties.title == "Deck"
    assert slide_preview_png(slide=slides[1], theme=get_theme("studio"), width=200)


def test_unknown_theme_is_a_clear_error():
    with pytest.raises(UnknownTheme, match="choose one of"):
        get_theme("neon")
    assert len(THEMES) >= 6
    for theme in THEMES.values():
        assert font_file(theme.heading_font).exists() and font_file(theme.body_font, bold=True).exists()


@pytest.mark.parametrize("slide_id", ["title", "bullets", "image", "chart-pie", "chart-bar", "chart-scatter", "table",
                                      "quote"])
def test_preview_png_is_the_slide_at_preview_size(slide_id):
    slide = next(s for s in deck().slides if s.id == slide_id)
    png = slide_preview_png(slide=slide, theme=get_theme("midnight"), image=PHOTO if slide_id == "image" else None)
    picture = Image.open(io.BytesIO(png))
    assert picture.format == "PNG" and picture.size == (640, 360)
    background = picture.convert("RGB").getpixel((5, 355))
    assert background == (0x0F, 0x17, 0x2A)  # Midnight's background in the bottom-left corner


def test_preview_draws_the_picture_cropped_to_fill():
    slide = Slide(id="i", layout="image_text", title="Red", image=SlideImage(alt="red"))
    red = images.encode(Image.new("RGB", (1600, 900), (220, 20, 20)), "JPEG", quality=95)
    picture = Image.open(io.BytesIO(slide_preview_png(slide=slide, theme=get_theme("studio"), image=red,
                                                      width=320))).convert("RGB")
    assert picture.size == (320, 180)
    r, g, b = picture.getpixel((300, 90))  # studio bleeds the picture over the right half
    assert r > 190 and g < 60 and b < 60
    assert picture.getpixel((300, 2))[0] > 190  # to the top edge: filled, not letterboxed


GROWTH = [["Region", "Growth"], ["Nordics", "27%"], ["DACH", "9%"], ["Benelux", "12%"], ["UK", "7%"]]


def test_a_percent_column_is_labelled_the_same_in_the_file_and_the_preview():
    """A Markdown column of 27 %, 9 %… is stored as 27, 9… with the format `#,##0"%"` (a quoted, literal %).
    The preview used to scale any % by 100: its axis ran to 3,000 % while PowerPoint showed 30 %."""
    from app.services.slides.engine.number_format import format_number
    from app.services.slides.engine.text_tables import table_charts

    literal = table_charts(GROWTH, title="Regional results")[0]
    assert literal.number_format == '#,##0"%"' and literal.series[0].values == [27.0, 9.0, 12.0, 7.0]
    file = read(render_pptx(outline=Outline(title="Q3", slides=[Slide(id="c", layout="chart", title="Growth",
                                                                           chart=literal)]),
                            theme=get_theme("studio"), images={}))
    chart = next(shape.chart for shape in file.slides[0].shapes if shape.has_chart)
    axis_format = chart.value_axis.tick_labels.number_format
    values = list(chart.plots[0].series[0].values)
    assert axis_format == '#,##0"%"'
    assert [format_number(v, axis_format) for v in values] == ["27%", "9%", "12%", "7%"]  # as in the document

    # The same figures as fractions with a real percent format: PowerPoint labels both alike, so must the preview.
    scaled = literal.model_copy(update={"number_format": "0%", "series": [
        ChartSeries(name="Growth", values=[v / 100 for v in values])]})
    previews = [slide_preview_png(slide=Slide(id="c", layout="chart", title="Growth", chart=c),
                                  theme=get_theme("studio")) for c in (literal, scaled)]
    assert previews[0] == previews[1]


@pytest.mark.parametrize("value, number_format, label", [
    (27, '#,##0"%"', "27%"), (27, "#,##0\\%", "27%"), (0.27, "0%", "27%"), (0.275, "0.0%", "27.5%"),
    (1234.5, "#,##0.00", "1,234.50"), (3000, "#,##0", "3,000"), (48200, "General", "48200"), (0.25, "General", "0.25"),
    (-5, '"$"#,##0', "-$5"), (-5, "#,##0;(#,##0)", "(5)"), (0, '0;-0;"none"', "none"),
    (42000, "[$€-407]#,##0", "€42,000"), (42000, '#,##0 "USD"', "42,000 USD"), (1_500_000, '#,##0,,"M"', "2M"),
    (0.5, "#.00", ".50"), (2.25, "0.0#", "2.25"), (12.5, "[Red]0.0", "12.5"), (3, "0_)", "3"),
])
def test_number_formats_follow_excel_rules(value, number_format, label):
    from app.services.slides.engine.number_format import format_number

    assert format_number(value, number_format) == label


def test_a_chart_titled_like_its_slide_does_not_say_it_twice():
    """A table under a heading becomes a chart titled like the slide: the slide's title is enough, in the .pptx
    and in the preview; a chart with a title of its own keeps it."""
    growth = ChartData(type="column", title="Growth  by region", categories=["Nordics", "Benelux"],
                       series=[ChartSeries(name="Growth", values=[27.0, 9.0])])
    same = Slide(id="same", layout="chart", title="Growth by region", chart=growth)
    other = Slide(id="other", layout="chart", title="Where we grew", chart=growth)
    charts = [next(shape.chart for shape in slide.shapes if shape.has_chart) for slide in read(render_pptx(
        outline=Outline(title="Q3", slides=[same, other]), theme=get_theme("studio"), images={})).slides]
    assert not charts[0].has_title
    assert charts[1].has_title and charts[1].chart_title.text_frame.text == "Growth  by region"
    untitled = slide_preview_png(slide=same, theme=get_theme("studio"))
    titled = slide_preview_png(slide=same.model_copy(update={"chart": growth.model_copy(update={"title": ""})}),
                               theme=get_theme("studio"))
    assert untitled == titled  # the preview drew no second title either
    assert slide_preview_png(slide=other, theme=get_theme("studio")) != slide_preview_png(
        slide=other.model_copy(update={"chart": growth.model_copy(update={"title": ""})}), theme=get_theme("studio"))
