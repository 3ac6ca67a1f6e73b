"""Migration 0009 fills the library columns of pictures stored before it, and goes down and up again."""

import json
from pathlib import Path

from sqlalchemy import create_engine, text

from alembic import command
from tests.integration.test_migration_0007 import _config


def test_older_pictures_get_camera_date_colour_and_are_found(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(_config(url), "0008")
    meta = {"exif": {"Make": "Canon", "Model": "Canon EOS R5", "DateTimeOriginal": "2024:05:01 10:30:00"},
            "colours": [{"hex": "#1f4fe0", "share": 0.9}]}  # thumbnails then had no colour names
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO user (id, email, name, password_hash, role, is_active, created_at, "
                          "password_changed_at) VALUES (1, 'a@example.com', '', 'x', 'admin', 1, "
                          "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"))
        conn.execute(text("INSERT INTO asset (id, owner_id, sha256, filename, mime, size_bytes, width, height, "
                          "storage_key, thumb_key, status, error, meta, created_at) VALUES (1, 1, 'ab', "
                          "'beach-sunset.jpg', 'image/jpeg', 1, 1, 1, 'k', '', 'ready', '', :meta, "
                          "'2026-01-01 00:00:00')"), {"meta": json.dumps(meta)})
    for _ in range(2):  # up, and again after a downgrade
        command.upgrade(_config(url), "head")
        with engine.connect() as conn:
            row = conn.execute(text("SELECT origin, camera, colour, taken_at FROM asset WHERE id = 1")).one()
            assert (row.origin, row.camera, row.colour) == ("upload", "Canon EOS R5", "blue")
            assert str(row.taken_at).startswith("2024-05-01 10:30:00")
            assert conn.execute(text("SELECT rowid FROM asset_fts WHERE asset_fts MATCH 'canon'")).all() == [(1,)]
            assert conn.execute(text("SELECT applied_before FROM rename_item")).all() == []
        command.downgrade(_config(url), "0008")
    engine.dispose()
