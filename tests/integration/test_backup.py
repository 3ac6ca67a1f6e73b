"""Backup and restore on real parts: a populated install (API + worker) on SQLite and PostgreSQL, archived,
restored into an empty install and compared row by row and object by object; damaged, foreign and newer
archives refused; S3 through moto's server; the command line as a real process."""

from __future__ import annotations

import hashlib
import json
import shutil
import urllib.request
import uuid
import zipfile

import pytest

from app.backup.create import create_backup
from app.backup.database import BackupError
from app.backup.manifest import MANIFEST, OBJECTS, known_revisions
from app.backup.restore import restore_backup
from app.settings import get_settings
from app.storage import LocalStorage, get_storage
from tests import images
from tests.conftest import PG_ADMIN_URL, _port_open, clear_caches
from tests.integration.backup_helpers import flip_byte_in, objects_of, populate, rewrite, run_jobs, table_rows
from tests.integration.test_api_auth import ORIGIN, login, register
from tests.integration.test_storage import s3, s3_endpoint  # noqa: F401  (fixtures: moto's S3 server)


@pytest.fixture
def pg_databases():
    """Makes PostgreSQL databases migrated to a given revision (a new install's is head); drops them after."""
    from sqlalchemy import create_engine, text

    from alembic import command
    from app.backup.manifest import alembic_config

    if not _port_open("127.0.0.1", 5432):
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    made = []

    def make(revision: str = "head") -> str:
        name = f"atelier_restore_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        command.upgrade(alembic_config(url), revision)
        return url

    yield make
    clear_caches()
    with admin.connect() as conn:
        for name in made:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def move_to_new_install(monkeypatch, tmp_path, migrated_sqlite, database_url: str | None = None) -> None:
    """Point the settings at a new DATA_DIR and an empty migrated database (a fresh `make run`)."""
    data = tmp_path / f"new-{uuid.uuid4().hex[:6]}"
    data.mkdir()
    if database_url is None:
        shutil.copyfile(migrated_sqlite, data / "atelier.db")
        database_url = f"sqlite:///{data / 'atelier.db'}"
    monkeypatch.setenv("DATA_DIR", str(data))
    monkeypatch.setenv("DATABASE_URL", database_url)
    clear_caches()


def test_round_trip_brings_back_every_row_and_object(api, any_db, tmp_path, monkeypatch, migrated_sqlite, request):
    ids = populate(api)
    source_url = get_settings().database_url
    rows, objects = table_rows(source_url), objects_of(get_storage())
    assert {"user", "asset", "deck", "credit_entry", "job"} <= {name for name, found in rows.items() if found}
    assert any(key.startswith("thumbs/") for key in objects) and len(objects) >= 8
    lines: list[str] = []
    archive = create_backup(tmp_path / "atelier.zip", say=lines.append)
    assert any(line.startswith("backup written:") for line in lines)
    with zipfile.ZipFile(archive) as zf:
        manifest = json.loads(zf.read(MANIFEST))
    assert manifest["database"]["kind"] == ("postgresql" if any_db == "postgres" else "sqlite")
    assert manifest["alembic_revision"] == known_revisions()[0]
    assert {o["key"] for o in manifest["objects"]} == set(objects)
    assert all(len(o["sha256"]) == 64 and o["size"] > 0 for o in manifest["objects"])

    target_url = request.getfixturevalue("pg_databases")() if any_db == "postgres" else None
    move_to_new_install(monkeypatch, tmp_path, migrated_sqlite, target_url)
    assert objects_of(get_storage()) == {}
    summary = restore_backup(archive, say=lines.append)
    assert summary.objects == len(objects) and summary.migrated_to is None
    assert table_rows(get_settings().database_url) == rows
    assert objects_of(get_storage()) == objects
    # The app works on the restored install: the same session, the deck's file, the library's thumbnails.
    assert api.get("/api/v1/me").json()["email"] == "ada@example.com"
    assert api.get(f"/api/v1/slides/{ids['deck_id']}/download?format=pptx").status_code == 200
    listed = api.get("/api/v1/assets").json()
    assert len(listed["assets"]) >= 4 and all(a["has_thumbnail"] for a in listed["assets"])


def test_a_non_empty_install_is_refused_unless_forced(api, env, tmp_path):
    assert register(api).status_code == 201 and login(api).status_code == 200
    rows = table_rows(get_settings().database_url)
    archive = create_backup(tmp_path / "a.zip", say=lambda _line: None)
    with pytest.raises(BackupError, match=r"not empty \(rows in .*user"):
        restore_backup(archive, say=lambda _line: None)
    assert register(api, email="late@example.com", name="Late").status_code == 201
    restore_backup(archive, force=True, say=lambda _line: None)
    clear_caches()
    assert table_rows(get_settings().database_url) == rows  # the account made after the backup is gone


