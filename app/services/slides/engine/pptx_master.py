"""Build a built-in theme into a real PowerPoint template: theme fonts and colours, slide master
text styles, one styled layout per kind of slide, decorations as native shapes on the layouts.

Why theme the master instead of drawing every slide from a blank layout with text boxes: titles
then live in title placeholders (PowerPoint's outline view, accessibility checker and "reset
slide" work), and a user who adds a slide or types a new bullet in PowerPoint gets the theme's
fonts, colours and bullets. The slides themselves only carry text, sizes picked to fit, and
content (pictures, charts, tables).

The template is built once per theme and process and cached as bytes (~20 ms to build).
"""

from __future__ import annotations

import io
from functools import lru_cache

from lxml import etree
from pptx import Presentation
from pptx.opc.constants import RELATIONSHIP_TYPE as RT
from pptx.oxml.ns import qn
from pptx.shapes.placeholder import LayoutPlaceholder
from pptx.slide import SlideLayout, SlideMaster

from app.services.slides.engine.layout import (
    Box,
    Design,
    LayoutSpec,
    inches,
    theme_design,
)
from app.services.slides.engine.ooxml import (
    FOOTER_TYPES,
    add_decorations,
    drop_xfrm,
    list_style_xml,
    placeholder_type,
    set_background,
    set_xfrm,
    style_placeholder,
)
from app.services.slides.engine.themes import Theme

_A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
# Layouts of python-pptx's default template we keep (renamed where noted); the rest are removed so
# PowerPoint's layout picker shows only layouts that carry the theme.
_KEEP = {
    "Title Slide": "Title Slide",
    "Title and Content": "Title and Content",
    "Section Header": "Section Header",
    "Two Content": "Two Content",
    "Title Only": "Title Only",
    "Blank": "Blank",
    "Picture with Caption": "Picture with Caption",
    "Title and Vertical Text": "Quote",  # becomes a horizontal title + body layout
}


@lru_cache(maxsize=8)
def themed_template(theme: Theme) -> bytes:
    """The .pptx template for a built-in theme, with no slides."""
    design = theme_design(theme)
    prs = Presentation()
    prs.slide_width, prs.slide_height = design.slide_w, design.slide_h
    _write_theme_part(prs.slide_master, theme)
    layouts = _prune_layouts(prs.slide_master)
    _style_master(prs.slide_master, theme, design)
    styled: set[str] = set()
    for spec in design.layouts.values():
        if spec.layout_name not in styled:
            _style_layout(layouts[spec.layout_name], spec, design)
            styled.add(spec.layout_name)
    out = io.BytesIO()
    prs.save(out)
    return out.getvalue()


def _write_theme_part(master: SlideMaster, theme: Theme) -> None:
    """Theme fonts (major = headings, minor = body) and the colour scheme in ppt/theme/theme1.xml."""
    part = master.part.part_related_by(RT.THEME)
    root = etree.fromstring(part.blob, etree.XMLParser(resolve_entities=False))
    root.set("name", theme.label)
    scheme = root.find(f".//{_A}clrScheme")
    scheme.set("name", theme.label)
    if theme.dark:  # dark colours in dk1/dk2, swapped onto bg1/bg2 by the master's colour map
        slots = {"dk1": theme.background, "lt1": theme.text, "dk2": theme.surface, "lt2": theme.muted}
    else:
        slots = {"dk1": theme.text, "lt1": theme.background, "dk2": theme.muted, "lt2": theme.surface}
    slots.update({f"accent{i + 1}": c for i, c in enumerate(theme.accents)})
    slots.update({"hlink": theme.accents[0], "folHlink": theme.accents[3]})
    for name, value in slots.items():
        slot = scheme.find(f"{_A}{name}")
        for child in list(slot):
            slot.remove(child)
        etree.SubElement(slot, f"{_A}srgbClr", val=value)
    fonts = root.find(f".//{_A}fontScheme")
    fonts.set("name", theme.label)
    fonts.find(f"{_A}majorFont/{_A}latin").set("typeface", theme.heading_font)
    fonts.find(f"{_A}minorFont/{_A}latin").set("typeface", theme.body_font)
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _prune_layouts(master: SlideMaster) -> dict[str, SlideLayout]:
    kept: dict[str, SlideLayout] = {}
    for layout in list(master.slide_layouts):
        new_name = _KEEP.get(layout.name)
        if new_name is None:
            master.slide_layouts.remove(layout)
            continue
        if new_name != layout.name:
            layout._element.cSld.set("name", new_name)
            layout._element.attrib.pop("type", None)  # no longer a vertical-text layout
            for ph in layout._element.iter(qn("p:ph")):
                ph.attrib.pop("orient", None)
            for body_pr in layout._element.iter(qn("a:bodyPr")):
                body_pr.attrib.pop("vert", None)
        kept[new_name] = layout
    return kept


