"""The page's chunked upload: each multipart part is its own file, whatever its name."""

import pytest

from app.services.assets.upload_chunks import ChunkAssembler
from tests import images


@pytest.fixture(autouse=True)
def _limits(monkeypatch):
    from app.settings import get_settings

    monkeypatch.setenv("MAX_UPLOAD_FILES", "5")
    monkeypatch.setenv("MAX_UPLOAD_FILE_BYTES", str(2 * 1024 * 1024))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def chunked(name: str, data: bytes, size: int = 4096):
    """What Reflex's parser emits for one part: the name and the running offset, from 0."""
    return [(name, offset, data[offset:offset + size]) for offset in range(0, len(data), size)] or [(name, 0, b"")]


def assemble(chunks) -> list:
    assembler = ChunkAssembler()
    done = []
    for name, offset, data in chunks:
        finished, _ = assembler.feed(filename=name, offset=offset, data=data)
        done.extend(finished)
    done.extend(assembler.close())
    return done


def test_five_photos_with_one_name_stay_five_files():
    photos = [images.jpeg(200, 150, seed=i) for i in range(5)]
    chunks = [c for p in photos for c in chunked("image.jpg", p)]
    files = assemble(chunks)
    assert [f.name for f in files] == ["image.jpg"] * 5
    assert [f.read() for f in files] == photos


def test_two_camera_folders_with_the_same_names():
    a = [images.jpeg(120, 90, seed=i) for i in range(2)]
    b = [images.jpeg(120, 90, seed=10 + i) for i in range(2)]
    order = [("DSC_0001.jpg", a[0]), ("DSC_0001.jpg", b[0]), ("DSC_0002.jpg", a[1]), ("DSC_0002.jpg", b[1])]
    files = assemble([c for name, data in order for c in chunked(name, data, size=1000)])
    assert [(f.name, f.read()) for f in files] == order


def test_an_empty_file_between_same_named_files_is_its_own_file():
    photo = images.jpeg(64, 48)
    files = assemble([*chunked("x.jpg", photo), ("x.jpg", 0, b""), *chunked("x.jpg", photo[::-1])])
    assert [len(f.read()) for f in files] == [len(photo), 0, len(photo)]


def test_a_file_over_its_cap_is_dropped_as_it_arrives_and_flagged():
    big = b"\xff\xd8" + b"\x00" * (2 * 1024 * 1024 + 10)
    files = assemble(chunked("big.jpg", big, size=256 * 1024) + chunked("ok.jpg", b"abc"))
    assert [(f.name, f.refused) for f in files] == [("big.jpg", "too_big"), ("ok.jpg", "")]
    assert files[0].read() == b"" and files[1].read() == b"abc"


def test_files_past_the_count_limit_are_refused_not_merged():
    files = assemble([c for i in range(7) for c in chunked("p.jpg", bytes([i]) * 10)])
    assert [f.refused for f in files] == ["", "", "", "", "", "too_many", "too_many"]
    assert [f.read() for f in files[:5]] == [bytes([i]) * 10 for i in range(5)]


def test_a_chunk_out_of_order_refuses_its_file():
    files = assemble([("a.jpg", 0, b"abc"), ("a.jpg", 9, b"def"), ("b.jpg", 0, b"xyz")])
    assert [(f.name, f.refused) for f in files] == [("a.jpg", "out_of_order"), ("b.jpg", "")]


def test_the_started_flag_marks_each_new_file():
    assembler = ChunkAssembler()
    flags = [assembler.feed(filename="a.jpg", offset=o, data=b"x" * 5)[1] for o in (0, 5, 0, 5)]
    assert flags == [True, False, True, False]
    assert assembler.current.received == 10
