"""Where things go on a slide: one description shared by the .pptx renderer and the preview.

A `Design` says, for each of our slide layouts, which PowerPoint layout to use and where each
role (title, body, picture, chart…) sits, with the text style it is set in. Built-in themes get
their design computed here from the theme's geometry; a brand kit's design is read from its
template (`brand_kit.py`). `slideplan.py` then places one slide's content into those boxes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from app.services.slides.engine.model import Layout
from app.services.slides.engine.themes import Decoration, Theme, font_file
from app.services.slides.engine.typeset import FitSpec

EMU_PER_INCH = 914400
EMU_PER_PT = 12700
SLIDE_W = 12192000  # 13.333 in: 16:9
SLIDE_H = 6858000  # 7.5 in
KINDS: tuple[Layout, ...] = ("title", "section", "bullets", "two_column", "image_text", "chart", "table", "quote")


def inches(value: float) -> int:
    return round(value * EMU_PER_INCH)


@dataclass(frozen=True)
class Box:
    """A rectangle in EMU (1/914400 in)."""

    x: int
    y: int
    w: int
    h: int

    def scaled(self, factor: float) -> tuple[float, float, float, float]:
        """(left, top, right, bottom) in pixels for a slide drawn at `factor` pixels per EMU."""
        return self.x * factor, self.y * factor, (self.x + self.w) * factor, (self.y + self.h) * factor


@dataclass(frozen=True)
class TextStyle:
    font: str  # family name
    font_ref: str  # "+mj-lt" (heading) or "+mn-lt" (body): what the XML says, so theme changes follow
    max_pt: int
    min_pt: int
    color: str  # scheme slot ("tx1", "accent1"…) or a hex colour
    bold: bool = False
    align: str = "l"  # "l" | "ctr" | "r"
    anchor: str = "t"  # "t" | "ctr" | "b"
    line_spacing: float = 1.0
    space_before: float = 0.0  # × size, before each paragraph but the first
    bullets: bool = False
    bullet_char: str = "•"
    bullet_color: str = "accent1"
    indent_pt: tuple[float, ...] = (0.0,)  # text start per level when bulleted
    uppercase: bool = False
    level_step: int = 0  # sub-bullets are this many points smaller per level
    inset_pt: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # left, top, right, bottom

    def fit_spec(self) -> FitSpec:
        return FitSpec(font=font_file(self.font, bold=self.bold), max_pt=self.max_pt, min_pt=self.min_pt,
                       line_spacing=self.line_spacing, space_before=self.space_before,
                       indent_pt=self.indent_pt if self.bullets else (0.0,), uppercase=self.uppercase,
                       level_step=self.level_step if self.bullets else 0)

    def level_default_pt(self, level: int) -> int:
        """The size the layout's list style gives a level (what a run inherits without its own size)."""
        return max(self.min_pt, self.max_pt - self.level_step * level)

    @property
    def font_path(self) -> Path:
        return font_file(self.font, bold=self.bold)


@dataclass(frozen=True)
class Frame:
    """One role on a layout: its box, the placeholder it fills (None: a free shape) and its text style."""

    box: Box
    placeholder: str | None = None  # "title" | "subtitle" | "body" | "body2" | "picture"
    style: TextStyle | None = None


@dataclass(frozen=True)
class LayoutSpec:
    layout_name: str  # the slide layout in the .pptx
    frames: dict[str, Frame]
    background: str = "bg1"  # scheme slot or hex (the preview paints it; the layout/master carries it)
    decorations: tuple[Decoration, ...] = ()


@dataclass(frozen=True)
class Logo:
    image: bytes
    box: Box


