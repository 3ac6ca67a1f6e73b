"""The local analyzer on real images made in memory: EXIF, places, OCR, colours, faces, wording."""

import json
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path

import pytest
from PIL import ExifTags, Image, ImageDraw, ImageFilter, ImageFont

from app.providers.errors import ProviderError
from app.services.rename.vision import colours, local, ocr
from app.services.rename.vision.base import ALT_TEXT_MAX, VisionRequest
from app.services.rename.vision.local import LocalAnalyzer, camera_name, nearest_place
from tests import images

analyzer = LocalAnalyzer()
needs_tesseract = pytest.mark.skipif(not shutil.which("tesseract"), reason="Debian's tesseract-ocr is not installed")
FONTS = ["/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
         "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf"]


def describe(data: bytes, *, filename: str = "IMG_0001.JPG", ocr: bool = False, **options):
    return analyzer.describe(VisionRequest(image=data, mime="image/jpeg", filename=filename, ocr=ocr, **options))


def exif_bytes(*, lat: float | None = None, lon: float | None = None, make: str = "Canon",
               model: str = "Canon EOS R5", taken: str = "2024:05:01 10:11:12", orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make], exif[ExifTags.Base.Model] = make, model
    exif[ExifTags.Base.Orientation] = orientation
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = taken
    if lat is not None and lon is not None:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        for value, ref_tag, tag, refs in ((lat, ExifTags.GPS.GPSLatitudeRef, ExifTags.GPS.GPSLatitude, "NS"),
                                          (lon, ExifTags.GPS.GPSLongitudeRef, ExifTags.GPS.GPSLongitude, "EW")):
            degrees, rest = divmod(abs(value), 1)
            minutes, seconds = divmod(rest * 60, 1)
            gps[ref_tag] = refs[0] if value >= 0 else refs[1]
            gps[tag] = (Fraction(int(degrees)), Fraction(int(minutes)), Fraction(seconds * 60).limit_denominator(1000))
    return exif.tobytes()


def font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    for path in FONTS:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


def schematic_face(size: int = 400) -> Image.Image:
    """Head, brows, eyes, nose shadow and mouth, blurred: enough for the Haar cascade's light/dark pattern."""
    image = Image.new("RGB", (size, size), (90, 120, 160))
    draw = ImageDraw.Draw(image)
    k = size / 400
    for box, fill in (((110, 70, 290, 330), (220, 180, 150)), ((150, 165, 185, 185), (40, 30, 30)),
                      ((215, 165, 250, 185), (40, 30, 30)), ((170, 262, 230, 282), (150, 70, 70))):
        draw.ellipse([v * k for v in box], fill=fill)
    for box in ((150, 145, 185, 152), (215, 145, 250, 152)):
        draw.rectangle([v * k for v in box], fill=(60, 40, 30))
    draw.polygon([(200 * k, 185 * k), (188 * k, 240 * k), (212 * k, 240 * k)], fill=(190, 150, 125))
    return image.filter(ImageFilter.GaussianBlur(3 * k))


def test_exif_date_camera_and_gps_place():
    result = describe(images.jpeg(800, 600, seed=1, exif=exif_bytes(lat=48.8566, lon=2.3522)),
                      filename="IMG_0001 street market.jpg")
    extras = result.extras
    assert extras["date"] == "2024-05-01"
    assert extras["camera"] == "Canon EOS R5"
    assert extras["lat"] == pytest.approx(48.8566, abs=1e-4) and extras["lon"] == pytest.approx(2.3522, abs=1e-4)
    assert (extras["place"], extras["country"]) == ("Paris", "France")
    assert "paris" in result.keywords and "Paris" in result.details
    assert "taken in Paris on 2024-05-01" in result.alt_text
    json.dumps(extras)  # stored as JSON with the renaming decision


@pytest.mark.parametrize("lat, lon, place", [
    (48.8867, 2.3431, ("Paris", "France")),  # Montmartre: GeoNames' "Paris 18 Buttes-Montmartre" district
    (-33.8688, 151.2093, ("Sydney", "Australia")),  # southern and eastern hemispheres
    (40.7128, -74.0060, ("New York City", "United States")),
    (35.6895, 139.6917, ("Tokyo", "Japan")),
    (30.0, -40.0, None),  # mid-Atlantic: nothing within the radius
])
def test_nearest_place(lat, lon, place):
    assert nearest_place(lat, lon) == place


def test_southern_western_gps_refs_and_null_island():
    assert describe(images.jpeg(exif=exif_bytes(lat=-22.9068, lon=-43.1729))).extras["place"] == "Rio de Janeiro"
    extras = describe(images.jpeg(exif=exif_bytes(lat=0.0, lon=0.0))).extras
    assert extras["lat"] is None and extras["place"] is None  # 0,0 means "no fix", not the Gulf of Guinea


