"""The ZIP attack set: only safe, bounded entries get out of an uploaded archive."""

import io
import stat
import zipfile

import pytest

from app.services.assets import archives
from tests import images


@pytest.fixture(autouse=True)
def _limits(monkeypatch):
    from app.settings import get_settings

    monkeypatch.setenv("MAX_UPLOAD_FILES", "50")
    monkeypatch.setenv("MAX_UPLOAD_FILE_BYTES", str(2 * 1024 * 1024))
    monkeypatch.setenv("MAX_ARCHIVE_BYTES", str(8 * 1024 * 1024))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def build(entries, compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for entry in entries:
            if isinstance(entry, zipfile.ZipInfo):
                archive.writestr(entry, b"target.jpg")
            else:
                archive.writestr(*entry)
    return out.getvalue()


def codes(data: bytes) -> tuple[list[str], dict[str, str]]:
    files, errors = archives.expand(data, archive_name="shoot.zip")
    return [name for name, _ in files], {e.name: e.code for e in errors}


def test_images_come_out_with_their_bytes_and_base_names():
    photo = images.jpeg(64, 64, seed=1)
    data = build([("summer/beach.jpg", photo), ("logo.png", images.png(20, 20)), ("summer/", b"")])
    files, errors = archives.expand(data, archive_name="shoot.zip")
    assert [n for n, _ in files] == ["beach.jpg", "logo.png"] and files[0][1] == photo and errors == []


def test_traversal_and_absolute_paths_are_refused():
    names, errors = codes(build([("../../evil.jpg", b"x"), ("/etc/passwd", b"x"), ("C:/x.jpg", b"x"),
                                 ("ok.jpg", images.jpeg(8, 8))]))
    assert names == ["ok.jpg"]
    assert set(errors.values()) == {"unsafe_path"} and len(errors) == 3


def test_symlinks_are_refused():
    link = zipfile.ZipInfo("link.jpg")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    names, errors = codes(build([link]))
    assert names == [] and errors == {"shoot.zip/link.jpg": "symlink"}


def test_a_compression_bomb_is_refused_without_inflating_it():
    names, errors = codes(build([("bomb.jpg", b"\0" * (2 * 1024 * 1024))]))
    assert names == [] and errors == {"shoot.zip/bomb.jpg": "archive_bomb"}


def test_too_many_entries():
    names, errors = codes(build([(f"{i}.jpg", b"x") for i in range(51)]))
    assert names == [] and list(errors.values()) == ["archive_too_many_entries"]


def test_total_expanded_size_is_bounded():
    big = images.encode(images.photo(800, 650, seed=2), "BMP")  # 1.56 MB each, 12.5 MB in all
    names, errors = codes(build([(f"{i}.bmp", big) for i in range(8)], zipfile.ZIP_STORED))
    assert names == [] and list(errors.values()) == ["archive_too_large"]


def test_an_entry_over_the_file_limit():
    _names, errors = codes(build([("huge.bmp", images.encode(images.photo(1200, 900), "BMP"))], zipfile.ZIP_STORED))
    assert errors == {"shoot.zip/huge.bmp": "file_too_large"}


def test_a_header_that_understates_the_size_is_caught_while_reading():
    payload = images.encode(images.photo(900, 700, seed=3), "BMP")  # 1.9 MB, under the 2 MB cap
    data = bytearray(build([("lie.bmp", payload + payload)], zipfile.ZIP_STORED))
    # Rewrite the declared sizes (local header and central directory) to claim 1 KB.
    real = (len(payload) * 2).to_bytes(4, "little")
    data = bytes(data).replace(real, (1024).to_bytes(4, "little"))
    names, errors = codes(data)
    assert names == [] and list(errors.values()) in (["bad_entry"], ["archive_bomb"])


def test_encrypted_entries_are_refused():
    data = bytearray(build([("secret.jpg", images.jpeg(8, 8))], zipfile.ZIP_STORED))
    # Set the "encrypted" flag bit in the local header and the central directory entry.
    data[6] |= 0x1
    central = bytes(data).rfind(b"PK\x01\x02")
    data[central + 8] |= 0x1
    names, errors = codes(bytes(data))
    assert names == [] and errors == {"shoot.zip/secret.jpg": "encrypted"}


def test_garbage_that_starts_like_a_zip():
    names, errors = codes(b"PK\x03\x04" + b"\0" * 100)
    assert names == [] and list(errors.values()) == ["bad_archive"]


def test_read_upload_caps_by_kind():
    small_cap = 2 * 1024 * 1024 + 1
    assert len(archives.read_upload(io.BytesIO(b"\xff\xd8" + b"x" * (3 * 1024 * 1024)))) == small_cap
    # An archive is not read into memory: the spooled upload itself comes back, rewound.
    zipped = io.BytesIO(b"PK\x03\x04" + b"x" * (3 * 1024 * 1024))
    handle = archives.read_upload(zipped)
    assert handle is zipped and handle.tell() == 0


def test_entries_come_one_at_a_time_from_a_file():
    import tempfile

    with tempfile.TemporaryFile() as spooled:
        spooled.write(build([(f"p{i}.jpg", images.jpeg(64, 48, seed=i)) for i in range(3)]))
        errors = []
        entries = archives.iter_entries(spooled, archive_name="shoot.zip", errors=errors)
        first = next(entries)  # a generator: nothing past the first entry is inflated yet
        assert first == ("p0.jpg", images.jpeg(64, 48, seed=0))
        assert [name for name, _ in entries] == ["p1.jpg", "p2.jpg"] and errors == []