def test_a_changed_byte_is_refused_naming_the_object_and_nothing_is_written(api, env, tmp_path, monkeypatch,
                                                                              migrated_sqlite):
    assert register(api).status_code == 201 and login(api).status_code == 200
    files = [("files", (f"p{i}.jpg", images.jpeg(120, 90, seed=i), "image/jpeg"))
             for i in range(3)]
    assert api.post("/api/v1/assets", files=files, headers=ORIGIN).status_code < 300
    run_jobs()
    archive = create_backup(tmp_path / "a.zip", say=lambda _line: None)
    with zipfile.ZipFile(archive) as zf:
        victim = sorted(n for n in zf.namelist() if n.startswith(OBJECTS + "thumbs/"))[0]
    flip_byte_in(archive, victim)
    move_to_new_install(monkeypatch, tmp_path, migrated_sqlite)
    with pytest.raises(BackupError) as refused:
        restore_backup(archive, say=lambda _line: None)
    assert victim.removeprefix(OBJECTS) in str(refused.value)
    assert objects_of(get_storage()) == {}
    assert table_rows(get_settings().database_url)["user"] == []

    # The database dump altered (a valid ZIP, recompressed): refused by its checksum.
    def change_dump(name, data):
        if not name.startswith("database/"):
            return data
        middle = len(data) // 2
        return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1:]

    altered = tmp_path / "altered.zip"
    rewrite(create_backup(tmp_path / "b.zip", say=lambda _line: None), altered, change_dump)
    with pytest.raises(BackupError, match="the database dump does not match its checksum"):
        restore_backup(altered, say=lambda _line: None)


def test_an_archive_from_a_newer_version_is_refused(api, env, tmp_path, monkeypatch, migrated_sqlite):
    archive = create_backup(tmp_path / "a.zip", say=lambda _line: None)
    newer = tmp_path / "newer.zip"

    def bump(name, data):
        if name != MANIFEST:
            return data
        return json.dumps(json.loads(data) | {"alembic_revision": "9999_from_the_future"}).encode()

    rewrite(archive, newer, bump)
    move_to_new_install(monkeypatch, tmp_path, migrated_sqlite)
    with pytest.raises(BackupError, match="comes from a newer Atelier"):
        restore_backup(newer, say=lambda _line: None)


def test_an_older_archive_is_migrated_up(env, tmp_path, monkeypatch, migrated_sqlite):
    from alembic import command
    from app.backup.manifest import alembic_config

    head, known = known_revisions()
    older = known[1]
    old_db = tmp_path / "old" / "atelier.db"
    old_db.parent.mkdir()
    command.upgrade(alembic_config(f"sqlite:///{old_db}"), older)
    monkeypatch.setenv("DATA_DIR", str(old_db.parent))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{old_db}")
    clear_caches()
    get_storage().put("assets/1/aa/old.bin", b"kept from before", content_type="application/octet-stream")
    archive = create_backup(tmp_path / "old.zip", say=lambda _line: None)

    data = tmp_path / "empty"
    monkeypatch.setenv("DATA_DIR", str(data))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{data / 'atelier.db'}")  # no database at all yet
    clear_caches()
    lines: list[str] = []
    summary = restore_backup(archive, say=lines.append)
    assert (summary.revision, summary.migrated_to) == (older, head)
    from app.backup.database import revision

    assert revision(get_settings().database_url) == head
    assert get_storage().get("assets/1/aa/old.bin") == b"kept from before"
    assert any(f"migrating the database from {older} to {head}" in line for line in lines)


def test_s3_storage_round_trip(api, s3, s3_endpoint, tmp_path, monkeypatch, migrated_sqlite):  # noqa: F811
    import boto3

    assert register(api).status_code == 201 and login(api).status_code == 200
    files = [("files", (f"s{i}.jpg", images.jpeg(100, 80, seed=i), "image/jpeg"))
             for i in range(2)]
    assert api.post("/api/v1/assets", files=files, headers=ORIGIN).status_code < 300
    run_jobs()
    objects = objects_of(get_storage())
    assert len(objects) == 4  # two originals, two thumbnails, in the bucket
    rows = table_rows(get_settings().database_url)
    archive = create_backup(tmp_path / "s3.zip", say=lambda _line: None)

    bucket = f"atelier-restored-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", endpoint_url=s3_endpoint, aws_access_key_id="test", aws_secret_access_key="test",
                 region_name="us-east-1").create_bucket(Bucket=bucket)
    monkeypatch.setenv("S3_BUCKET", bucket)
    move_to_new_install(monkeypatch, tmp_path, migrated_sqlite)
    assert get_storage().bucket == bucket and objects_of(get_storage()) == {}
    restore_backup(archive, say=lambda _line: None)
    assert objects_of(get_storage()) == objects
    assert table_rows(get_settings().database_url) == rows
    assert not isinstance(get_storage(), LocalStorage)


