"""Deck → .pptx bytes: native, editable PowerPoint with the theme in its master.

Each slide is made from the layout its kind maps to (see `layout.py`), its placeholders filled with
the outline's text at font sizes chosen to fit, plus native pictures, charts and tables. Speaker
notes go to the notes page.

python-pptx is not thread-safe: build one deck per thread/process at a time (the RQ worker does).
"""

from __future__ import annotations

import io
import logging

from pptx import Presentation
from pptx.enum.text import MSO_AUTO_SIZE, PP_ALIGN
from pptx.oxml import parse_xml
from pptx.oxml.ns import nsdecls, qn
from pptx.slide import Slide as PptxSlide
from pptx.text.text import TextFrame
from pptx.util import Emu, Pt

from app.services.slides.engine.brand_kit import BrandKit
from app.services.slides.engine.layout import (
    EMU_PER_PT,
    Box,
    Design,
    theme_design,
)
from app.services.slides.engine.model import Outline, Slide
from app.services.slides.engine.ooxml import bullet_indent_attrs, bullet_xml
from app.services.slides.engine.pptx_content import (
    SlideImageError,
    add_chart,
    add_picture,
    add_table,
    set_color,
)
from app.services.slides.engine.pptx_master import layout_placeholders, themed_template
from app.services.slides.engine.slideplan import (
    SlidePlan,
    TextBlock,
    plan_slide,
    xml_safe,
    xml_safe_text,
)
from app.services.slides.engine.themes import Theme
from app.services.slides.engine.typeset import paragraph_size

log = logging.getLogger(__name__)

_ALIGN = {"l": PP_ALIGN.LEFT, "ctr": PP_ALIGN.CENTER, "r": PP_ALIGN.RIGHT}
FAILED_NOTE = "⚠ This slide could not be generated"


def render_pptx(*, outline: Outline, theme: Theme | BrandKit, images: dict[str, bytes]) -> bytes:
    """The deck as .pptx bytes. `images` holds resolved picture bytes by slide id; a picture that
    cannot be used leaves the slide's picture placeholder empty and says why in the speaker notes."""
    if isinstance(theme, Theme):
        design, base = theme_design(theme), themed_template(theme)
    else:
        design, base = theme.design, theme.base_pptx
    prs = Presentation(io.BytesIO(base))
    layouts = {layout.name: layout for layout in prs.slide_layouts}
    keys: dict[str, dict[str, tuple[int, Box | None]]] = {}
    deck_title = xml_safe_text(outline.title)
    for slide in outline.slides:
        slide = xml_safe(slide)
        plan = plan_slide(slide=slide, design=design, deck_title=deck_title)
        layout = layouts[plan.spec.layout_name]
        if layout.name not in keys:  # read once per layout: inherited geometry is slow to resolve
            keys[layout.name] = {key: (ph.placeholder_format.idx, _box(ph))
                                 for key, ph in layout_placeholders(layout).items()}
        pptx_slide = prs.slides.add_slide(layout)
        problems = _fill(pptx_slide, plan, slide, design, keys[layout.name], images.get(slide.id))
        _write_notes(pptx_slide, slide, problems)
    if deck_title:
        prs.core_properties.title = deck_title
    out = io.BytesIO()
    prs.save(out)
    return out.getvalue()


def _box(shape) -> Box | None:
    if None in (shape.left, shape.top, shape.width, shape.height):
        return None
    return Box(int(shape.left), int(shape.top), int(shape.width), int(shape.height))


