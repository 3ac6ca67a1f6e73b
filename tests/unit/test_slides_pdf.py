"""PDF export through LibreOffice headless: one page per slide, clear errors when it cannot run.

Conversions take seconds (LibreOffice starts with a fresh profile each time), so this file converts
as little as it can. The conversion tests are skipped only when LibreOffice is not installed (the
Makefile installs libreoffice-impress for `make test`).
"""

from __future__ import annotations

import io
import shutil

import pytest
from pypdf import PdfReader

from app.services.slides.engine import pdf
from app.services.slides.engine.model import (
    ChartData,
    ChartSeries,
    Outline,
    Slide,
    SlideImage,
    TableData,
)
from app.services.slides.engine.pdf import (
    PdfConversionFailed,
    PdfUnavailable,
    convert_to_pdf,
    libreoffice_available,
)
from app.services.slides.engine.pptx_render import render_pptx
from app.services.slides.engine.themes import get_theme
from tests import images

needs_libreoffice = pytest.mark.skipif(not libreoffice_available(), reason="LibreOffice (soffice) is not installed")


def outline() -> Outline:
    return Outline(title="PDF deck", slides=[
        Slide(id="t", layout="title", title="Exported deck", subtitle="via LibreOffice"),
        Slide(id="b", layout="bullets", title="Bullets", bullets=["One", "- one point one", "Two"]),
        Slide(id="i", layout="image_text", title="Picture", bullets=["Cropped"], image=SlideImage(alt="photo")),
        Slide(id="c", layout="chart", title="Chart", chart=ChartData(type="pie", categories=["A", "B"],
                                                                      series=[ChartSeries(name="S", values=[1, 3])])),
        Slide(id="tb", layout="table", title="Table", table=TableData(header=["K", "V"], rows=[["a", "1"]])),
        Slide(id="q", layout="quote", quote="Less, but better.", attribution="Dieter Rams"),
        Slide(id="s", layout="section", title="The end"),
    ])


@needs_libreoffice
def test_one_pdf_page_per_slide_with_the_slide_text():
    deck = outline()
    data = render_pptx(outline=deck, theme=get_theme("editorial"), images={"i": images.jpeg(1280, 720, seed=5)})
    document = PdfReader(io.BytesIO(convert_to_pdf(data, timeout=120)))
    assert len(document.pages) == len(deck.slides)
    first = document.pages[0]
    assert round(float(first.mediabox.width) / float(first.mediabox.height), 2) == round(16 / 9, 2)
    assert "Exported deck" in first.extract_text()
    assert "Bullets" in document.pages[1].extract_text()
    # the theme's fonts from assets/fonts were used (and embedded), not a system substitute
    fonts = {str(font.get_object()["/BaseFont"]) for font in first["/Resources"]["/Font"].values()}
    assert any("EBGaramond" in name for name in fonts) and any("Lato" in name for name in fonts)


@needs_libreoffice
def test_a_conversion_past_its_timeout_is_killed():
    data = render_pptx(outline=outline(), theme=get_theme("studio"), images={})
    with pytest.raises(PdfConversionFailed, match="longer than"):
        convert_to_pdf(data, timeout=0.2)


@needs_libreoffice
def test_a_file_libreoffice_cannot_read_fails_clearly():
    with pytest.raises(PdfConversionFailed, match="could not convert"):
        convert_to_pdf(b"PK\x03\x04 this is not a presentation", timeout=120)


def test_missing_libreoffice_gives_the_install_message(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert not libreoffice_available()
    with pytest.raises(PdfUnavailable) as caught:
        convert_to_pdf(b"anything", timeout=10)
    assert caught.value.message == ("PDF export needs LibreOffice (libreoffice-impress), which is not installed "
                                    "on this server")
    assert caught.value.status == 503


def test_input_limits(monkeypatch):
    monkeypatch.setattr(pdf, "soffice_path", lambda: "/usr/bin/soffice")
    monkeypatch.setattr(pdf, "MAX_PPTX_BYTES", 10)
    with pytest.raises(pdf.TooLarge):
        convert_to_pdf(b"x" * 11, timeout=10)
    monkeypatch.setattr(pdf, "MAX_PPTX_BYTES", 1000)
    with pytest.raises(ValueError, match="timeout"):
        convert_to_pdf(b"x", timeout=0)