@pytest.mark.parametrize("make, model, expected", [
    ("Canon", "Canon EOS R5", "Canon EOS R5"),
    ("NIKON CORPORATION", "NIKON D750", "NIKON D750"),
    ("OLYMPUS IMAGING CORP.", "E-M10", "OLYMPUS E-M10"),
    ("Apple", "iPhone 15 Pro", "Apple iPhone 15 Pro"),
    ("", "X100V", "X100V"),
    (b"FUJIFILM\x00", "X-T4", "FUJIFILM X-T4"),
])
def test_camera_name(make, model, expected):
    assert camera_name(make, model) == expected


def test_unset_camera_clock_gives_no_date():
    assert describe(images.jpeg(exif=exif_bytes(taken="0000:00:00 00:00:00"))).extras["date"] is None


def test_exif_orientation_turns_the_shape():
    result = describe(images.jpeg(640, 480, seed=2, exif=exif_bytes(orientation=6)))
    assert (result.extras["width"], result.extras["height"]) == (480, 640)
    assert result.extras["orientation"] == "portrait"


@pytest.mark.parametrize("size, shape", [((900, 600), "landscape"), ((600, 900), "portrait"),
                                         ((600, 620), "square"), ((2400, 800), "panorama")])
def test_shape_words(size, shape):
    assert describe(images.jpeg(*size)).extras["orientation"] == shape


@needs_tesseract
def test_ocr_reads_large_text():
    sign = Image.new("RGB", (1400, 500), (250, 245, 235))
    ImageDraw.Draw(sign).text((80, 130), "BAKERY", fill=(20, 20, 20), font=font(220))
    result = describe(images.encode(sign, "PNG"), filename="IMG_2041.PNG", ocr=True)
    assert result.extras["ocr"] == "ok"
    assert "BAKERY" in result.extras["text"]
    assert result.subject == "bakery" and "bakery" in result.keywords
    assert "“BAKERY”" in result.alt_text


@needs_tesseract
def test_ocr_reads_text_on_a_busy_photo():
    photo = images.photo(2000, 1500, seed=5)
    ImageDraw.Draw(photo).text((150, 900), "Coffee House", fill=(250, 250, 250), font=font(150))
    result = describe(images.encode(photo, "JPEG", quality=90), filename="IMG_3.jpg", ocr=True)
    assert result.extras["text"] == "Coffee House"
    assert result.alt_text.startswith("Photo with the text “Coffee House”")


def test_ocr_is_skipped_without_tesseract(monkeypatch):
    monkeypatch.setattr(ocr.shutil, "which", lambda name: None)
    result = describe(images.jpeg(), ocr=True)
    assert result.extras["ocr"] == "unavailable" and result.extras["text"] == ""


@pytest.mark.parametrize("error, status", [
    (RuntimeError("Tesseract process timeout"), "timeout"),
    (ocr.pytesseract.TesseractError(1, "Error during processing."), "failed"),
])
def test_ocr_failures_do_not_fail_the_description(monkeypatch, error, status):
    def broken(*args, **kwargs):
        raise error

    monkeypatch.setattr(ocr.shutil, "which", lambda name: "/usr/bin/tesseract")
    monkeypatch.setattr(ocr.pytesseract, "image_to_data", broken)
    sign = Image.new("RGB", (1400, 500), (250, 245, 235))  # letters: the detector hands it to Tesseract
    ImageDraw.Draw(sign).text((80, 130), "BAKERY", fill=(20, 20, 20), font=font(220))
    result = describe(images.encode(sign, "PNG"), ocr=True)
    assert result.extras["ocr"] == status and result.extras["text"] == ""
    assert result.subject == result.alt_text == ""  # nothing found, nothing claimed


def test_a_one_pixel_image():
    result = describe(images.encode(Image.new("RGB", (1, 1), (0, 0, 255)), "PNG"), filename="IMG_9.png", ocr=True)
    assert result.extras["colours"][0]["name"] == "blue" and result.extras["ocr"] in ("ok", "unavailable")


def test_ocr_off():
    assert describe(images.jpeg(), ocr=False).extras["ocr"] == "off"


def test_solid_red_is_named_red():
    result = describe(images.encode(Image.new("RGB", (300, 200), (255, 0, 0)), "PNG"), filename="IMG_1.png")
    assert result.extras["colours"] == [{"name": "red", "hex": "#ff0000", "share": 1.0}]
    assert "red" in result.keywords
    # A colour is not a subject, and "Image in mostly red tones" tells a screen-reader user nothing true
    # about what is shown: no subject, no alt text, and the renamer flags the row instead.
    assert result.subject == result.alt_text == result.title == ""
    assert result.extras["subject_source"] == "none" and result.confidence <= 0.2


def test_transparent_pixels_are_not_a_colour():
    image = Image.new("RGBA", (200, 100), (0, 0, 0, 0))
    image.paste((20, 60, 230, 255), (0, 0, 100, 100))
    assert [c["name"] for c in describe(images.encode(image, "PNG")).extras["colours"]] == ["blue"]


