"""Text detection before OCR: pictures with letters go to Tesseract, pictures without are not read."""

from __future__ import annotations

import pytest
from PIL import ImageDraw

from app.services.rename.vision import ocr
from tests import images, photos
from tests.photos import font

WITH_TEXT = ("PXL_20240501_101112.jpg", "IMG_2002.JPG")  # the ACME logo, the bakery sign
WITHOUT_TEXT = ("DSC_0412.jpg", "DSC_0007.JPG", "beach-sunset-2.jpg", "DJI_0042.JPG")


@pytest.mark.parametrize("name", WITH_TEXT)
def test_signs_and_logos_have_lines_of_letters(name):
    assert ocr.text_lines(photos.SCENES[name][0]()) >= 1


@pytest.mark.parametrize("name", WITHOUT_TEXT)
def test_photos_without_text_have_none(name):
    assert ocr.text_lines(photos.SCENES[name][0]()) == 0


@pytest.mark.parametrize(("side", "size"), [(4000, 40), (3000, 30), (2000, 24)])
def test_a_small_caption_on_a_big_photo_is_found(side, size):
    picture = images.photo(side, side * 3 // 4, seed=7)
    ImageDraw.Draw(picture).text((side // 10, side // 2), "Summer Sale Today", fill=(250, 250, 250),
                                 font=font("Inter-Bold.otf", size))
    assert ocr.text_lines(picture) >= 1


def test_a_photo_without_letters_is_not_sent_to_tesseract(monkeypatch):
    def must_not_run(*args, **kwargs):
        raise AssertionError("Tesseract ran on a picture with no text")

    monkeypatch.setattr(ocr.shutil, "which", lambda name: "/usr/bin/tesseract")
    monkeypatch.setattr(ocr.pytesseract, "image_to_data", must_not_run)
    for seed in range(4):
        assert ocr.read_text(images.photo(1600, 1200, seed=seed)) == ([], "no_text")


def test_a_real_cat_close_up_has_no_text_to_read():
    from tests import real_photos

    assert ocr.text_lines(real_photos.image(real_photos.CAT)) == 0
