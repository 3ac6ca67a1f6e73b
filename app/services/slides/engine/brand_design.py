"""Read a brand template's design: theme fonts and colours, text styles, logo, and which of its
layouts each of our slide kinds uses, with the placeholder boxes (inherited from the master where
the layout does not say).

Style inheritance is resolved the way PowerPoint does for the properties we need (layout
placeholder → master placeholder → master text styles), not in full generality: enough for the
fitter to pick sizes and for the preview to look like the file.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass, replace

from lxml import etree
from pptx.oxml.ns import qn
from pptx.slide import SlideLayout, SlideMaster

from app.services.slides.engine.layout import (
    EMU_PER_PT,
    KINDS,
    Box,
    Design,
    Frame,
    LayoutSpec,
    Logo,
    TextStyle,
    inches,
)
from app.services.slides.engine.ooxml import placeholder_type
from app.services.slides.engine.pptx_master import layout_placeholders

_A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
_TITLE_TYPES = ("title", "ctrTitle")


@dataclass(frozen=True)
class BrandInfo:
    name: str
    heading_font: str
    body_font: str
    colors: dict[str, str]
    logo: bytes | None
    layout_names: dict[str, str]


def _theme_colors(theme: etree._Element) -> dict[str, str]:
    colors: dict[str, str] = {}
    scheme = theme.find(f".//{_A}clrScheme")
    for slot in scheme if scheme is not None else ():
        name = etree.QName(slot).localname
        value = next(iter(slot), None)
        if value is not None:
            colors[name] = (value.get("val") if value.tag == f"{_A}srgbClr" else value.get("lastClr")) or "000000"
    defaults = {"dk1": "000000", "lt1": "FFFFFF", "dk2": "44546A", "lt2": "E7E6E6"}
    defaults.update({f"accent{i}": c for i, c in enumerate(("4472C4", "ED7D31", "A5A5A5", "FFC000", "5B9BD5",
                                                            "70AD47"), start=1)})
    return {**defaults, **{k: v.upper() for k, v in colors.items()}}


def _theme_font(theme: etree._Element, which: str) -> str:
    latin = theme.find(f".//{_A}fontScheme/{_A}{which}/{_A}latin")
    return (latin.get("typeface") if latin is not None else "") or "Calibri"


def _apply_modifiers(hex_color: str, value: etree._Element) -> str:
    """tint/shade/lumMod/lumOff on a colour, approximately as Office applies them (enough for a preview)."""
    red, green, blue = (int(hex_color[i:i + 2], 16) / 255 for i in (0, 2, 4))
    hue, light, sat = colorsys.rgb_to_hls(red, green, blue)
    for modifier in value:
        name, amount = etree.QName(modifier).localname, _int(modifier.get("val"), 100000) / 100000
        if name == "lumMod":
            light *= amount
        elif name == "lumOff":
            light += amount
        elif name == "tint":
            red, green, blue = colorsys.hls_to_rgb(hue, light, sat)
            red, green, blue = (c + (1 - c) * (1 - amount) for c in (red, green, blue))
            hue, light, sat = colorsys.rgb_to_hls(red, green, blue)
        elif name == "shade":
            light *= amount
    red, green, blue = colorsys.hls_to_rgb(hue, min(1.0, max(0.0, light)), sat)
    return "".join(f"{round(c * 255):02X}" for c in (red, green, blue))


def _color_ref(fill_parent: etree._Element | None, palette: dict[str, str] | None = None) -> str | None:
    """A scheme slot name, or a hex colour (literal, or a slot with tint/shade applied)."""
    if fill_parent is None:
        return None
    solid = fill_parent.find(f"{_A}solidFill")
    if solid is None or not len(solid):
        return None
    value = solid[0]
    if value.tag == f"{_A}schemeClr":
        slot = value.get("val")
        if slot == "phClr":
            return None
        if len(value) and palette and slot in palette:
            return _apply_modifiers(palette[slot], value)
        return slot
    if value.tag == f"{_A}srgbClr":
        return _apply_modifiers(value.get("val"), value) if len(value) else value.get("val")
    return None


def _int(value: str | None, default: int) -> int:
    """An integer attribute; templates from other tools sometimes hold odd values."""
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


class _StyleResolver:
    """Text properties of a layout placeholder, following the inheritance chain."""

    def __init__(self, master: SlideMaster, heading: str, body: str, palette: dict[str, str]):
        self.heading, self.body, self.palette = heading, body, palette
        self.master_ph: dict[str, etree._Element] = {}
        for sp in master._element.cSld.spTree.iter(qn("p:sp")):
            kind = placeholder_type(sp)
            if kind is not None:
                self.master_ph.setdefault("title" if kind[0] in _TITLE_TYPES else kind[0], sp)
        tx_styles = master._element.find(qn("p:txStyles"))
        self.title_style = tx_styles.find(qn("p:titleStyle")) if tx_styles is not None else None
        self.body_style = tx_styles.find(qn("p:bodyStyle")) if tx_styles is not None else None

    def _chain(self, sp: etree._Element) -> tuple[list[etree._Element], list[etree._Element | None], bool]:
        kind = (placeholder_type(sp) or ("body", 0))[0]
        is_title = kind in _TITLE_TYPES
        master_sp = self.master_ph.get("title" if is_title else "body")
        sps = [sp] + ([master_sp] if master_sp is not None else [])
        styles = [self.title_style if is_title else self.body_style]
        return sps, styles, is_title

    def _levels(self, sps, styles, level: int) -> list[etree._Element]:
        tag = f"{_A}lvl{level + 1}pPr"
        found = [sp.find(f"{qn('p:txBody')}/{qn('a:lstStyle')}/{tag}") for sp in sps]
        found += [style.find(tag) if style is not None else None for style in styles]
        return [p for p in found if p is not None]

    def style(self, sp: etree._Element) -> TextStyle:
        sps, styles, is_title = self._chain(sp)
        levels = self._levels(sps, styles, 0)

        def first(getter, default):
            for ppr in levels:
                value = getter(ppr)
                if value is not None:
                    return value
            return default

        def run_attr(name: str):
            return first(lambda p: p.find(f"{_A}defRPr").get(name) if p.find(f"{_A}defRPr") is not None else None,
                         None)

        size = max(6, _int(run_attr("sz"), 4400 if is_title else 2800) // 100)
        level2 = next((p.find(f"{_A}defRPr").get("sz") for p in self._levels(sps, styles, 1)
                       if p.find(f"{_A}defRPr") is not None and p.find(f"{_A}defRPr").get("sz")), None)
        level_step = max(0, size - _int(level2, size * 100) // 100)
        typeface = first(lambda p: (p.find(f"{_A}defRPr/{_A}latin").get("typeface")
                                    if p.find(f"{_A}defRPr/{_A}latin") is not None else None),
                         "+mj-lt" if is_title else "+mn-lt")
        font = {"+mj-lt": self.heading, "+mn-lt": self.body}.get(typeface, typeface)
        color = first(lambda p: _color_ref(p.find(f"{_A}defRPr"), self.palette), "tx1")
        bullets = first(lambda p: (False if p.find(f"{_A}buNone") is not None else True
                                   if p.find(f"{_A}buChar") is not None or p.find(f"{_A}buAutoNum") is not None
                                   else None), False)
        bullet_char = first(lambda p: p.find(f"{_A}buChar").get("char") if p.find(f"{_A}buChar") is not None
                            else None, "•")
        spacing = first(lambda p: p.find(f"{_A}lnSpc/{_A}spcPct").get("val")
                        if p.find(f"{_A}lnSpc/{_A}spcPct") is not None else None, "100000")
        indents = []
        for level in range(3):
            mar = next((p.get("marL") for p in self._levels(sps, styles, level) if p.get("marL")), None)
            indents.append(_int(mar, round((24.0 + 28.0 * level) * EMU_PER_PT)) / EMU_PER_PT)
        body_prs = [s.find(f"{qn('p:txBody')}/{qn('a:bodyPr')}") for s in sps]
        body_prs = [b for b in body_prs if b is not None]

        def body_attr(name: str, default: str) -> str:
            return next((b.get(name) for b in body_prs if b.get(name) is not None), default)

        inset = tuple(_int(body_attr(name, default), int(default)) / EMU_PER_PT for name, default in
                      (("lIns", "91440"), ("tIns", "45720"), ("rIns", "91440"), ("bIns", "45720")))
        return TextStyle(
            font=font, font_ref="+mj-lt" if is_title else "+mn-lt", max_pt=size,
            min_pt=max(14, size // 2) if is_title else min(12, size), color=color,
            bold=run_attr("b") in ("1", "true"), align=first(lambda p: p.get("algn"), "l"),
            anchor=body_attr("anchor", "ctr" if is_title else "t"), line_spacing=_int(spacing, 100000) / 100000,
            space_before=0.2 if bullets else 0.0, bullets=bullets, bullet_char=bullet_char, bullet_color=color,
            indent_pt=tuple(indents), uppercase=run_attr("cap") == "all", inset_pt=inset,
            level_step=level_step if bullets else 0)


def _box(shape) -> Box | None:
    if None in (shape.left, shape.top, shape.width, shape.height) or not shape.width or not shape.height:
        return None
    return Box(int(shape.left), int(shape.top), int(shape.width), int(shape.height))


def _background(c_sld: etree._Element) -> str | None:
    bg = c_sld.find(qn("p:bg"))
    if bg is None:
        return None
    bg_pr = bg.find(qn("p:bgPr"))
    if bg_pr is not None:
        return _color_ref(bg_pr)
    ref = bg.find(qn("p:bgRef"))
    return ref[0].get("val") if ref is not None and len(ref) and ref[0].tag == f"{_A}schemeClr" else None


def _find_logo(master: SlideMaster, layouts: list[SlideLayout], slide_w: int, slide_h: int) -> Logo | None:
    """The smallest picture on the master (else on the first layout) that is not a backdrop."""
    for owner in (master, *layouts[:1]):
        candidates = []
        for pic in owner._element.cSld.spTree.iter(qn("p:pic")):
            blip = pic.find(f".//{_A}blip")
            off, ext = pic.find(f".//{_A}xfrm/{_A}off"), pic.find(f".//{_A}xfrm/{_A}ext")
            if blip is None or off is None or ext is None or not blip.get(qn("r:embed")):
                continue
            box = Box(int(off.get("x")), int(off.get("y")), int(ext.get("cx")), int(ext.get("cy")))
            if box.w * box.h < 0.2 * slide_w * slide_h:
                candidates.append((box.w * box.h, box, owner.part.related_part(blip.get(qn("r:embed"))).blob))
        if candidates:
            _, box, blob = min(candidates, key=lambda c: c[0])
            return Logo(image=blob, box=box)
    return None


def _pick(layouts: list[SlideLayout], keys: dict[int, dict], *, types: tuple[str, ...], names: tuple[str, ...],
          need: tuple[str, ...]) -> SlideLayout | None:
    for layout in layouts:  # the layout type PowerPoint itself assigns
        if layout._element.get("type") in types and all(k in keys[id(layout)] for k in need):
            return layout
    for layout in layouts:
        if any(n in layout.name.lower() for n in names) and all(k in keys[id(layout)] for k in need):
            return layout
    for layout in layouts:
        if all(k in keys[id(layout)] for k in need):
            return layout
    return None


def design_from_presentation(prs, theme: etree._Element) -> tuple[Design, BrandInfo]:
    """The brand template's Design (boxes, styles, palette) and what the kit reports about itself."""
    master = prs.slide_master
    layouts = list(master.slide_layouts)
    slide_w, slide_h = int(prs.slide_width), int(prs.slide_height)
    heading, body = _theme_font(theme, "majorFont"), _theme_font(theme, "minorFont")
    colors = _theme_colors(theme)
    clr_map = master._element.find(qn("p:clrMap"))
    mapped = {slot: colors[(clr_map.get(slot) if clr_map is not None else None) or default]
              for slot, default in (("bg1", "lt1"), ("tx1", "dk1"), ("bg2", "lt2"), ("tx2", "dk2"))}
    palette = {**colors, **mapped}
    resolver = _StyleResolver(master, heading, body, palette)
    keys = {id(layout): layout_placeholders(layout) for layout in layouts}
    margin = inches(0.6)
    default_title = Box(margin, margin // 2, slide_w - 2 * margin, inches(1.2))
    default_body = Box(margin, inches(1.8), slide_w - 2 * margin, slide_h - inches(2.4))
    master_body = next((_box(sh) for sh in master.placeholders if placeholder_type(sh._element)
                        and placeholder_type(sh._element)[0] == "body"), None) or default_body

    any_title = _pick(layouts, keys, types=("titleOnly",), names=("title only",), need=("title",))
    obj = _pick(layouts, keys, types=("obj", "tx"), names=("content",), need=("title", "body")) or any_title
    if obj is None:
        raise _invalid("the brand template has no layout with a title placeholder")
    chosen = {
        "title": _pick(layouts, keys, types=("title",), names=("title slide",), need=("title",)) or obj,
        "section": _pick(layouts, keys, types=("secHead",), names=("section",), need=("title",)) or obj,
        "bullets": obj,
        "two_column": _pick(layouts, keys, types=("twoObj", "twoTxTwoObj"), names=("two",),
                            need=("title", "body", "body2")) or obj,
        "image_text": _pick(layouts, keys, types=("picTx",), names=("picture",), need=("title", "picture"))
        or _pick(layouts, keys, types=("twoObj",), names=("two",), need=("title", "body", "body2")) or obj,
        "chart": any_title or obj,
        "table": any_title or obj,
        "quote": any_title or obj,
    }


    def content_box(layout: SlideLayout) -> Box:
        body_shape = keys[id(layout)].get("body")
        if body_shape is not None and _box(body_shape):
            return _box(body_shape)
        title = _box(keys[id(layout)]["title"]) if "title" in keys[id(layout)] else None
        if title is None or title.y + title.h >= master_body.y:
            return master_body
        return Box(master_body.x, max(master_body.y, title.y + title.h + inches(0.2)), master_body.w,
                   master_body.y + master_body.h - max(master_body.y, title.y + title.h + inches(0.2)))

    body_style = resolver.style(keys[id(obj)]["body"]._element) if "body" in keys[id(obj)] else TextStyle(
        font=body, font_ref="+mn-lt", max_pt=24, min_pt=12, color="tx1", bullets=True)
    free_body = replace(body_style, inset_pt=(0.0, 0.0, 0.0, 0.0), anchor="t")

    def frame(layout: SlideLayout, key: str, fallback: Box, *, text: bool = True) -> Frame:
        """The role in the layout's placeholder; a text box in the body style where the layout lacks it."""
        shape = keys[id(layout)].get(key)
        if shape is None:
            return Frame(fallback, None, free_body if text else None)
        style = resolver.style(shape._element) if text else None
        return Frame(_box(shape) or fallback, key, style)

    specs: dict[str, LayoutSpec] = {}
    for kind in KINDS:
        layout = chosen[kind]
        frames: dict[str, Frame] = {"title": frame(layout, "title", default_title)}
        area = content_box(layout)
        half = (area.w - inches(0.4)) // 2
        left, right = Box(area.x, area.y, half, area.h), Box(area.x + area.w - half, area.y, half, area.h)
        if kind in ("title", "section"):
            sub_key = "subtitle" if "subtitle" in keys[id(layout)] else "body"
            frames["subtitle"] = frame(layout, sub_key, area)
        elif kind == "bullets":
            frames["body"] = frame(layout, "body", area)
        elif kind == "two_column":
            if "body2" in keys[id(layout)]:
                frames["left"], frames["right"] = frame(layout, "body", left), frame(layout, "body2", right)
            else:
                frames["left"] = replace(frame(layout, "body", left), box=left)
                frames["right"] = Frame(right, None, free_body)
        elif kind == "image_text":
            if "picture" in keys[id(layout)]:
                frames["picture"] = frame(layout, "picture", right, text=False)
                frames["body"] = frame(layout, "body", left) if "body" in keys[id(layout)] else Frame(
                    Box(area.x, area.y, area.w, area.h), None, free_body)
            else:
                target = keys[id(layout)].get("body2")
                frames["picture"] = Frame(_box(target) if target is not None and _box(target) else right)
                frames["body"] = replace(frame(layout, "body", left), box=left) if target is None else frame(
                    layout, "body", left)
        elif kind in ("chart", "table"):
            frames[kind] = Frame(area)
        else:  # quote: the slide title in the title placeholder, the quote and attribution as text boxes
            frames = {"kicker": frames["title"]}
            quote_style = replace(free_body, font=heading, font_ref="+mj-lt", max_pt=32, min_pt=16, bullets=False,
                                  anchor="ctr", line_spacing=1.0, space_before=0.0)
            attribution = replace(free_body, max_pt=18, min_pt=11, bullets=False, space_before=0.0)
            quote_h = round(area.h * 0.72)
            frames["quote"] = Frame(Box(area.x, area.y, area.w, quote_h), None, quote_style)
            frames["attribution"] = Frame(Box(area.x, area.y + quote_h, area.w, area.h - quote_h), None, attribution)
        background = _background(layout._element.cSld) or _background(master._element.cSld) or "bg1"
        specs[kind] = LayoutSpec(layout_name=layout.name, frames=frames, background=background)

    logo = _find_logo(master, layouts, slide_w, slide_h)
    name = theme.get("name") or "Brand"
    design = Design(name=name, slide_w=slide_w, slide_h=slide_h, palette=palette, heading_font=heading,
                    body_font=body, layouts=specs, chart_colors=tuple(f"accent{i}" for i in range(1, 7)), logo=logo,
                    table_style={"header": "accent1", "header_text": "bg1", "band": "bg2", "text": "tx1"})
    info = BrandInfo(name=name, heading_font=heading, body_font=body, colors=colors,
                     logo=logo.image if logo else None, layout_names={k: v.name for k, v in chosen.items()})
    return design, info


def _invalid(message: str) -> Exception:
    from app.services.slides.engine.brand_kit import BrandKitInvalid

    return BrandKitInvalid(message)
