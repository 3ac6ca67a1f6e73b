"""Brand kits: a template built here (its own fonts, colours, a logo on the master, a slide of its
own) is checked, generated into, and comes back with its design intact; bad uploads get clear errors."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from lxml import etree
from PIL import Image, ImageDraw
from pptx import Presentation
from pptx.opc.constants import RELATIONSHIP_TYPE as RT
from pptx.oxml import parse_xml
from pptx.oxml.ns import nsdecls
from pptx.util import Inches

from app.services.slides.engine import brand_kit
from app.services.slides.engine.brand_kit import BrandKitInvalid, BrandKitTooLarge, load_brand_kit
from app.services.slides.engine.model import (
    ChartData,
    ChartSeries,
    Outline,
    Slide,
    SlideImage,
    TableData,
)
from app.services.slides.engine.pptx_render import render_pptx
from app.services.slides.engine.preview import slide_preview_png
from tests import images

A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
ACCENTS = ("C8102E", "003A70", "F2A900", "5B7F95", "A4343A", "2D2926")
PPTX_MAIN = b"presentationml.presentation.main+xml"


def logo_png() -> bytes:
    image = Image.new("RGBA", (240, 80), (0, 0, 0, 0))
    ImageDraw.Draw(image).rounded_rectangle((0, 0, 239, 79), radius=16, fill=(200, 16, 46, 255))
    return images.encode(image, "PNG")


LOGO = logo_png()


def brand_template(*, heading: str = "Georgia", body: str = "Verdana") -> bytes:
    """A company template: theme fonts and accents changed, a logo on the master, one slide of its own."""
    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(13.333), Inches(7.5)
    master = prs.slide_master
    theme_part = master.part.part_related_by(RT.THEME)
    root = etree.fromstring(theme_part.blob)
    root.set("name", "Acme Brand")
    root.find(f".//{A}majorFont/{A}latin").set("typeface", heading)
    root.find(f".//{A}minorFont/{A}latin").set("typeface", body)
    scheme = root.find(f".//{A}clrScheme")
    for index, color in enumerate(ACCENTS, start=1):
        slot = scheme.find(f"{A}accent{index}")
        for child in list(slot):
            slot.remove(child)
        etree.SubElement(slot, f"{A}srgbClr", val=color)
    theme_part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    _, rel_id = master.part.get_or_add_image_part(io.BytesIO(LOGO))
    master.shapes._spTree.append(parse_xml(
        f'<p:pic {nsdecls("p", "a", "r")}><p:nvPicPr><p:cNvPr id="99" name="Logo"/><p:cNvPicPr/>'
        f'<p:nvPr userDrawn="1"/></p:nvPicPr><p:blipFill><a:blip r:embed="{rel_id}"/><a:stretch><a:fillRect/>'
        f'</a:stretch></p:blipFill><p:spPr><a:xfrm><a:off x="{Inches(11.4)}" y="{Inches(0.3)}"/>'
        f'<a:ext cx="{Inches(1.5)}" cy="{Inches(0.5)}"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom>'
        f"</p:spPr></p:pic>"))
    prs.slides.add_slide(prs.slide_layouts[0]).shapes.title.text = "The template's own cover"
    out = io.BytesIO()
    prs.save(out)
    return out.getvalue()


def rezip(data: bytes, *, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None,
          content_type: bytes | None = None) -> bytes:
    """The same package with parts swapped or added, or the main part's content type changed."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            blob = (replace or {}).get(info.filename, source.read(info))
            if info.filename == "[Content_Types].xml" and content_type:
                blob = blob.replace(PPTX_MAIN, content_type)
            target.writestr(info.filename, blob)
        for name, blob in (add or {}).items():
            target.writestr(name, blob)
    return out.getvalue()


TEMPLATE = brand_template()


