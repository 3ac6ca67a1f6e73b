"""The upload attack set at the image-check level, and derivatives."""

import io
import time
import tracemalloc

import pytest
from PIL import Image

from app.services.assets.images import (
    ImageRejected,
    clean_filename,
    display_name,
    inspect_image,
    make_thumbnail,
)
from tests import images


@pytest.fixture(autouse=True)
def _settings(monkeypatch):
    from app.settings import get_settings

    monkeypatch.setenv("MAX_UPLOAD_FILE_BYTES", str(5 * 1024 * 1024))
    monkeypatch.setenv("MAX_IMAGE_PIXELS", str(50_000_000))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def rejected(data: bytes) -> str:
    with pytest.raises(ImageRejected) as caught:
        inspect_image(data)
    assert caught.value.message
    return caught.value.code


@pytest.mark.parametrize("fmt, mime, options", [
    ("JPEG", "image/jpeg", {}), ("PNG", "image/png", {}), ("WEBP", "image/webp", {}),
    ("GIF", "image/gif", {}), ("TIFF", "image/tiff", {}), ("HEIF", "image/heic", {"quality": 60}),
])
def test_accepted_types_by_content(fmt, mime, options):
    info = inspect_image(images.encode(images.photo(120, 80, seed=1), fmt, **options))
    assert (info.mime, info.width, info.height) == (mime, 120, 80)


def test_empty_file():
    assert rejected(b"") == "empty_file"


def test_html_renamed_as_jpeg():
    assert rejected(b"<!doctype html><script>alert(1)</script>") == "unsupported_type"


def test_wrong_magic_bytes():
    data = images.jpeg(64, 64)
    assert rejected(b"GIF89a" + data[6:]) in ("unsupported_type", "corrupt_image")
    assert rejected(b"\x00" * 4096) == "unsupported_type"


def test_truncated_jpeg_is_refused():
    data = images.jpeg(800, 600, seed=3)
    assert rejected(data[: len(data) // 2]) == "corrupt_image"


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_a_damaged_image_is_refused_in_plain_words(cut):
    # Not Pillow's "(Truncated File Read)" or "(broken data stream …)": what happened and what to do.
    data = images.jpeg(800, 600, seed=3)
    with pytest.raises(ImageRejected) as caught:
        inspect_image(data[: int(len(data) * cut)])
    assert caught.value.message == ("The image is damaged or cut short. Re-export or re-download it, then "
                                    "upload it again.")


def test_pixel_flood_png_is_refused_fast_and_small():
    bomb = images.pixel_flood_png()
    tracemalloc.start()
    started = time.perf_counter()
    assert rejected(bomb) == "too_many_pixels"
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 1.0 and peak < 20 * 1024 * 1024, (elapsed, peak)


def test_oversized_file_is_refused():
    assert rejected(b"\xff\xd8" + b"\x00" * (5 * 1024 * 1024 + 10)) == "file_too_large"


def test_unsupported_real_image_type():
    assert rejected(images.encode(images.photo(32, 32), "BMP")) == "unsupported_type"


@pytest.mark.parametrize("raw, ext, expected", [
    ("../../etc/passwd.jpg", "jpg", "passwd.jpg"),
    ("C:\\Users\\ada\\holiday.JPEG", "jpg", "holiday.jpg"),
    ("evil\r\nContent-Type: text/html.png", "png", "html.png"),
    ("photo\u202egpj.exe", "jpg", "photogpj.jpg"),
    ("...", "png", "image.png"),
    ("", "jpg", "image.jpg"),
    ("a\x00b\x07c.png", "png", "abc.png"),
    ("café au lait.heic", "heic", "café au lait.heic"),
    ("a" * 400 + ".jpg", "jpg", "a" * 180 + ".jpg"),
])
def test_clean_filename(raw, ext, expected):
    assert clean_filename(raw, ext) == expected


@pytest.mark.parametrize("raw, expected", [
    ("flood.png", "flood.png"),  # as sent: people look for the name they dropped, extension and all
    ("IMG_2001.JPG", "IMG_2001.JPG"),
    ("../../etc/passwd", "passwd"),
    ("C:\\temp\\holiday.heic", "holiday.heic"),
    ("tab\tbell\x07.jpg", "tabbell.jpg"),
    ("evil.png\r\n", "evil.png"),
    ("", "image"),
])
def test_display_name(raw, expected):
    assert display_name(raw) == expected


def test_thumbnail_applies_exif_orientation_and_reads_metadata():
    data = images.jpeg(400, 200, seed=5, exif=images.exif_with_orientation(6))  # rotate 90°
    thumb, meta = make_thumbnail(data, 128)
    image = Image.open(io.BytesIO(thumb))
    assert image.format == "WEBP"
    assert image.size[1] > image.size[0]  # portrait after rotation
    assert max(image.size) == 128
    assert meta["exif"]["Make"] == "Atelier Test Camera Co"
    assert len(meta["colours"]) == 5 and all(c["hex"].startswith("#") for c in meta["colours"])
    assert abs(sum(c["share"] for c in meta["colours"]) - 1) < 0.01


def test_thumbnail_keeps_transparency():
    image = images.photo(200, 100).convert("RGBA")
    image.putalpha(Image.linear_gradient("L").resize((200, 100)))
    thumb, _ = make_thumbnail(images.encode(image, "PNG"), 64)
    assert Image.open(io.BytesIO(thumb)).mode == "RGBA"
