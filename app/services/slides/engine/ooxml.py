"""Small DrawingML/PresentationML helpers shared by the master builder, the renderer and the brand kit.

python-pptx covers slides well but not masters and layouts (placeholder styles, backgrounds,
decoration shapes), so those are written as XML here, from the same `TextStyle` the preview uses.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from lxml import etree
from pptx.oxml import parse_xml
from pptx.oxml.ns import nsdecls, qn

from app.services.slides.engine.layout import EMU_PER_PT, Box, TextStyle
from app.services.slides.engine.themes import Decoration

SCHEME_SLOTS = frozenset({"bg1", "tx1", "bg2", "tx2", "dk1", "lt1", "dk2", "lt2", "hlink", "folHlink",
                          *(f"accent{i}" for i in range(1, 7))})
FOOTER_TYPES = frozenset({"dt", "ftr", "sldNum", "hdr"})
BODY_TYPES = frozenset({"body", "obj"})


def color_xml(ref: str, *, alpha: float = 1.0) -> str:
    """`<a:schemeClr>` for a scheme slot (so re-theming in PowerPoint follows), `<a:srgbClr>` for hex."""
    inner = f'<a:alpha val="{round(alpha * 100000)}"/>' if alpha < 1.0 else ""
    if ref in SCHEME_SLOTS:
        return f'<a:schemeClr val="{ref}">{inner}</a:schemeClr>'
    return f'<a:srgbClr val="{ref.lstrip("#").upper()}">{inner}</a:srgbClr>'


def solid_fill_xml(ref: str, *, alpha: float = 1.0) -> str:
    return f"<a:solidFill>{color_xml(ref, alpha=alpha)}</a:solidFill>"


def set_xfrm(sp: etree._Element, box: Box) -> None:
    """Give a shape (sp or pic) an explicit position, replacing any it had."""
    sp_pr = sp.find(qn("p:spPr"))
    if sp_pr is None:
        sp_pr = etree.SubElement(sp, qn("p:spPr"))
    old = sp_pr.find(qn("a:xfrm"))
    if old is not None:
        sp_pr.remove(old)
    xfrm = parse_xml(f'<a:xfrm {nsdecls("a")}><a:off x="{box.x}" y="{box.y}"/>'
                     f'<a:ext cx="{box.w}" cy="{box.h}"/></a:xfrm>')
    sp_pr.insert(0, xfrm)


def drop_xfrm(sp: etree._Element) -> None:
    """Remove a placeholder's own position so it inherits the master's."""
    sp_pr = sp.find(qn("p:spPr"))
    if sp_pr is not None and sp_pr.find(qn("a:xfrm")) is not None:
        sp_pr.remove(sp_pr.find(qn("a:xfrm")))


def body_pr_xml(style: TextStyle, *, autofit: bool = False) -> str:
    left, top, right, bottom = (round(v * EMU_PER_PT) for v in style.inset_pt)
    fit = "<a:normAutofit/>" if autofit else "<a:noAutofit/>"
    return (f'<a:bodyPr {nsdecls("a")} vert="horz" wrap="square" lIns="{left}" tIns="{top}" rIns="{right}" '
            f'bIns="{bottom}" rtlCol="0" anchor="{style.anchor}">{fit}</a:bodyPr>')


def bullet_indent_attrs(style: TextStyle, level: int) -> str:
    """marL/indent of a bulleted level: the text starts at the level's indent, the bullet hangs before it."""
    indents = style.indent_pt
    mar = indents[min(level, len(indents) - 1)]
    return f'marL="{round(mar * EMU_PER_PT)}" indent="{-round(indents[0] * EMU_PER_PT)}"'


def bullet_xml(style: TextStyle, level: int) -> str:
    """The bullet of a level (colour, font, character), in schema order."""
    char = style.bullet_char if level == 0 else "–"
    return (f'<a:buClr>{color_xml(style.bullet_color)}</a:buClr><a:buFont typeface="Arial"/>'
            f"<a:buChar char={quoteattr(char)}/>")


