"""Preview and export take their fonts from one table (app/services/slides/engine/themes.py FONT_FILES).

The preview is drawn with Pillow from the table's files; the .pptx names the table's families as its theme
fonts; LibreOffice finds those families in the same files (pdf.py's private fontconfig) for the PDF. A
slide of code in the Mono theme is set in Fira Code in all three.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from PIL import ImageFont
from pypdf import PdfReader

from app.services.slides.engine import preview
from app.services.slides.engine.model import Outline, Slide
from app.services.slides.engine.pdf import convert_to_pdf, libreoffice_available
from app.services.slides.engine.pptx_render import render_pptx
from app.services.slides.engine.themes import (
    FONT_FILES,
    FONTS_DIR,
    THEMES,
    get_theme,
)

CODE = Slide(id="c", layout="bullets", title="def main() -> int:", bullets=["return 42", "print(main())"])


def test_each_file_declares_the_family_the_table_names_it_by():
    """PowerPoint and LibreOffice look a font up by the family its file declares, not by its file name."""
    for family, files in FONT_FILES.items():
        for name in files:
            assert ImageFont.truetype(str(FONTS_DIR / name), 12).getname()[0] == family, name


def test_every_theme_uses_only_families_the_table_ships():
    for theme in THEMES.values():
        assert theme.heading_font in FONT_FILES and theme.body_font in FONT_FILES, theme.name


def _pptx_theme_fonts(data: bytes) -> set[tuple[str, str]]:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        xml = "".join(package.read(n).decode() for n in package.namelist() if n.startswith("ppt/theme/"))
    return set(re.findall(r"<a:(majorFont|minorFont)><a:latin typeface=\"([^\"]+)\"", xml))


def _preview_files(monkeypatch, slide: Slide, theme_name: str) -> set[str]:
    used: set[str] = set()
    draw = preview.pil_font

    def recording(path: Path, size_px: float):
        used.add(Path(path).name)
        return draw(path, size_px)

    monkeypatch.setattr(preview, "pil_font", recording)
    preview.slide_preview_png(slide=slide, theme=get_theme(theme_name))
    return used


@pytest.mark.parametrize("theme_name", sorted(THEMES))
def test_the_preview_draws_with_the_files_of_the_families_the_pptx_names(monkeypatch, theme_name):
    theme = get_theme(theme_name)
    used = _preview_files(monkeypatch, CODE, theme_name)
    pptx = render_pptx(outline=Outline(title="Fonts", slides=[CODE]), theme=theme, images={})
    named = _pptx_theme_fonts(pptx)
    assert named == {("majorFont", theme.heading_font), ("minorFont", theme.body_font)}
    # Every file the preview drew with belongs to a family the .pptx names, and both families were drawn.
    families = {family for family, files in FONT_FILES.items() for name in files if name in used}
    assert families == {theme.heading_font, theme.body_font}, (used, named)


@pytest.mark.skipif(not libreoffice_available(), reason="LibreOffice (soffice) is not installed")
def test_a_code_slide_is_set_in_the_monospace_font_in_the_preview_the_pptx_and_the_pdf(monkeypatch):
    used = _preview_files(monkeypatch, CODE, "mono")
    assert set(FONT_FILES["Fira Code"]) & used
    pptx = render_pptx(outline=Outline(title="Fonts", slides=[CODE]), theme=get_theme("mono"), images={})
    assert ("majorFont", "Fira Code") in _pptx_theme_fonts(pptx)
    page = PdfReader(io.BytesIO(convert_to_pdf(pptx, timeout=120))).pages[0]
    fonts = {str(font.get_object()["/BaseFont"]) for font in page["/Resources"]["/Font"].values()}
    assert any("FiraCode" in name for name in fonts), fonts  # the shipped file, not a system substitute
    assert "def main() -> int:" in page.extract_text()
