"""Images out of an uploaded ZIP, with every archive limit checked before a byte is inflated."""

from __future__ import annotations

import io
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

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


def read_upload(handle) -> bytes:  # noqa: ANN001
    """Read an uploaded file up to its cap plus one byte (one byte over is enough to refuse it)."""
    head = handle.read(4)
    return head + handle.read(upload_cap(head) + 1 - len(head))


def _bad_name(name: str) -> str | None:
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in parts:
        return "The path leaves the archive (absolute or '..')."
    if len(name) > 500 or any(ord(ch) < 32 for ch in name):
        return "The entry name is too long or has control characters."
    return None


def expand(data: bytes, *, archive_name: str) -> tuple[list[tuple[str, bytes]], list[EntryError]]:
    """(name, bytes) of each acceptable entry, and an error for each refused one.

    Bounded: the entry count, each entry's size, the total inflated size and the compression
    ratio are checked from the central directory and again while reading, so a lying header
    cannot get past them. Directories are skipped; symlinks, traversal and encrypted entries
    are refused; nested archives are not opened.
    """
    settings = get_settings()
    per_file, total_cap = settings.max_upload_file_bytes, settings.max_archive_bytes
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        return [], [EntryError(archive_name, "bad_archive", f"The ZIP file cannot be read: {exc}")]
    if len(infos) > settings.max_upload_files:
        return [], [EntryError(archive_name, "archive_too_many_entries",
                               f"The ZIP holds {len(infos)} entries; the limit is {settings.max_upload_files}.")]
    declared = sum(i.file_size for i in infos)
    if declared > total_cap:
        message = f"The ZIP would expand to {declared // 2**20} MB; the limit is {total_cap // 2**20} MB."
        return [], [EntryError(archive_name, "archive_too_large", message)]
    files: list[tuple[str, bytes]] = []
    errors: list[EntryError] = []
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
                body = b"".join(_read_capped(archive, info, per_file))
            except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
                errors.append(EntryError(label, "bad_entry", f"The entry cannot be read: {exc}"))
                continue
            inflated += len(body)
            if inflated > total_cap:
                errors.append(EntryError(label, "archive_too_large", "The archive's total size limit was reached."))
                break
            files.append((info.filename.replace("\\", "/").rsplit("/", 1)[-1], body))
    return files, errors


def _read_capped(archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> Iterator[bytes]:
    read = 0
    with archive.open(info) as handle:
        while block := handle.read(1024 * 1024):
            read += len(block)
            if read > cap:  # the header understated the size
                raise ValueError(f"entry is larger than its header says (over {cap} bytes)")
            yield block
