"""`python -m app.backup create`: the database dump, every stored object and a manifest, in one ZIP.

A ZIP rather than a tar.gz: each member has its own CRC and can be read alone, so restore reads the
manifest first and a damaged archive names the damaged member; pictures are already compressed, so
objects are stored as they are and only the database dump is deflated. Nothing is held in memory
whole: every member is streamed in 1 MB blocks.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from app.backup import database
from app.backup.database import BackupError
from app.backup.manifest import (
    DATABASE_MEMBERS,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    OBJECTS,
    Progress,
    Say,
    app_version,
    human,
    say_stdout,
    sha256_file,
)
from app.settings import get_settings
from app.storage import get_storage

ZIP64_ABOVE = 1 << 30  # a member this large gets ZIP64 sizes from the start (streamed members cannot switch later)


def default_path(now: datetime) -> Path:
    return get_settings().data_dir / "backups" / f"atelier-{now:%Y%m%d-%H%M%S}.zip"


def _copy_object(archive: zipfile.ZipFile, storage, key: str, size: int) -> dict | None:
    """Stream one object into the archive; None when it was deleted since it was listed."""
    chunks = storage.iter_chunks(key)
    try:
        first = next(chunks, b"")  # opens the object: a key deleted since the listing fails here, not half-written
    except FileNotFoundError:  # local storage
        return None
    except Exception as exc:  # S3: botocore's ClientError carries the service's error code
        if getattr(exc, "response", {}).get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return None
        raise
    digest, written = hashlib.sha256(), 0
    info = zipfile.ZipInfo(OBJECTS + key, date_time=datetime.now(UTC).timetuple()[:6])
    info.compress_type = zipfile.ZIP_STORED
    with archive.open(info, "w", force_zip64=size > ZIP64_ABOVE) as member:
        for block in _chain(first, chunks):
            digest.update(block)
            member.write(block)
            written += len(block)
    return {"key": key, "size": written, "sha256": digest.hexdigest()}


def _chain(first: bytes, rest):
    yield first
    yield from rest


def create_backup(out: Path | None = None, *, say: Say = say_stdout) -> Path:
    """Write the archive (to `out` or DATA_DIR/backups/) and return its path."""
    settings = get_settings()
    started = datetime.now(UTC)
    out = Path(out) if out else default_path(started)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        raise BackupError(f"{out} already exists; choose another --out")
    kind = database.kind_of(settings.database_url)
    storage = get_storage()
    part = out.with_name(out.name + ".part")
    try:
        with tempfile.TemporaryDirectory(dir=out.parent, prefix=".backup-") as work:
            # The database first: every object it refers to is already stored, so the objects copied
            # next include them all (one created later is an extra the dump does not refer to).
            dump = Path(work) / "dump"
            say(f"dumping the {kind} database")
            database.dump(settings.database_url, dump)
            revision = (database.revision_of_file(dump) if kind == "sqlite"
                        else database.revision(settings.database_url))
            db_entry = {"kind": kind, "member": DATABASE_MEMBERS[kind], "size": dump.stat().st_size,
                        "sha256": sha256_file(dump)}
            say(f"  database: {human(db_entry['size'])} at revision {revision}")
            listed = list(storage.iter_keys())  # (key, size) pairs: small even for a million objects
            progress = Progress(say, "copied", len(listed), sum(size for _, size in listed))
            say(f"copying {len(listed)} objects from {storage.name} storage")
            objects, vanished = [], []
            with zipfile.ZipFile(part, "w", allowZip64=True) as archive:
                archive.write(dump, db_entry["member"], compress_type=zipfile.ZIP_DEFLATED)
                for key, size in listed:
                    entry = _copy_object(archive, storage, key, size)
                    if entry is None:
                        vanished.append(key)
                    else:
                        objects.append(entry)
                    progress.step(size)
                manifest = {
                    "format": FORMAT, "format_version": FORMAT_VERSION, "created_at": started.isoformat(),
                    "app_version": app_version(), "alembic_revision": revision, "database": db_entry,
                    "storage": {"backend": storage.name}, "objects": objects,
                    "totals": {"objects": len(objects), "bytes": sum(o["size"] for o in objects)},
                }
                archive.writestr(MANIFEST, json.dumps(manifest, indent=1), compress_type=zipfile.ZIP_DEFLATED)
        os.replace(part, out)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    for key in vanished:
        say(f"  note: {key} was deleted while the backup ran; not in the archive")
    seconds = (datetime.now(UTC) - started).total_seconds()
    say(f"backup written: {out} ({human(out.stat().st_size)}; database {human(db_entry['size'])}, "
        f"{len(objects)} objects, {human(manifest['totals']['bytes'])}; revision {revision}; {seconds:.1f} s)")
    return out
