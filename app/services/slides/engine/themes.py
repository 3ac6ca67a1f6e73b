"""Built-in slide themes, as data.

A theme names its fonts (families shipped in `assets/fonts/`, so the preview measures and draws
with the very files LibreOffice uses for the PDF), its colours, its layout geometry and a few
decorations drawn with native shapes. `pptx_master.py` writes a theme into the slide master of
the .pptx (theme fonts, colour scheme, text styles, layouts), so a user editing the file in
PowerPoint keeps the theme's styles on new slides and text.

Colours are referred to by scheme slot everywhere outside this module: "bg1" (background),
"tx1" (text), "bg2" (surface), "tx2" (muted text), "accent1".."accent6". Dark themes keep dark
colours in dk1/dk2 and swap them with the master's colour map, as Office themes do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from app.errors import NotFound

FONTS_DIR = Path(__file__).resolve().parents[4] / "assets" / "fonts"

# Family name (as the font files declare it, which is what PowerPoint and LibreOffice look up)
# → (regular, bold) files.
FONT_FILES: dict[str, tuple[str, str]] = {
    "Inter": ("Inter-Regular.otf", "Inter-Bold.otf"),
    "League Spartan": ("LeagueSpartan-Regular.otf", "LeagueSpartan-Bold.otf"),
    "EB Garamond": ("EBGaramond12-Regular.otf", "EBGaramond12-Bold.otf"),
    "Comfortaa": ("Comfortaa-Regular.ttf", "Comfortaa-Bold.ttf"),
    "Lato": ("Lato-Regular.ttf", "Lato-Bold.ttf"),
    "Open Sans": ("OpenSans-Regular.ttf", "OpenSans-Bold.ttf"),
    "Fira Code": ("FiraCode-Regular.ttf", "FiraCode-Bold.ttf"),
    "DejaVu Sans": ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
}
FALLBACK_FONT = "DejaVu Sans"


def font_file(family: str, *, bold: bool = False) -> Path:
    """The shipped file for a family; unknown families (a brand kit's Calibri) measure with DejaVu Sans,
    which is wider than most sans faces, so text fitted with it errs on the small side."""
    regular, heavy = FONT_FILES.get(family, FONT_FILES[FALLBACK_FONT])
    return FONTS_DIR / (heavy if bold else regular)


@dataclass(frozen=True)
class Decoration:
    """A native shape drawn on a slide layout: editable in PowerPoint's layout view, never a picture.

    Coordinates are fractions of the slide (0..1, may run past the edge to bleed); `color` is a scheme
    slot; `alpha` 0..1 is opacity.
    """

    shape: str  # "rect" | "ellipse" | "roundRect"
    x: float
    y: float
    w: float
    h: float
    color: str
    alpha: float = 1.0


@dataclass(frozen=True)
class Theme:
    name: str  # registry key, lower case
    label: str
    heading_font: str
    body_font: str
    dark: bool
    background: str  # hex RRGGBB
    text: str
    surface: str  # panels, table bands
    muted: str  # secondary text: subtitles, attributions, axis labels
    accents: tuple[str, str, str, str, str, str]  # accent1..6, also the chart colour sequence
    # Title and section slides ("hero"): a scheme slot for their background and their text.
    hero_background: str = "bg1"
    hero_text: str = "tx1"
    title_color: str = "tx1"  # slide titles on content slides
    heading_bold: bool = True
    uppercase_titles: bool = False
    # Geometry in inches on the 13.333 × 7.5 in slide.
    margin_x: float = 0.8
    margin_top: float = 0.5
    margin_bottom: float = 0.55
    title_height: float = 1.15
    hero_align: str = "l"  # "l" | "ctr"
    image_side: str = "right"
    image_bleed: bool = True  # the picture runs to the slide edges on image_text slides
    # Largest font sizes (pt); the fitter shrinks from these.
    hero_title_pt: int = 54
    title_pt: int = 36
    body_pt: int = 28
    quote_pt: int = 34
    hero_decor: tuple[Decoration, ...] = ()
    content_decor: tuple[Decoration, ...] = ()
    quote_decor: tuple[Decoration, ...] = ()
    palette: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        slots = {"bg1": self.background, "tx1": self.text, "bg2": self.surface, "tx2": self.muted}
        slots.update({f"accent{i + 1}": c for i, c in enumerate(self.accents)})
        object.__setattr__(self, "palette", slots)


D = Decoration

THEMES: dict[str, Theme] = {
    t.name: t
    for t in (
        Theme(
            name="studio", label="Studio", heading_font="Inter", body_font="Inter", dark=False,
            background="FFFFFF", text="1B1530", surface="F3F0FD", muted="6B6580",
            accents=("6D28D9", "F59E0B", "0EA5E9", "10B981", "EC4899", "64748B"),
            hero_background="accent1", hero_text="bg1",
            hero_decor=(D("ellipse", 0.70, -0.25, 0.50, 0.89, "bg1", 0.12),
                        D("ellipse", 0.84, 0.62, 0.22, 0.39, "accent2", 0.9),
                        D("rect", 0.06, 0.655, 0.06, 0.012, "accent2")),
            content_decor=(D("rect", 0.06, 0.236, 0.045, 0.01, "accent1"),
                           D("ellipse", 0.955, -0.04, 0.08, 0.142, "accent1", 0.9)),
            quote_decor=(D("rect", 0.0, 0.0, 0.018, 1.0, "accent1"),),
        ),
        Theme(
            name="editorial", label="Editorial", heading_font="EB Garamond", body_font="Lato", dark=False,
            background="FAF6EF", text="2B2622", surface="F0E7D8", muted="7A6F64",
            accents=("B4532A", "2F5D62", "D9A441", "6B4E71", "8A9A5B", "4A4540"),
            heading_bold=False, hero_align="ctr", image_bleed=False, margin_x=0.9,
            hero_title_pt=60, title_pt=40, quote_pt=36,
            hero_decor=(D("rect", 0.25, 0.14, 0.5, 0.003, "tx1"), D("rect", 0.25, 0.86, 0.5, 0.003, "tx1"),
                        D("ellipse", 0.493, 0.125, 0.014, 0.025, "accent1")),
            content_decor=(D("rect", 0.0675, 0.245, 0.865, 0.002, "tx2", 0.6),
                           D("rect", 0.0675, 0.955, 0.865, 0.002, "tx2", 0.6)),
            quote_decor=(D("rect", 0.47, 0.215, 0.06, 0.005, "accent1"),),
        ),
        Theme(
            name="bold", label="Bold", heading_font="League Spartan", body_font="Open Sans", dark=False,
            background="FFFFFF", text="0A0A0A", surface="F2F2F2", muted="4D4D4D",
            accents=("FF4B1F", "1F3BFF", "FFC300", "00A676", "7A5CFF", "0A0A0A"),
            hero_background="tx1", hero_text="bg1", uppercase_titles=True, margin_x=0.95,
            hero_title_pt=72, title_pt=40,
            hero_decor=(D("rect", 0.0, 0.0, 0.035, 1.0, "accent1"), D("rect", 0.72, 0.84, 0.28, 0.16, "accent1")),
            content_decor=(D("rect", 0.0, 0.0, 0.022, 1.0, "accent1"),),
            quote_decor=(D("rect", 0.0, 0.0, 0.022, 1.0, "accent1"), D("rect", 0.07, 0.2, 0.1, 0.022, "accent1")),
        ),
        Theme(
            name="soft", label="Soft", heading_font="Comfortaa", body_font="Open Sans", dark=False,
            background="FFFBF7", text="3D3A4B", surface="FBEFE7", muted="8C8799",
            accents=("E07A93", "5FA8B0", "E8B04B", "9A8BDB", "6DBB83", "EE8E5C"),
            hero_align="ctr", image_bleed=False, title_pt=34, body_pt=26,
            hero_decor=(D("ellipse", -0.08, -0.18, 0.3, 0.53, "accent1", 0.25),
                        D("ellipse", 0.8, 0.6, 0.3, 0.53, "accent2", 0.25),
                        D("ellipse", 0.86, 0.06, 0.08, 0.14, "accent3", 0.45)),
            content_decor=(D("ellipse", 0.9, -0.12, 0.16, 0.28, "accent1", 0.22),
                           D("ellipse", 0.955, 0.1, 0.06, 0.105, "accent3", 0.4)),
            quote_decor=(D("ellipse", -0.06, 0.62, 0.24, 0.43, "accent2", 0.22),
                         D("ellipse", 0.85, -0.1, 0.2, 0.36, "accent1", 0.22)),
        ),
        Theme(
            name="midnight", label="Midnight", heading_font="Inter", body_font="Lato", dark=True,
            background="0F172A", text="E2E8F0", surface="1E293B", muted="94A3B8",
            accents=("38BDF8", "A78BFA", "F472B6", "FBBF24", "34D399", "FB7185"),
            title_color="tx1",
            hero_decor=(D("ellipse", 0.62, -0.3, 0.55, 0.98, "accent2", 0.18),
                        D("ellipse", 0.78, 0.35, 0.4, 0.71, "accent1", 0.16),
                        D("rect", 0.06, 0.656, 0.08, 0.008, "accent1")),
            content_decor=(D("rect", 0.0, 0.0, 1.0, 0.008, "accent1"),
                           D("ellipse", 0.93, 0.88, 0.14, 0.25, "accent2", 0.18)),
            quote_decor=(D("ellipse", 0.7, -0.2, 0.5, 0.89, "accent2", 0.14),),
        ),
        Theme(
            name="mono", label="Mono", heading_font="Fira Code", body_font="Inter", dark=False,
            background="F7F7F5", text="111111", surface="EAEAE6", muted="666666",
            accents=("00A36C", "2563EB", "E11D48", "F59E0B", "7C3AED", "0891B2"),
            title_pt=32, hero_title_pt=48, body_pt=26, quote_pt=30,
            hero_background="tx1", hero_text="bg1",
            hero_decor=(D("rect", 0.03, 0.25, 0.012, 0.5, "accent1"),
                        D("rect", 0.0, 0.955, 1.0, 0.045, "accent1")),
            content_decor=(D("rect", 0.0, 0.0, 1.0, 0.012, "tx1"),
                           D("rect", 0.06, 0.958, 0.88, 0.002, "tx2", 0.5),
                           D("roundRect", 0.92, 0.94, 0.02, 0.037, "accent1")),
            quote_decor=(D("rect", 0.0, 0.0, 1.0, 0.012, "tx1"),),
        ),
    )
}
DEFAULT_THEME = "studio"


class UnknownTheme(NotFound):
    code = "unknown_theme"


def get_theme(name: str) -> Theme:
    """A built-in theme by name (case-insensitive); an empty name gives the default theme."""
    key = (name or DEFAULT_THEME).strip().lower()
    theme = THEMES.get(key)
    if theme is None:
        raise UnknownTheme(f"unknown slide theme {name!r}; choose one of: {', '.join(sorted(THEMES))}")
    return theme


def list_themes() -> list[Theme]:
    """Every built-in theme, in a stable order for the theme picker."""
    return list(THEMES.values())