def outline() -> Outline:
    return Outline(title="Acme deck", slides=[
        Slide(id="t", layout="title", title="Acme strategy", subtitle="2027"),
        Slide(id="s", layout="section", title="Markets"),
        Slide(id="b", layout="bullets", title="Plan", bullets=["One", "- detail", "Two"]),
        Slide(id="c", layout="two_column", title="Options", bullets=["A"], bullets_right=["B"]),
        Slide(id="i", layout="image_text", title="Product", bullets=["Light"], image=SlideImage(alt="The product")),
        Slide(id="ch", layout="chart", title="Sales", chart=ChartData(type="column", categories=["Q1", "Q2"],
                                                                       series=[ChartSeries(name="EU", values=[1, 2])])),
        Slide(id="tb", layout="table", title="Offices", table=TableData(header=["City"], rows=[["Oslo"]])),
        Slide(id="q", layout="quote", title="Customers", quote="It just works.", attribution="A customer"),
    ])


@pytest.fixture(scope="module")
def kit():
    return load_brand_kit(TEMPLATE)


def test_kit_reads_fonts_colours_logo_and_layouts(kit):
    assert (kit.name, kit.heading_font, kit.body_font) == ("Acme Brand", "Georgia", "Verdana")
    assert [kit.colors[f"accent{i}"] for i in range(1, 7)] == list(ACCENTS)
    assert hashlib.sha1(kit.logo).digest() == hashlib.sha1(LOGO).digest()
    assert kit.layout_names["title"] == "Title Slide"
    assert kit.layout_names["bullets"] == "Title and Content"
    assert kit.layout_names["image_text"] == "Picture with Caption"
    assert kit.layout_names["chart"] == "Title Only"
    assert len(Presentation(io.BytesIO(kit.base_pptx)).slides) == 0  # the template's own slide is gone


def test_deck_generated_into_the_kit_keeps_its_fonts_colours_and_logo(kit):
    data = render_pptx(outline=outline(), theme=kit, images={"i": images.jpeg(800, 600, seed=4)})
    prs = Presentation(io.BytesIO(data))
    assert [s.shapes.title.text_frame.text for s in prs.slides][:3] == ["Acme strategy", "Markets", "Plan"]
    assert len(prs.slides) == 8  # ours only, not the template's cover
    theme = etree.fromstring(prs.slide_master.part.part_related_by(RT.THEME).blob)
    assert theme.find(f".//{A}majorFont/{A}latin").get("typeface") == "Georgia"
    assert theme.find(f".//{A}minorFont/{A}latin").get("typeface") == "Verdana"
    assert theme.find(f".//{A}clrScheme/{A}accent1/{A}srgbClr").get("val") == ACCENTS[0]
    master_pictures = [s for s in prs.slide_master.shapes if s._element.tag.endswith("}pic")]
    assert [hashlib.sha1(p.image.blob).digest() for p in master_pictures] == [hashlib.sha1(LOGO).digest()]
    assert [s.slide_layout.name for s in prs.slides] == [
        "Title Slide", "Section Header", "Title and Content", "Two Content", "Picture with Caption", "Title Only",
        "Title Only", "Title Only"]
    product = prs.slides[4]
    picture = next(s for s in product.shapes if s._element.tag.endswith("}pic"))
    assert picture._element.nvPicPr.cNvPr.get("descr") == "The product"
    assert "The product" not in etree.tostring(prs.slide_master._element).decode()


def test_template_without_two_column_or_picture_layouts_still_gets_every_slide():
    prs = Presentation(io.BytesIO(TEMPLATE))
    for layout in list(prs.slide_layouts):
        if layout.name in ("Two Content", "Comparison", "Picture with Caption", "Content with Caption"):
            prs.slide_layouts.remove(layout)
    out = io.BytesIO()
    prs.save(out)
    kit = load_brand_kit(out.getvalue())
    assert kit.layout_names["two_column"] == kit.layout_names["image_text"] == "Title and Content"
    deck = Presentation(io.BytesIO(render_pptx(outline=outline(), theme=kit, images={"i": images.jpeg(640, 480)})))
    columns = deck.slides[3]
    texts = sorted(shape.text_frame.text for shape in columns.shapes if shape.has_text_frame)
    assert texts == ["A", "B", "Options"]  # the right column became a text box beside the left placeholder
    right = next(shape for shape in columns.shapes if shape.has_text_frame and shape.text_frame.text == "B")
    assert not right.is_placeholder and "<a:buChar" in etree.tostring(right._element).decode()  # still a bullet
    left = next(ph for ph in columns.placeholders if ph.placeholder_format.idx == 1)
    assert left.width < Inches(5)  # the single content placeholder was narrowed to one column
    product = deck.slides[4]
    assert sum(shape._element.tag.endswith("}pic") for shape in product.shapes) == 1
    assert "Light" in [shape.text_frame.text for shape in product.shapes if shape.has_text_frame]


