"""The page's path without a browser: chunks → ChunkAssembler → assets.ingest_one, on real parts."""

import io
import zipfile

from app.services.assets import service as assets
from app.services.assets.upload_chunks import ChunkAssembler
from tests import images
from tests.integration.test_accounts import register


def chunks_of(name: str, data: bytes, size: int = 64 * 1024):
    return [(name, offset, data[offset:offset + size]) for offset in range(0, len(data), size)]


def test_same_named_photos_and_a_zip_arrive_as_separate_assets(any_db):
    owner = register("ada@example.com").id
    photos = [images.jpeg(320, 240, seed=70 + i) for i in range(3)]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("a/DSC_0001.jpg", images.jpeg(200, 150, seed=80))
        out.writestr("b/DSC_0001.jpg", images.jpeg(200, 150, seed=81))
    stream = [c for p in photos for c in chunks_of("image.jpg", p)] + chunks_of("image.jpg", archive.getvalue())
    assembler = ChunkAssembler()
    files = []
    for name, offset, data in stream:
        files += assembler.feed(filename=name, offset=offset, data=data)[0]
    files += assembler.close()
    results = [assets.ingest_one(workspace_id=owner, filename=f.name, data=f.handle()) for f in files]
    assert [len(r.created) for r in results] == [1, 1, 1, 2]
    stored = [a for r in results for a in r.assets]
    assert len({a.sha256 for a in stored}) == 5
    assert [a.size_bytes for a in stored[:3]] == [len(p) for p in photos]
