"""Images out of an uploaded ZIP, with every archive limit checked before a byte is inflated."""

from __future__ import annotations

import io
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from app.settings import get_settings

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
# Inflating more than this many bytes per compressed byte is a bomb, not a photo.
MAX_RATIO = 200


@dataclass(frozen=True)
class EntryError:
    name: str
    code: str
    message: str


def is_zip(data: bytes) -> bool:
    return data[:4] in ZIP_MAGIC


def upload_cap(head: bytes) -> int:
    """Bytes one uploaded file may have: an archive may be as large as a whole request."""
    settings = get_settings()
    return settings.max_upload_request_bytes if is_zip(head) else settings.max_upload_file_bytes


def read_upload(handle: IO[bytes]) -> bytes | IO[bytes]:
    """An uploaded image's bytes up to its cap plus one byte (one byte over is enough to refuse it).
    An archive stays the (spooled) file it is, rewound: it is read entry by entry, never whole.
    Its size needs no check here, as an archive may be as large as the whole (limited) request."""
    head = handle.read(4)
    if is_zip(head):
        handle.seek(0)
        return handle
    return head + handle.read(upload_cap(head) + 1 - len(head))


def head_of(data: bytes | IO[bytes]) -> bytes:
    """The first bytes of an upload held in memory or in a file (which is left rewound)."""
    if isinstance(data, bytes | bytearray):
        return bytes(data[:4])
    data.seek(0)
    head = data.read(4)
    data.seek(0)
    return head


def _bad_name(name: str) -> str | None:
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in parts:
        return "The path leaves the archive (absolute or '..')."
    if len(name) > 500 or any(ord(ch) < 32 for ch in name):
        return "The entry name is too long or has control characters."
    return None


def expand(data: bytes | IO[bytes], *, archive_name: str) -> tuple[list[tuple[str, bytes]], list[EntryError]]:
    """(name, bytes) of each acceptable entry, and an error for each refused one (all in memory:
    for small archives and tests; ingest streams with iter_entries)."""
    errors: list[EntryError] = []
    return list(iter_entries(data, archive_name=archive_name, errors=errors)), errors


def iter_entries(data: bytes | IO[bytes], *, archive_name: str,
                 errors: list[EntryError]) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of each acceptable entry, one at a time; each refused one is added to `errors`.

    Bounded: the entry count, each entry's size, the total inflated size and the compression
    ratio are checked from the central directory and again while reading, so a lying header
    cannot get past them. Only one entry (at most the per-file limit) is in memory at a time, and
    the archive itself may be a file on disk. Directories are skipped; symlinks, traversal and
    encrypted entries are refused; nested archives are not opened.
    """
    settings = get_settings()
    per_file, total_cap = settings.max_upload_file_bytes, settings.max_archive_bytes
    try:
        archive = zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes | bytearray) else data)
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        errors.append(EntryError(archive_name, "bad_archive", f"The ZIP file cannot be read: {exc}"))
        return
    if len(infos) > settings.max_upload_files:
        errors.append(EntryError(archive_name, "archive_too_many_entries",
                                 f"The ZIP holds {len(infos)} entries; the limit is {settings.max_upload_files}."))
        return
    declared = sum(i.file_size for i in infos)
    if declared > total_cap:
        message = f"The ZIP would expand to {declared // 2**20} MB; the limit is {total_cap // 2**20} MB."
        errors.append(EntryError(archive_name, "archive_too_large", message))
        return
    inflated = 0
    for info in infos:
        label = f"{archive_name}/{info.filename}"[:300]
        if info.is_dir():
            continue
        mode = info.external_attr >> 16
        problem = _bad_name(info.filename)
        if problem:
            errors.append(EntryError(label, "unsafe_path", problem))
        elif stat.S_ISLNK(mode):
            errors.append(EntryError(label, "symlink", "Symbolic links are not accepted."))
        elif info.flag_bits & 0x1:
            errors.append(EntryError(label, "encrypted", "Encrypted entries cannot be read."))
        elif info.file_size > per_file:
            errors.append(EntryError(label, "file_too_large", f"Larger than {per_file // 2**20} MB."))
        elif info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
            errors.append(EntryError(label, "archive_bomb", "The entry inflates suspiciously far."))
        else:
            try:
                body = _read_capped(archive, info, min(per_file, total_cap - inflated))
            except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
                code = "archive_too_large" if per_file > total_cap - inflated else "bad_entry"
                errors.append(EntryError(label, code, f"The entry cannot be read: {exc}"))
                if code == "archive_too_large":
                    break
                continue
            inflated += len(body)
            yield info.filename.replace("\\", "/").rsplit("/", 1)[-1], body
            del body  # the caller has stored it: only one entry is ever held


def _read_capped(archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    """The entry's bytes, refused as soon as they pass `cap` (a header that understated its size)."""
    out = bytearray()
    with archive.open(info) as handle:
        while block := handle.read(1024 * 1024):
            if len(out) + len(block) > cap:
                raise ValueError(f"entry is larger than its header says (over {cap} bytes)")
            out += block
    return bytes(out)