@dataclass(frozen=True)
class Design:
    name: str
    slide_w: int
    slide_h: int
    palette: dict[str, str]  # scheme slot → RRGGBB
    heading_font: str
    body_font: str
    layouts: dict[str, LayoutSpec]  # our layout kind → spec
    chart_colors: tuple[str, ...]  # scheme slots, in series order
    logo: Logo | None = None
    table_style: dict[str, str] = field(default_factory=dict)  # header/header_text/band/text → slot

    def color(self, ref: str) -> str:
        """RRGGBB for a scheme slot or a literal hex colour."""
        return self.palette.get(ref, ref).lstrip("#")


_BULLET_INDENTS = (24.0, 52.0, 78.0)  # pt: level 0, 1, 2 (the bullet hangs in the indent)


@lru_cache(maxsize=16)
def theme_design(theme: Theme) -> Design:
    """The geometry and text styles of a built-in theme on a 16:9 slide."""
    W, H = SLIDE_W, SLIDE_H
    mx, mt, mb = inches(theme.margin_x), inches(theme.margin_top), inches(theme.margin_bottom)
    title_h = inches(theme.title_height)
    heading = dict(font=theme.heading_font, font_ref="+mj-lt", bold=theme.heading_bold,
                   uppercase=theme.uppercase_titles, line_spacing=0.92)
    body = dict(font=theme.body_font, font_ref="+mn-lt")
    subtle = "tx2" if theme.hero_background == "bg1" else theme.hero_text

    hero_title = TextStyle(**heading, max_pt=theme.hero_title_pt, min_pt=28, color=theme.hero_text,
                           align=theme.hero_align, anchor="b")
    hero_sub = TextStyle(**body, max_pt=24, min_pt=14, color=subtle, align=theme.hero_align, anchor="t")
    section_title = TextStyle(**heading, max_pt=theme.title_pt + 8, min_pt=24, color=theme.hero_text,
                              align=theme.hero_align, anchor="b")
    title = TextStyle(**heading, max_pt=theme.title_pt, min_pt=20, color=theme.title_color, anchor="b")

    def bullets(max_pt: int) -> TextStyle:
        return TextStyle(**body, max_pt=max_pt, min_pt=12, color="tx1", space_before=0.55, bullets=True,
                         level_step=4, indent_pt=_BULLET_INDENTS, bullet_char="■" if theme.name == "mono" else "•")

    quote = TextStyle(font=theme.heading_font, font_ref="+mj-lt", bold=False, max_pt=theme.quote_pt, min_pt=18,
                      color="tx1", align=theme.hero_align, anchor="ctr", line_spacing=1.0)
    attribution = TextStyle(**body, max_pt=18, min_pt=12, color="tx2", align=theme.hero_align)
    kicker = TextStyle(font=theme.body_font, font_ref="+mn-lt", bold=True, max_pt=14, min_pt=10, color="accent1",
                       uppercase=True, align=theme.hero_align, anchor="b")

    # Content slides: the title across the top, content below.
    title_box = Box(mx, mt, W - 2 * mx, title_h)
    body_top = mt + title_h + inches(0.35)
    content = Box(mx, body_top, W - 2 * mx, H - body_top - mb)
    gutter = inches(0.6)
    half = (content.w - gutter) // 2

    # Title and section slides: big type in the middle band.
    hero_x = mx if theme.hero_align == "l" else mx + inches(0.8)
    hero_w = (inches(9.2) if theme.hero_align == "l" else W - 2 * hero_x)
    hero_title_box = Box(hero_x, round(H * 0.2), hero_w, round(H * 0.44))
    hero_sub_box = Box(hero_x, hero_title_box.y + hero_title_box.h + inches(0.3), hero_w, inches(1.5))
    section_title_box = Box(hero_x, round(H * 0.26), hero_w, round(H * 0.38))
    section_sub_box = Box(hero_x, section_title_box.y + section_title_box.h + inches(0.3), hero_w, inches(1.3))

    # Picture and text: the picture takes one half, bleeding to the edges or inset.
    if theme.image_bleed:
        pic_w = W // 2
        picture = Box(W - pic_w if theme.image_side == "right" else 0, 0, pic_w, H)
    else:
        pic_w = W // 2 - mx
        picture = Box(W // 2 if theme.image_side == "right" else mx, mt, pic_w, H - mt - mb)
    text_x = mx if theme.image_side == "right" else W // 2 + inches(0.6)
    text_w = W // 2 - mx - inches(0.6)
    it_title = Box(text_x, mt, text_w, title_h)  # same band as other titles: decorations line up
    it_body_top = body_top
    it_body = Box(text_x, it_body_top, text_w, H - it_body_top - mb)

    hero_bg = theme.hero_background
    title_frame = Frame(title_box, "title", title)
    layouts = {
        "title": LayoutSpec("Title Slide", {"title": Frame(hero_title_box, "title", hero_title),
                                            "subtitle": Frame(hero_sub_box, "subtitle", hero_sub)},
                            background=hero_bg, decorations=theme.hero_decor),
        "section": LayoutSpec("Section Header", {"title": Frame(section_title_box, "title", section_title),
                                                 "subtitle": Frame(section_sub_box, "body", hero_sub)},
                              background=hero_bg, decorations=theme.hero_decor),
        "bullets": LayoutSpec("Title and Content", {"title": title_frame,
                                                    "body": Frame(content, "body", bullets(theme.body_pt))},
                              decorations=theme.content_decor),
        "two_column": LayoutSpec("Two Content", {
            "title": title_frame,
            "left": Frame(Box(content.x, content.y, half, content.h), "body", bullets(theme.body_pt - 4)),
            "right": Frame(Box(content.x + half + gutter, content.y, half, content.h), "body2",
                           bullets(theme.body_pt - 4))}, decorations=theme.content_decor),
        "image_text": LayoutSpec("Picture with Caption", {
            "title": Frame(it_title, "title", title),
            "picture": Frame(picture, "picture"),
            "body": Frame(it_body, "body", bullets(theme.body_pt - 4))}, decorations=theme.content_decor),
        "chart": LayoutSpec("Title Only", {"title": title_frame, "chart": Frame(content)},
                            decorations=theme.content_decor),
        "table": LayoutSpec("Title Only", {"title": title_frame, "table": Frame(content)},
                            decorations=theme.content_decor),
        "quote": LayoutSpec("Quote", {
            "kicker": Frame(Box(mx, mt, W - 2 * mx, inches(0.9)), None, kicker),
            "quote": Frame(Box(mx + inches(0.9), inches(1.6), W - 2 * mx - inches(1.8), inches(3.6)), "title", quote),
            "attribution": Frame(Box(mx + inches(0.9), inches(5.45), W - 2 * mx - inches(1.8), inches(0.8)),
                                 "body", attribution)}, decorations=theme.quote_decor),
    }
    slots = tuple(f"accent{i}" for i in range(1, 7))
    return Design(name=theme.name, slide_w=W, slide_h=H, palette=dict(theme.palette), heading_font=theme.heading_font,
                  body_font=theme.body_font, layouts=layouts, chart_colors=slots,
                  table_style={"header": "accent1", "header_text": "bg1", "band": "bg2", "text": "tx1"})


def crop_to_fill(image_w: int, image_h: int, box_w: int, box_h: int) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) crop fractions that make the picture fill the box, centred.

    The .pptx stores these as crop properties (the user can re-crop in PowerPoint); the preview
    crops the pixels the same way.
    """
    if image_w <= 0 or image_h <= 0 or box_w <= 0 or box_h <= 0:
        return 0.0, 0.0, 0.0, 0.0
    image_ratio, box_ratio = image_w / image_h, box_w / box_h
    if image_ratio > box_ratio:  # too wide: trim the sides
        cut = (1 - box_ratio / image_ratio) / 2
        return cut, 0.0, cut, 0.0
    cut = (1 - image_ratio / box_ratio) / 2
    return 0.0, cut, 0.0, cut