def test_a_local_install_restores_into_s3_storage(api, env, s3_endpoint, tmp_path, monkeypatch,  # noqa: F811
                                                 migrated_sqlite):
    import boto3

    assert register(api).status_code == 201 and login(api).status_code == 200
    files = [("files", ("here.jpg", images.jpeg(100, 80, seed=3), "image/jpeg"))]
    assert api.post("/api/v1/assets", files=files, headers=ORIGIN).status_code < 300
    run_jobs()
    assert isinstance(get_storage(), LocalStorage)
    objects, rows = objects_of(get_storage()), table_rows(get_settings().database_url)
    archive = create_backup(tmp_path / "local.zip", say=lambda _line: None)

    bucket = f"atelier-moved-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", endpoint_url=s3_endpoint, aws_access_key_id="test", aws_secret_access_key="test",
                 region_name="us-east-1").create_bucket(Bucket=bucket)
    for name, value in {"STORAGE_BACKEND": "s3", "S3_BUCKET": bucket, "S3_ENDPOINT_URL": s3_endpoint,
                        "S3_ACCESS_KEY_ID": "test", "S3_SECRET_ACCESS_KEY": "test"}.items():
        monkeypatch.setenv(name, value)
    move_to_new_install(monkeypatch, tmp_path, migrated_sqlite)
    restore_backup(archive, say=lambda _line: None)
    assert get_storage().name == "s3" and objects_of(get_storage()) == objects and len(objects) == 2
    assert table_rows(get_settings().database_url) == rows
    listed = api.get("/api/v1/assets").json()["assets"]
    download = api.get(f"/api/v1/assets/{listed[0]['id']}/download", follow_redirects=False)
    assert download.status_code == 307 and download.headers["location"].startswith(f"{s3_endpoint}/{bucket}/")
    with urllib.request.urlopen(download.headers["location"]) as response:  # the restored bytes, from S3
        key = next(k for k in objects if not k.startswith("thumbs/"))
        assert hashlib.sha256(response.read()).hexdigest() == objects[key]


def test_local_listing_skips_half_written_files(tmp_path):
    storage = LocalStorage(tmp_path / "storage")
    storage.put("assets/1/ab/one.bin", b"one", content_type="application/octet-stream")
    (tmp_path / "storage" / "assets" / "1" / "ab" / ".part-x1y2").write_bytes(b"half")
    assert list(storage.iter_keys()) == [("assets/1/ab/one.bin", 3)]
    assert list(LocalStorage(tmp_path / "missing").iter_keys()) == []


def test_restore_refuses_while_workers_run(env, tmp_path, monkeypatch, migrated_sqlite):
    from app.services import worker_pulse

    archive = create_backup(tmp_path / "a.zip", say=lambda _line: None)
    move_to_new_install(monkeypatch, tmp_path, migrated_sqlite)
    worker_pulse.beat("host-1.worker-7")
    with pytest.raises(BackupError, match=r"1 worker\(s\) are running against this install \(host-1.worker-7\)"):
        restore_backup(archive, say=lambda _line: None)
    worker_pulse.forget("host-1.worker-7")
    restore_backup(archive, say=lambda _line: None)


def test_an_object_deleted_while_the_backup_runs_is_left_out_and_said(env, tmp_path, monkeypatch):
    storage = get_storage()
    storage.put("assets/1/ab/kept.bin", b"kept", content_type="application/octet-stream")
    listed = list(storage.iter_keys()) + [("assets/1/ab/gone.bin", 9)]  # listed, then deleted before the copy
    monkeypatch.setattr(LocalStorage, "iter_keys", lambda _self: iter(listed))
    lines: list[str] = []
    archive = create_backup(tmp_path / "a.zip", say=lines.append)
    with zipfile.ZipFile(archive) as zf:
        manifest = json.loads(zf.read(MANIFEST))
        assert [o["key"] for o in manifest["objects"]] == ["assets/1/ab/kept.bin"]
        assert OBJECTS + "assets/1/ab/gone.bin" not in zf.namelist()
    assert "  note: assets/1/ab/gone.bin was deleted while the backup ran; not in the archive" in lines


@pytest.mark.postgres
def test_an_older_postgres_archive_is_migrated_up(env, pg_databases, tmp_path, monkeypatch):
    from app.backup.database import revision

    head, known = known_revisions()
    monkeypatch.setenv("DATABASE_URL", pg_databases(known[1]))
    clear_caches()
    archive = create_backup(tmp_path / "old.zip", say=lambda _line: None)
    monkeypatch.setenv("DATABASE_URL", pg_databases())
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "new"))
    clear_caches()
    summary = restore_backup(archive, say=lambda _line: None)
    assert (summary.revision, summary.migrated_to) == (known[1], head)
    assert revision(get_settings().database_url) == head
    assert "plan" in table_rows(get_settings().database_url)  # the newest migration's tables are there