def level_ppr_xml(style: TextStyle, level: int, *, size_pt: int | None = None) -> str:
    """One `a:lvlNpPr` of a list style (placeholder lstStyle or master text style)."""
    size = size_pt or style.max_pt
    if style.bullets:
        para, bullet = bullet_indent_attrs(style, level), bullet_xml(style, level)
    else:
        para, bullet = 'marL="0" indent="0"', "<a:buNone/>"
    spacing = round(style.line_spacing * 100000)
    before = round(style.space_before * size * 100) if style.space_before else 0
    caps = ' cap="all"' if style.uppercase else ' cap="none"'  # explicit: the master's title style may be caps
    run = (f'<a:defRPr sz="{size * 100}" b="{int(style.bold)}"{caps}>'
           f'{solid_fill_xml(style.color)}<a:latin typeface="{style.font_ref}"/></a:defRPr>')
    return (f'<a:lvl{level + 1}pPr {para} algn="{style.align}"><a:lnSpc><a:spcPct val="{spacing}"/></a:lnSpc>'
            f'<a:spcBef><a:spcPts val="{before}"/></a:spcBef>{bullet}{run}</a:lvl{level + 1}pPr>')


def list_style_xml(style: TextStyle, *, tag: str = "a:lstStyle", levels: int = 3) -> str:
    inner = "".join(level_ppr_xml(style, level, size_pt=style.level_default_pt(level)) for level in range(levels))
    return f'<{tag} {nsdecls("a", "p")}>{inner}</{tag}>'


def style_placeholder(sp: etree._Element, style: TextStyle, box: Box) -> None:
    """Position a layout/master placeholder and give it the text style (fonts, colours, bullets)."""
    set_xfrm(sp, box)
    tx_body = sp.find(qn("p:txBody"))
    if tx_body is None:
        return
    for tag, xml in ((qn("a:bodyPr"), body_pr_xml(style)), (qn("a:lstStyle"), list_style_xml(style))):
        old = tx_body.find(tag)
        new = parse_xml(xml)
        if old is not None:
            old.addprevious(new)
            tx_body.remove(old)
        else:
            tx_body.insert(0 if tag == qn("a:bodyPr") else 1, new)


def set_background(c_sld: etree._Element, ref: str) -> None:
    """A solid background on a master or layout (`p:cSld`)."""
    old = c_sld.find(qn("p:bg"))
    if old is not None:
        c_sld.remove(old)
    bg = parse_xml(f'<p:bg {nsdecls("a", "p")}><p:bgPr>{solid_fill_xml(ref)}<a:effectLst/></p:bgPr></p:bg>')
    c_sld.insert(0, bg)


def decoration_xml(deco: Decoration, *, shape_id: int, number: int, slide_w: int, slide_h: int) -> str:
    x, y = round(deco.x * slide_w), round(deco.y * slide_h)
    w, h = max(1, round(deco.w * slide_w)), max(1, round(deco.h * slide_h))
    return (f'<p:sp {nsdecls("a", "p")}><p:nvSpPr><p:cNvPr id="{shape_id}" name="Decoration {number}"/>'
            f'<p:cNvSpPr/><p:nvPr userDrawn="1"/></p:nvSpPr><p:spPr><a:xfrm><a:off x="{x}" y="{y}"/>'
            f'<a:ext cx="{w}" cy="{h}"/></a:xfrm><a:prstGeom prst="{deco.shape}"><a:avLst/></a:prstGeom>'
            f'{solid_fill_xml(deco.color, alpha=deco.alpha)}<a:ln><a:noFill/></a:ln></p:spPr>'
            f'<p:txBody><a:bodyPr rtlCol="0" anchor="ctr"/><a:lstStyle/><a:p><a:endParaRPr lang="en-US"/></a:p>'
            f"</p:txBody></p:sp>")


def add_decorations(sp_tree: etree._Element, decorations: tuple[Decoration, ...], *, slide_w: int,
                    slide_h: int) -> None:
    """Native shapes at the back of a layout's shape tree (behind the placeholders)."""
    ids = [int(e.get("id")) for e in sp_tree.iter(qn("p:cNvPr")) if (e.get("id") or "").isdigit()]
    next_id = max(ids, default=1) + 1
    anchor = sp_tree.find(qn("p:grpSpPr"))
    for number, deco in enumerate(decorations, start=1):
        anchor.addnext(parse_xml(decoration_xml(deco, shape_id=next_id, number=number, slide_w=slide_w,
                                                slide_h=slide_h)))
        anchor = anchor.getnext()
        next_id += 1


def placeholder_type(sp: etree._Element) -> tuple[str, int] | None:
    """(type, idx) of a placeholder shape, None for other shapes; a bare `<p:ph idx=…/>` is "obj"."""
    ph = sp.find(f"./*/{qn('p:nvPr')}/{qn('p:ph')}")
    if ph is None:
        return None
    return ph.get("type", "obj"), int(ph.get("idx", "0"))
