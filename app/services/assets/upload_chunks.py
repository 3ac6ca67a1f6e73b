"""Files out of a chunked upload stream (the page's drop zone), one per multipart part.

Reflex's streaming parser emits chunks of (filename, offset, data) in part order; a part's
first chunk has offset 0 (an empty file gets one empty chunk at offset 0). So offset 0 — not a
change of name — is what starts a file: five photos all called `image.jpg`, or two camera
folders with the same `DSC_0001.jpg`, are five and four files, never a few joined together.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from typing import IO

from app.services.assets import archives
from app.settings import get_settings

# Bytes of one file kept in memory before it spills to a temporary file: a 2 GB ZIP dropped on
# the page costs disk, not the web worker's memory.
SPOOL_BYTES = 8 * 1024 * 1024


@dataclass
class AssembledFile:
    """One uploaded file: its bytes spooled as they arrive, or why it was refused on the way in."""

    name: str
    index: int
    received: int = 0
    # "" while acceptable; "too_big", "too_many" or "out_of_order" once refused (bytes dropped).
    refused: str = ""
    # Kept open across chunks on purpose (closed when the file is stored or refused).
    _spool: IO[bytes] = field(default_factory=lambda: tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES))  # noqa: SIM115
    _head: bytes = b""

    @property
    def head(self) -> bytes:
        """The first bytes (enough to tell a ZIP), kept even after the file was refused."""
        return self._head

    def read(self) -> bytes:
        """All the bytes (empty for a refused file)."""
        self._spool.seek(0)
        return self._spool.read()

    def handle(self) -> IO[bytes]:
        """The spooled bytes as a file rewound to the start (for archives read in place)."""
        self._spool.seek(0)
        return self._spool

    def discard(self) -> None:
        self._spool.close()


class ChunkAssembler:
    """Feed it chunks in arrival order; it hands back each file once the next one starts."""

    def __init__(self) -> None:
        settings = get_settings()
        self.max_files = settings.max_upload_files
        self.current: AssembledFile | None = None
        self.count = 0

    def feed(self, *, filename: str, offset: int, data: bytes) -> tuple[list[AssembledFile], bool]:
        """(files finished by this chunk, whether this chunk started a new file)."""
        finished: list[AssembledFile] = []
        started = self.current is None or offset == 0 or filename != self.current.name
        if started:
            if self.current is not None:
                finished.append(self.current)
            self.current = AssembledFile(name=filename, index=self.count)
            self.count += 1
            if self.count > self.max_files:
                self._refuse("too_many")
        file = self.current
        if not file.refused and offset != file.received:
            # A gap or a repeat inside one part: the bytes cannot be trusted to be the file.
            self._refuse("out_of_order")
        file.received = offset + len(data)
        if file.refused:
            return finished, started
        if not file._head:
            file._head = bytes(data[:4])
        if file.received > archives.upload_cap(file._head):
            self._refuse("too_big")
            return finished, started
        file._spool.write(data)
        return finished, started

    def close(self) -> list[AssembledFile]:
        """The last file, at the end of the stream."""
        last, self.current = self.current, None
        return [last] if last is not None else []

    def _refuse(self, reason: str) -> None:
        assert self.current is not None
        self.current.refused = reason
        self.current._spool.close()
        self.current._spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
