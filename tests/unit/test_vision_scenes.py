"""The local analyzer on photo-like scenes with camera names (tests/photos.py): what a designer drops.

Each finding of issue 17 is one test: OCR noise on texture, background colours, colour wheels, alt
text about nothing, stop-word tags, "panorama" on every wide photo, keywords taking the subject's place.
"""

import shutil

import pytest

from app.services.rename.vision.base import VisionRequest
from app.services.rename.vision.local import LocalAnalyzer
from tests import photos

needs_tesseract = pytest.mark.skipif(not shutil.which("tesseract"), reason="Debian's tesseract-ocr is not installed")
analyzer = LocalAnalyzer()
NO_TEXT = [name for name, (_, words) in photos.SCENES.items() if not words]
WITH_TEXT = [name for name, (_, words) in photos.SCENES.items() if words]


@pytest.fixture(scope="module")
def described():
    """Every scene described once with OCR on (Tesseract is the slow part)."""
    return {name: analyzer.describe(VisionRequest(image=photos.scene_bytes(name), mime="image/jpeg",
                                                  filename=name, ocr=True))
            for name in photos.SCENES}


@needs_tesseract
@pytest.mark.parametrize("name", NO_TEXT)
def test_no_words_are_read_from_photos_without_text(described, name):
    assert described[name].extras["text"] == ""


@needs_tesseract
@pytest.mark.parametrize("name", WITH_TEXT)
def test_the_words_on_signs_and_logos_are_read(described, name):
    read = {w.lower() for w in described[name].extras["text"].split()}
    assert read == photos.SCENES[name][1]


@needs_tesseract
def test_ocr_precision_over_all_scenes(described):
    kept = [(name, w.lower()) for name, r in described.items() for w in r.extras["text"].split()]
    right = [(name, w) for name, w in kept if w in photos.SCENES[name][1]]
    assert kept and len(right) / len(kept) >= 0.9


@pytest.mark.parametrize("name, colour", [
    ("DSC_0412.jpg", "red"),  # the motorcycle, not the asphalt
    ("PXL_20240501_101112.jpg", "blue"),  # the logo, not the white card
    ("DSC_0007.JPG", "multicolor"),  # a colour wheel has no one colour
    ("IMG_2001.JPG", "dark green"),  # all background: the lawn's own colour
])
def test_colours_are_the_subjects(described, name, colour):
    assert described[name].extras["colours"][0]["name"] == colour


@pytest.mark.parametrize("name", ["DSC_0412.jpg", "IMG_2001.JPG", "DSC_0007.JPG", "DJI_0042.JPG"])
def test_nothing_found_means_no_subject_and_no_alt_text(described, name):
    result = described[name]
    assert result.subject == "" and result.alt_text == "" and result.confidence <= 0.2
    assert "image" not in result.details and not any("format" in d for d in result.details)


def test_the_file_names_words_are_kept(described):
    result = described["beach-sunset-2.jpg"]
    assert result.subject == "beach sunset" and result.alt_text.startswith("Photo of beach sunset")


@needs_tesseract
def test_alt_text_says_what_was_read(described):
    assert described["IMG_2002.JPG"].alt_text.startswith("Photo with the text “FRESH BREAD Bakery”")


def test_panorama_only_for_panoramas(described):
    assert "panorama" in described["DJI_0042.JPG"].keywords  # 3:1
    for name in ("DSC_0412.jpg", "IMG_2001.JPG", "beach-sunset-2.jpg"):  # 3:2
        assert "panorama" not in described[name].keywords
    assert analyzer.describe(VisionRequest(image=photos.encode(photos.beach_sunset(2000, 1000), "JPEG"),
                                           mime="image/jpeg", filename="x.jpg", ocr=False)).extras[
        "orientation"] == "landscape"  # 2:1 is a wide crop, not a panorama


def test_no_stop_words_in_tags():
    result = analyzer.describe(VisionRequest(image=photos.scene_bytes("beach-sunset-2.jpg"), mime="image/jpeg",
                                             filename="the sunset at the beach.jpg", keywords=("The", "of Acme"),
                                             ocr=False))
    assert result.keywords[:3] == ["acme", "sunset", "beach"]
    assert not {"the", "at", "of", "of acme"} & set(result.keywords)


def test_keywords_never_replace_a_found_subject_or_make_one():
    data = photos.scene_bytes("beach-sunset-2.jpg")
    plain = analyzer.describe(VisionRequest(image=data, mime="image/jpeg", filename="beach-sunset-2.jpg", ocr=False))
    keyed = analyzer.describe(VisionRequest(image=data, mime="image/jpeg", filename="beach-sunset-2.jpg",
                                            keywords=("acme",), ocr=False))
    assert keyed.subject == plain.subject == "beach sunset" and keyed.confidence == plain.confidence
    assert "acme" not in keyed.alt_text.lower() and keyed.keywords[0] == "acme"
    bare = analyzer.describe(VisionRequest(image=photos.scene_bytes("DSC_0412.jpg"), mime="image/jpeg",
                                           filename="DSC_0412.jpg", keywords=("acme",), ocr=False))
    assert bare.subject == "" and bare.alt_text == "" and bare.confidence <= 0.2