def _style_master(master: SlideMaster, theme: Theme, design: Design) -> None:
    element = master._element
    set_background(element.cSld, "bg1")
    if theme.dark:
        clr_map = element.find(qn("p:clrMap"))
        clr_map.attrib.update({"bg1": "dk1", "tx1": "lt1", "bg2": "dk2", "tx2": "lt2"})
    content = design.layouts["bullets"]
    title, body = content.frames["title"], content.frames["body"]
    for sp in element.cSld.spTree.iter(qn("p:sp")):
        kind = placeholder_type(sp)
        if kind is None:
            continue
        if kind[0] == "title":
            style_placeholder(sp, title.style, title.box)
        elif kind[0] == "body":
            style_placeholder(sp, body.style, body.box)
        elif kind[0] in FOOTER_TYPES:
            _place_footer(sp, kind[0], design)
    tx_styles = element.find(qn("p:txStyles"))
    for tag, style in (("p:titleStyle", title.style), ("p:bodyStyle", body.style)):
        old = tx_styles.find(qn(tag))
        new = etree.fromstring(list_style_xml(style, tag=tag))
        old.addprevious(new)
        tx_styles.remove(old)


def _place_footer(sp: etree._Element, kind: str, design: Design) -> None:
    margin, height = inches(0.8), inches(0.35)
    y = design.slide_h - inches(0.5)
    third = (design.slide_w - 2 * margin) // 3
    x = {"dt": margin, "ftr": margin + third, "sldNum": margin + 2 * third}.get(kind, margin)
    set_xfrm(sp, Box(x, y, third, height))


def _style_layout(layout: SlideLayout, spec: LayoutSpec, design: Design) -> None:
    element = layout._element
    if spec.background != "bg1":
        set_background(element.cSld, spec.background)
    by_key = layout_placeholders(layout)
    for frame in spec.frames.values():
        if frame.placeholder is None or frame.placeholder not in by_key:
            continue
        sp = by_key[frame.placeholder]._element
        if frame.style is not None:
            style_placeholder(sp, frame.style, frame.box)
        else:
            set_xfrm(sp, frame.box)
    for sp in element.cSld.spTree.iter(qn("p:sp")):
        kind = placeholder_type(sp)
        if kind is not None and kind[0] in FOOTER_TYPES:
            drop_xfrm(sp)  # inherit the master's 16:9 footer row
    add_decorations(element.cSld.spTree, spec.decorations, slide_w=design.slide_w, slide_h=design.slide_h)


def layout_placeholders(layout: SlideLayout) -> dict[str, LayoutPlaceholder]:
    """A layout's placeholders by role key: title, subtitle, picture, body, body2 (bodies left to right)."""
    found: dict[str, LayoutPlaceholder] = {}
    bodies = []
    for shape in layout.placeholders:
        ph_type = placeholder_type(shape._element)
        if ph_type is None:
            continue
        kind, idx = ph_type
        if kind in ("title", "ctrTitle"):
            found.setdefault("title", shape)
        elif kind == "subTitle":
            found.setdefault("subtitle", shape)
        elif kind == "pic":
            found.setdefault("picture", shape)
        elif kind in ("body", "obj"):
            bodies.append((shape.left or 0, idx, shape))
    bodies.sort(key=lambda item: (item[0], item[1]))
    for key, (_, _, shape) in zip(("body", "body2"), bodies, strict=False):
        found[key] = shape
    return found