def test_potx_template_is_accepted():
    potx = rezip(TEMPLATE, content_type=b"presentationml.template.main+xml")
    kit = load_brand_kit(potx)
    assert kit.heading_font == "Georgia"
    assert len(Presentation(io.BytesIO(render_pptx(outline=outline(), theme=kit, images={}))).slides) == 8


def test_preview_uses_the_kit(kit):
    png = slide_preview_png(slide=outline().slides[2], theme=kit, width=400)
    picture = Image.open(io.BytesIO(png)).convert("RGB")
    assert picture.size == (400, 225)
    # the logo from the master, top right (11.4 in + a little, 0.3 in + a little)
    r, g, b = picture.getpixel((round(400 * 11.8 / 13.333), round(225 * 0.5 / 7.5)))
    assert r > 150 and g < 80 and b < 100


def test_not_a_zip_is_refused_in_words_a_designer_reads():
    """It said "the brand template is not a .pptx or .potx file (it is not a ZIP archive)": lower case,
    jargon, and nothing to do about it."""
    with pytest.raises(BrandKitInvalid) as refused:
        load_brand_kit(b"%PDF-1.7 this is a PDF, not a template")
    assert refused.value.message.startswith("This file is not a PowerPoint presentation or template.")
    assert "ZIP" not in refused.value.message and "upload it again" in refused.value.message


def test_macro_enabled_presentation_is_refused():
    pptm = rezip(TEMPLATE, content_type=b"ms-powerpoint.presentation.macroEnabled.main+xml",
                 add={"ppt/vbaProject.bin": b"\xd0\xcf\x11\xe0 fake vba"})
    with pytest.raises(BrandKitInvalid, match="macros"):
        load_brand_kit(pptm)
    with pytest.raises(BrandKitInvalid, match="macro-enabled"):
        load_brand_kit(rezip(TEMPLATE, content_type=b"ms-powerpoint.template.macroEnabled.main+xml"))


def test_zip_bomb_is_refused():
    bomb = rezip(TEMPLATE, add={"ppt/media/filler.bin": b"\0" * (4 * 1024 * 1024)})
    with pytest.raises(BrandKitInvalid, match="zip bomb"):
        load_brand_kit(bomb)


def test_declared_size_and_upload_size_limits(monkeypatch):
    monkeypatch.setattr(brand_kit, "MAX_UNCOMPRESSED_BYTES", 20_000)
    with pytest.raises(BrandKitTooLarge, match="unpacks to"):
        load_brand_kit(TEMPLATE)
    monkeypatch.setattr(brand_kit, "MAX_UPLOAD_BYTES", 1000)
    with pytest.raises(BrandKitTooLarge, match="limit"):
        load_brand_kit(TEMPLATE)


def test_other_office_files_and_damaged_parts_are_refused():
    docx = rezip(TEMPLATE, content_type=b"wordprocessingml.document.main+xml")
    with pytest.raises(BrandKitInvalid, match="not a PowerPoint presentation"):
        load_brand_kit(docx)
    no_types = io.BytesIO()
    with zipfile.ZipFile(no_types, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(BrandKitInvalid, match=r"^This PowerPoint file is incomplete: parts of it are missing"):
        load_brand_kit(no_types.getvalue())
    broken = rezip(TEMPLATE, replace={"ppt/slideMasters/slideMaster1.xml": b"<p:sldMaster><unclosed>"})
    with pytest.raises(BrandKitInvalid, match="damaged"):
        load_brand_kit(broken)