@pytest.mark.parametrize("rgb, name", [((0, 128, 0), "green"), ((0, 0, 255), "blue"), ((255, 255, 255), "white"),
                                       ((0, 0, 0), "black"), ((255, 165, 0), "orange"), ((128, 0, 128), "purple"),
                                       ((139, 69, 19), "brown"), ((0, 0, 128), "navy"), ((0, 128, 128), "teal")])
def test_colour_names(rgb, name):
    assert colours.name_colours(Image.new("RGB", (50, 50), rgb))[0]["name"] == name


def test_one_drawn_face_is_a_portrait():
    result = describe(images.encode(schematic_face(500), "JPEG"))
    assert result.extras["faces"] == 1
    assert result.subject == "portrait" and result.keywords[:2] == ["portrait", "person"]
    assert result.alt_text.startswith("Portrait photo of one person")


def test_several_faces_are_a_group():
    image = Image.new("RGB", (900, 450), (90, 120, 160))
    image.paste(schematic_face(420), (10, 15))
    image.paste(schematic_face(420), (470, 15))
    result = describe(images.encode(image, "JPEG"))
    assert result.extras["faces"] == 2 and "group" in result.keywords
    assert result.alt_text.startswith("Group photo of 2 people")


def test_keywords_never_replace_the_faces_found():
    image = Image.new("RGB", (900, 450), (90, 120, 160))
    image.paste(schematic_face(420), (10, 15))
    image.paste(schematic_face(420), (470, 15))
    result = describe(images.encode(image, "JPEG"), keywords=("team day",))
    assert result.subject == "group portrait" and result.keywords[0] == "team day"
    assert result.alt_text.startswith("Group photo of 2 people")


def test_no_faces_in_pictures_without_people():
    assert not local.face_cascade().empty()
    for seed in range(8):
        assert describe(images.jpeg(800, 600, seed=seed)).extras["faces"] == 0


def test_user_keywords_come_first_then_filename_words():
    result = describe(images.jpeg(exif=exif_bytes(lat=48.8566, lon=2.3522)), filename="IMG_1234 Eiffel Tower.jpg",
                      keywords=("Red  Bicycle", "", "PARIS"))
    assert result.keywords[:4] == ["red bicycle", "paris", "eiffel", "tower"]
    assert result.subject == "eiffel tower" and result.title == "Eiffel tower in Paris"
    assert not {"img", "1234", "jpg"} & set(result.keywords)
    plain = describe(images.jpeg())
    assert result.confidence > plain.confidence


def test_filename_words_make_the_subject_when_there_are_no_keywords():
    result = describe(images.jpeg(), filename="DSC01234_lighthouse-harbour_final.JPG")
    assert result.subject == "lighthouse harbour"
    assert result.keywords[:2] == ["lighthouse", "harbour"]
    assert result.alt_text.startswith("Photo of lighthouse harbour")


def test_alt_text_stays_within_the_limit():
    result = describe(images.encode(schematic_face(400), "JPEG", exif=exif_bytes(lat=48.8566, lon=2.3522)),
                      filename="an extraordinarily long description of a scene.jpg")
    assert 0 < len(result.alt_text) <= ALT_TEXT_MAX
    assert describe(images.jpeg(), want_alt_text=False).alt_text == ""


def test_same_input_same_output():
    data = images.jpeg(1200, 900, seed=5, exif=exif_bytes(lat=51.5074, lon=-0.1278))
    first = describe(data, filename="London eye.jpg", keywords=("river",))
    assert describe(data, filename="London eye.jpg", keywords=("river",)) == first
    assert first.extras["place"] == "London"


def test_undecodable_bytes_are_a_clear_error():
    with pytest.raises(ProviderError) as caught:
        describe(b"definitely not an image")
    assert caught.value.code == "undecodable" and not caught.value.retryable
    with pytest.raises(ProviderError):
        describe(images.jpeg()[:400])  # cut off inside the header


def test_too_many_pixels_is_refused_before_decoding():
    with pytest.raises(ProviderError) as caught:
        describe(images.pixel_flood_png())
    assert caught.value.code == "too_many_pixels"


def test_threads_share_nothing_mutable():
    data = [images.encode(schematic_face(400), "JPEG"), images.jpeg(seed=6, exif=exif_bytes(lat=52.52, lon=13.405))]
    expected = [describe(d) for d in data]
    with ThreadPoolExecutor(max_workers=analyzer.max_concurrency) as pool:
        assert list(pool.map(describe, data * 4)) == expected * 4


def test_provider_attributes():
    assert (analyzer.name, analyzer.model, analyzer.supports_language, analyzer.max_concurrency) == \
        ("local", "", False, 2)


def test_a_12_megapixel_jpeg_is_fast_without_ocr():
    data = images.jpeg(4000, 3000, seed=3)
    describe(data)  # warm-up: cascade load, first-call imports
    best = min(_timed(lambda: describe(data)) for _ in range(3))
    # The target is well under 0.1 s on one core (bench/ measures it); this only catches gross regressions.
    assert best < 0.3, f"{best * 1000:.0f} ms"


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start
