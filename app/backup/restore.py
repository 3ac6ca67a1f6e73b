"""`python -m app.backup restore FILE`: bring an install back from an archive made by create.

Order, so that a bad archive loses nothing: read the manifest and refuse what this code cannot take
(another format, a newer schema, another kind of database, a non-empty install without --force); check
every member's size and SHA-256 before anything is written; then the objects, then the database (so a
restored install has users only once its files are in place); then migrations up to this code's head.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from app.backup import database
from app.backup.database import BackupError
from app.backup.manifest import (
    CHUNK,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    OBJECTS,
    Progress,
    Say,
    alembic_config,
    human,
    known_revisions,
    say_stdout,
)
from app.settings import get_settings
from app.storage import check_key, get_storage


@dataclass
class RestoreSummary:
    objects: int
    bytes: int
    revision: str
    migrated_to: str | None


class _Hashing:
    """A reader that hashes what passes through it (storage.put reads the member through this)."""

    def __init__(self, raw):
        self.raw, self.digest, self.size = raw, hashlib.sha256(), 0

    def read(self, size: int = -1) -> bytes:
        block = self.raw.read(size)
        self.digest.update(block)
        self.size += len(block)
        return block


def _read_manifest(archive: zipfile.ZipFile) -> dict:
    try:
        manifest = json.loads(archive.read(MANIFEST))
    except KeyError:
        raise BackupError(f"not an Atelier backup: no {MANIFEST} inside") from None
    except (ValueError, zipfile.BadZipFile, zlib.error) as exc:
        raise BackupError(f"{MANIFEST} is damaged: {exc}") from None
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(f"not a {FORMAT} archive of version {FORMAT_VERSION}: "
                          f"{manifest.get('format')!r} version {manifest.get('format_version')!r}")
    return manifest


def _check_revision(revision: str) -> str:
    head, known = known_revisions()
    if revision not in known:
        raise BackupError(f"the archive's database is at revision {revision!r}, which this code does not know "
                          f"(its newest is {head!r}): it comes from a newer Atelier; restore it with that version")
    return head


def _check_members(archive: zipfile.ZipFile, manifest: dict) -> None:
    """Every member the manifest lists is there, nothing else is, and every key is a valid storage key."""
    expected = {MANIFEST, manifest["database"]["member"]}
    for entry in manifest["objects"]:
        try:
            check_key(entry["key"])
        except ValueError:
            raise BackupError(f"the manifest names an invalid object key {entry['key']!r}") from None
        expected.add(OBJECTS + entry["key"])
    present = set(archive.namelist())
    if missing := sorted(expected - present):
        raise BackupError(f"the archive lacks {len(missing)} member(s) its manifest lists, e.g. {missing[0]}")
    if extra := sorted(present - expected):
        raise BackupError(f"the archive holds {len(extra)} member(s) its manifest does not list, e.g. {extra[0]}")


def _verify(archive: zipfile.ZipFile, member: str, size: int, sha256: str, what: str, copy_to=None) -> None:
    digest, seen = hashlib.sha256(), 0
    try:
        with archive.open(member) as handle:
            while block := handle.read(CHUNK):
                digest.update(block)
                seen += len(block)
                if copy_to is not None:
                    copy_to.write(block)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise BackupError(f"{what} is damaged in the archive: {exc}") from None
    if seen != size or digest.hexdigest() != sha256:
        raise BackupError(f"{what} does not match its checksum in the manifest "
                          f"({seen} bytes, expected {size}): the archive was altered or damaged")


def _refuse_non_empty(database_url: str, storage, say: Say) -> None:
    tables = database.tables_with_rows(database_url)
    has_objects = next(iter(storage.iter_keys()), None) is not None
    if tables or has_objects:
        what = []
        if tables:
            what.append(f"rows in {', '.join(tables[:5])}{'…' if len(tables) > 5 else ''}")
        if has_objects:
            what.append(f"objects in {storage.name} storage")
        raise BackupError(f"this install is not empty ({'; '.join(what)}); restoring would replace it. "
                          "Point DATABASE_URL/DATA_DIR/S3_BUCKET at an empty install, or pass --force to replace")
    say("the install is empty")


def _refuse_live_workers(say: Say) -> None:
    """Workers writing while the database is replaced would mix two histories: they must be stopped."""
    if not get_settings().redis_url:
        return  # the embedded Redis of `make run`: it runs only while `make run` does
    from app.services.worker_pulse import live_names

    try:
        live = live_names()
    except Exception as exc:  # Redis away: nothing can be running jobs against it
        say(f"note: could not look for running workers ({type(exc).__name__}); make sure none runs")
        return
    if live:
        raise BackupError(f"{len(live)} worker(s) are running against this install ({', '.join(sorted(live)[:3])}); "
                          "stop the app and the workers before restoring (or pass --force)")


def restore_backup(path: Path, *, force: bool = False, say: Say = say_stdout) -> RestoreSummary:
    settings = get_settings()
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"no archive at {path}")
    storage = get_storage()
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise BackupError(f"{path} is not a readable ZIP archive: {exc}") from None
    with archive, tempfile.TemporaryDirectory(prefix=".restore-", dir=settings.data_dir.resolve()
                                              if settings.data_dir.exists() else None) as work:
        manifest = _read_manifest(archive)
        db = manifest["database"]
        revision = manifest["alembic_revision"]
        say(f"archive of {manifest['created_at']} (Atelier {manifest['app_version']}, {db['kind']} at revision "
            f"{revision}, {manifest['totals']['objects']} objects, {human(manifest['totals']['bytes'])})")
        head = _check_revision(revision)
        if db["kind"] != database.kind_of(settings.database_url):
            raise BackupError(f"the archive holds a {db['kind']} database but DATABASE_URL points to "
                              f"{database.kind_of(settings.database_url)}; restore into the same kind of database")
        _check_members(archive, manifest)
        if force:
            say("--force: the install's database will be replaced; its stored objects are kept or overwritten")
        else:
            _refuse_live_workers(say)
            _refuse_non_empty(settings.database_url, storage, say)

        say("checking every checksum")
        dump = Path(work) / "dump"
        with dump.open("wb") as copy:
            _verify(archive, db["member"], db["size"], db["sha256"], "the database dump", copy_to=copy)
        objects = manifest["objects"]
        total_bytes = sum(o["size"] for o in objects)
        checked = Progress(say, "checked", len(objects), total_bytes)
        for entry in objects:
            _verify(archive, OBJECTS + entry["key"], entry["size"], entry["sha256"], f"object {entry['key']}")
            checked.step(entry["size"])

        say(f"restoring {len(objects)} objects into {storage.name} storage")
        restored = Progress(say, "restored", len(objects), total_bytes)
        for entry in objects:
            key = entry["key"]
            with archive.open(OBJECTS + key) as raw:
                reader = _Hashing(raw)
                content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
                storage.put(key, reader, content_type=content_type)
            if reader.digest.hexdigest() != entry["sha256"]:  # the file changed under us since the check
                raise BackupError(f"object {key} changed while it was restored; run the restore again")
            restored.step(entry["size"])

        say(f"restoring the {db['kind']} database")
        database.restore(settings.database_url, db["kind"], dump)
    migrated_to = None
    if revision != head:
        from alembic import command

        say(f"migrating the database from {revision} to {head}")
        command.upgrade(alembic_config(settings.database_url), "head")
        migrated_to = head
    say(f"restore complete: {len(objects)} objects ({human(total_bytes)}), database at "
        f"{migrated_to or revision}{' (migrated from ' + revision + ')' if migrated_to else ''}")
    return RestoreSummary(objects=len(objects), bytes=total_bytes, revision=revision, migrated_to=migrated_to)