def _fill(pptx_slide: PptxSlide, plan: SlidePlan, slide: Slide, design: Design,
          keys: dict[str, tuple[int, Box | None]], image: bytes | None) -> list[str]:
    placeholders = {ph.placeholder_format.idx: ph for ph in pptx_slide.placeholders}
    by_key = {key: placeholders[idx] for key, (idx, _) in keys.items() if idx in placeholders}
    keep = {keys["title"][0]} if "title" in by_key else set()  # placeholder idx values to keep
    problems: list[str] = []
    for block in plan.texts.values():
        target = by_key.get(block.frame.placeholder) if block.frame.placeholder else None
        if target is not None:
            _write(target.text_frame, block, explicit=False)
            if keys[block.frame.placeholder][1] != block.frame.box:
                # e.g. a brand kit's single content placeholder split into two columns
                box = block.frame.box
                target.left, target.top, target.width, target.height = Emu(box.x), Emu(box.y), Emu(box.w), Emu(box.h)
            keep.add(keys[block.frame.placeholder][0])
        else:
            box = block.frame.box
            shape = pptx_slide.shapes.add_textbox(Emu(box.x), Emu(box.y), Emu(box.w), Emu(box.h))
            shape.name = block.role.capitalize()
            _style_textbox(shape.text_frame, block)
            _write(shape.text_frame, block, explicit=True)
    if plan.picture is not None:
        target = by_key.get("picture")
        if target is not None:
            keep.add(keys["picture"][0])  # empty, it still invites the user to click and add a picture
        if image is not None:
            try:
                # a generation prompt describes the picture well enough when no alt text was written
                alt = (slide.image.alt or slide.image.prompt[:300]) if slide.image else ""
                inherited = keys["picture"][1] if target is not None else None
                add_picture(pptx_slide, plan.picture.box, image, alt=alt, placeholder=target, inherited=inherited)
            except SlideImageError as exc:
                log.warning("slide %s: picture not used: %s", slide.id, exc.message)
                problems.append(f"The picture for this slide could not be used: {exc.message}")
    if plan.chart is not None and slide.chart is not None:
        add_chart(pptx_slide, plan.chart, slide.shown_chart(), design, font_pt=plan.chart_font_pt)
    if plan.table is not None:
        add_table(pptx_slide, plan.table, design)
    # Placeholders left empty would show PowerPoint's "Click to add text" prompts: drop them.
    for ph in list(pptx_slide.placeholders):
        if ph.placeholder_format.idx not in keep and not (ph.has_text_frame and ph.text_frame.text):
            ph._element.getparent().remove(ph._element)
    return problems


def _style_textbox(text_frame: TextFrame, block: TextBlock) -> None:
    """A free text box carries its style itself (placeholders inherit theirs from the layout)."""
    style = block.frame.style
    text_frame.word_wrap = True
    text_frame.auto_size = MSO_AUTO_SIZE.NONE
    left, top, right, bottom = (Emu(round(v * EMU_PER_PT)) for v in style.inset_pt)
    text_frame.margin_left, text_frame.margin_top, text_frame.margin_right, text_frame.margin_bottom = (
        left, top, right, bottom)
    body_pr = text_frame._txBody.bodyPr
    body_pr.set("anchor", style.anchor)


def _write(text_frame: TextFrame, block: TextBlock, *, explicit: bool) -> None:
    style = block.frame.style
    spec = style.fit_spec()
    for index, para in enumerate(block.paragraphs):
        size = paragraph_size(spec, block.fitted.size_pt, para)
        paragraph = text_frame.paragraphs[0] if index == 0 else text_frame.add_paragraph()
        if para.level:
            paragraph.level = min(para.level, 2)
        if index and style.space_before:
            paragraph.space_before = Pt(style.space_before * size)
        if style.bullets and not para.bullet:  # a lead-in line: flush left, no bullet
            p_pr = paragraph._p.get_or_add_pPr()
            p_pr.set("marL", "0")
            p_pr.set("indent", "0")
            p_pr.insert_element_before(p_pr.makeelement(qn("a:buNone"), {}), "a:buAutoNum", "a:buChar",
                                       "a:buBlip", "a:tabLst", "a:defRPr", "a:extLst")
        elif style.bullets and explicit:  # a text box has no list style to inherit bullets from
            p_pr = paragraph._p.get_or_add_pPr()
            level = min(para.level, 2)
            fragment = parse_xml(f'<a:pPr {nsdecls("a")} {bullet_indent_attrs(style, level)}>'
                                 f"{bullet_xml(style, level)}</a:pPr>")
            p_pr.attrib.update(fragment.attrib)
            for child in list(fragment):
                p_pr.append(child)
        run = paragraph.add_run()
        run.text = para.text
        if explicit or size != style.level_default_pt(para.level if para.bullet else 0):
            run.font.size = Pt(size)
        if explicit:
            paragraph.alignment = _ALIGN.get(style.align, PP_ALIGN.LEFT)
            paragraph.line_spacing = style.line_spacing
            run.font.bold = style.bold
            run.font.name = style.font_ref  # "+mn-lt": the theme's body font, so it follows re-theming
            set_color(run.font.color, style.color)
            if style.uppercase:
                run.font._rPr.set("cap", "all")


def _write_notes(pptx_slide: PptxSlide, slide: Slide, problems: list[str]) -> None:
    parts = []
    if slide.stage == "failed":
        reason = f": {slide.error}" if slide.error else ""
        parts.append(f"{FAILED_NOTE}{reason}. Edit it or regenerate it in Atelier.")
    parts.extend(problems)
    if slide.notes:
        parts.append(slide.notes)
    if parts:
        pptx_slide.notes_slide.notes_text_frame.text = "\n\n".join(parts)
