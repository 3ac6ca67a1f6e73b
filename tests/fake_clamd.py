"""A clamd on loopback (TCP or a Unix socket) speaking clamd's documented protocol: PING, VERSION, INSTREAM.

Commands come "z"-prefixed and NUL-terminated (or "n"-prefixed, newline-terminated). INSTREAM reads
chunks (4-byte big-endian length, then the bytes) until a zero length, and answers "stream: OK" or
"stream: Eicar-Signature FOUND" when the EICAR test string is anywhere in the stream, or
"INSTREAM size limit exceeded. ERROR" past `stream_max` (clamd's StreamMaxLength, 25 MB by default).
`mode`: "ok" answers; "hang" reads and never answers (a stuck clamd). A stopped server is clamd down.

EICAR is assembled at run time from parts, so no file in this repository is a virus test signature.
"""

from __future__ import annotations

import socketserver
import struct
import threading
from pathlib import Path

EICAR = ("X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-ANTIVIRUS" + "-TEST-FILE!$H+H*").encode()
SIGNATURE = "Eicar-Signature"


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        fake: FakeClamd = self.server.fake  # type: ignore[attr-defined]
        first = self.rfile.read(1)
        end = b"\0" if first == b"z" else b"\n"
        name = b""
        while (byte := self.rfile.read(1)) not in (end, b""):
            name += byte
        fake.commands.append(name.decode())
        if fake.mode == "hang":
            fake.release.wait(30)
            return
        if name == b"PING":
            answer = "PONG"
        elif name == b"VERSION":
            answer = fake.version
        elif name == b"INSTREAM":
            answer = self._instream(fake)
        else:
            answer = "UNKNOWN COMMAND"
        self.wfile.write(answer.encode() + end)

    def _instream(self, fake: FakeClamd) -> str:
        data = bytearray()
        while True:
            header = self.rfile.read(4)
            if len(header) < 4:
                return "stream: Error reading stream. ERROR"
            (size,) = struct.unpack(">I", header)
            if size == 0:
                break
            data += self.rfile.read(size)
            if len(data) > fake.stream_max:
                return "INSTREAM size limit exceeded. ERROR"
        fake.scanned.append(bytes(data))
        return f"stream: {SIGNATURE} FOUND" if EICAR in data else "stream: OK"


class _TCP(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Unix(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True


class FakeClamd:
    def __init__(self, unix_path: Path | None = None) -> None:
        self.mode = "ok"
        self.version = "ClamAV 1.4.3/27500/Sun Dec  6 08:00:00 2026"
        self.stream_max = 25 * 1024 * 1024
        self.commands: list[str] = []
        self.scanned: list[bytes] = []
        self.release = threading.Event()
        self.server = _Unix(str(unix_path), _Handler) if unix_path else _TCP(("127.0.0.1", 0), _Handler)
        self.server.fake = self  # type: ignore[attr-defined]
        self.unix_path = unix_path
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        if self.unix_path:
            return f"unix://{self.unix_path}"
        return f"tcp://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeClamd:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def closed_port_url() -> str:
    """A TCP address where nothing listens: clamd down."""
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"tcp://127.0.0.1:{port}"
