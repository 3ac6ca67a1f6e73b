"""Decoding is bounded: JPEG decodes at a reduced scale, other formats have a lower pixel limit."""

import subprocess
import sys

import pytest

from app.services.assets.images import (
    ImageRejected,
    inspect_image,
    make_thumbnail,
    open_checked,
)
from tests import images


@pytest.fixture(autouse=True)
def _settings(monkeypatch):
    from app.settings import get_settings

    for name in ("MAX_IMAGE_PIXELS", "MAX_FULL_DECODE_PIXELS", "MAX_UPLOAD_FILE_BYTES"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_a_9999_by_10000_png_is_refused_before_decoding_with_the_reason():
    """Under MAX_IMAGE_PIXELS (100 MP), but a PNG decodes whole: 400 MB. Refused, and says why."""
    bomb = images.pixel_flood_png(9999, 10000)
    for check in (inspect_image, lambda data: make_thumbnail(data, 512)):
        with pytest.raises(ImageRejected) as caught:
            check(bomb)
        assert caught.value.code == "too_many_pixels"
        assert "decoded at full size" in caught.value.message and "JPEG" in caught.value.message


def test_a_large_jpeg_is_checked_at_a_reduced_scale_and_still_caught_when_cut():
    data = images.jpeg(5000, 4000, seed=2)
    image, info = open_checked(data)
    assert (info.width, info.height) == (5000, 4000)  # what the file is
    assert image.size[0] * image.size[1] <= 5000 * 4000 // 16  # what was decoded
    with pytest.raises(ImageRejected) as caught:
        inspect_image(data[: len(data) * 2 // 3])
    assert caught.value.code == "corrupt_image"


# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec, so a child would report pytest's peak.
PEAK_SCRIPT = """
import sys
from app.services.assets.images import inspect_image, make_thumbnail
def hwm():
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmHWM:")).split()[1]) // 1024
data = open(sys.argv[1], "rb").read()
before = hwm()
inspect_image(data)
make_thumbnail(data, 512)
print(hwm() - before)
"""


def test_a_60_megapixel_jpeg_costs_a_bounded_peak(tmp_path):
    """Full decodes would take 180 MB (RGB) each; at a reduced scale the growth stays small."""
    path = tmp_path / "big.jpg"
    path.write_bytes(images.encode(images.photo(600, 400).resize((9000, 6667)), "JPEG", quality=80))
    grown_mb = int(subprocess.run([sys.executable, "-c", PEAK_SCRIPT, str(path)], capture_output=True, text=True,
                                  check=True).stdout.strip())
    assert grown_mb < 60, grown_mb
