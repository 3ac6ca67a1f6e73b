"""A populated install (through the REST API and a real worker), and row-by-row / object-by-object comparison."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

from rq import SimpleWorker
from sqlalchemy import create_engine, inspect, select, text

from app.queue import QUEUES, get_queue
from app.redis_client import get_redis
from tests import images
from tests.integration.test_api_auth import ORIGIN, login, register

DECK_SOURCE = """# Solar for schools

## Why solar

Schools have large roofs that sit empty all year. Solar panels cut electricity bills for decades.

## Steps

- Survey the roof
- Get three quotes
"""


def run_jobs() -> None:
    SimpleWorker([get_queue(name) for name in QUEUES], connection=get_redis()).work(burst=True)


def populate(api) -> dict:
    """Users, a team workspace, assets with files and thumbnails, a generation, a deck with its .pptx, ledger
    rows and the jobs that made them; returns counts to check the copy against."""
    assert register(api).status_code == 201  # the first account: the admin
    assert register(api, email="bob@example.com", name="Bob").status_code == 201
    assert login(api).status_code == 200
    assert api.post("/api/v1/workspaces", json={"name": "Studio"}, headers=ORIGIN).status_code == 201
    files = [("files", (f"photo{i}.jpg", images.jpeg(160, 120, seed=i), "image/jpeg")) for i in range(3)]
    files.append(("files", ("drawing.png", images.png(90, 60, seed=7), "image/png")))
    assert api.post("/api/v1/assets", files=files, headers=ORIGIN).status_code in (200, 201, 202)
    me = api.get("/api/v1/me").json()
    granted = api.post("/api/v1/admin/credits", json={"user_id": me["id"], "amount": 40, "reason": "backup test"},
                       headers=ORIGIN)
    assert granted.status_code == 200, granted.text
    generation = api.post("/api/v1/images/generations", json={"prompt": "a calm forest morning", "n": 1},
                          headers=ORIGIN)
    assert generation.status_code == 202, generation.text
    deck = api.post("/api/v1/slides", json={"source_text": DECK_SOURCE, "slides": 4, "theme": "studio"},
                    headers=ORIGIN)
    assert deck.status_code == 201, deck.text
    assert api.post(f"/api/v1/slides/{deck.json()['id']}/generate", headers=ORIGIN).status_code == 202
    run_jobs()
    assert api.get(f"/api/v1/slides/{deck.json()['id']}").json()["status"] == "ready"
    return {"deck_id": deck.json()["id"]}


def table_rows(url: str) -> dict[str, list[tuple]]:
    """Every row of every table (ours, the migrations' and Alembic's), ordered by primary key."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            found = {}
            names = sorted(inspect(conn).get_table_names())
            for name in names:
                if name.startswith("asset_fts"):  # SQLite's full-text index: checked through search instead
                    continue
                from sqlalchemy import MetaData, Table

                table = Table(name, MetaData(), autoload_with=conn)
                order = list(table.primary_key.columns) or list(table.columns)
                found[name] = [tuple(row) for row in conn.execute(select(table).order_by(*order))]
            if conn.dialect.name == "postgresql":  # sequences continue where they were: no id is reused
                found["sequences"] = sorted(conn.execute(text(
                    "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = current_schema()")).all())
            return found
    finally:
        engine.dispose()


def objects_of(storage) -> dict[str, str]:
    return {key: hashlib.sha256(b"".join(storage.iter_chunks(key))).hexdigest() for key, _ in storage.iter_keys()}


def rewrite(archive: Path, out: Path, change) -> None:
    """Copy an archive member by member, passing each (name, bytes) through `change`."""
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info, change(info.filename, source.read(info)))


def flip_byte_in(archive: Path, member: str) -> None:
    """Change one byte inside a stored member's data, in place (the archive stays a readable ZIP)."""
    with zipfile.ZipFile(archive) as zf:
        info = zf.getinfo(member)
        assert info.compress_type == zipfile.ZIP_STORED and info.file_size > 10
    with archive.open("r+b") as handle:
        handle.seek(info.header_offset + 26)
        name_len = int.from_bytes(handle.read(2), "little")
        extra_len = int.from_bytes(handle.read(2), "little")
        spot = info.header_offset + 30 + name_len + extra_len + info.file_size // 2
        handle.seek(spot)
        byte = handle.read(1)
        handle.seek(spot)
        handle.write(bytes([byte[0] ^ 0x01]))
