"""A clamd client: PING, VERSION and INSTREAM over TCP (tcp://host:3310) or a Unix socket (unix:///path).

Written here rather than taken from PyPI's `clamd` 1.0.2 (2014, unmaintained; no per-call timeouts, no URL
form). INSTREAM: "zINSTREAM\\0", then chunks each prefixed with its length as 4 big-endian bytes, then a
zero length; clamd answers "stream: OK", "stream: <signature> FOUND" or "... ERROR", ending with \\0.
"""

from __future__ import annotations

import socket
import struct
from typing import IO
from urllib.parse import urlsplit

CHUNK_BYTES = 64 * 1024  # below clamd's default StreamMaxLength chunking; any size up to it works


class ClamdError(Exception):
    """clamd could not be reached, timed out, or answered with an error: the file is not scanned."""


class ClamdFileError(ClamdError):
    """clamd is up but could not scan this file (over its StreamMaxLength, a parse error): a per-file problem."""


def _connect(url: str, timeout: float) -> socket.socket:
    parts = urlsplit(url)
    try:
        if parts.scheme == "unix":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            sock.connect(parts.path)
            return sock
        if parts.scheme == "tcp" and parts.hostname:
            return socket.create_connection((parts.hostname, parts.port or 3310), timeout=timeout)
    except OSError as exc:
        raise ClamdError(f"clamd at {url} is unreachable ({type(exc).__name__}: {exc})") from exc
    raise ClamdError(f"{url!r} is not tcp://host:port or unix:///path")


def _reply(sock: socket.socket) -> str:
    data = b""
    while not data.endswith(b"\0"):
        part = sock.recv(4096)
        if not part:
            break
        data += part
        if len(data) > 64 * 1024:
            raise ClamdError("clamd's answer is too long")
    return data.rstrip(b"\0").decode("utf-8", "replace").strip()


def command(url: str, name: str, *, timeout: float) -> str:
    """A one-line command such as PING or VERSION, answered by one line."""
    try:
        with _connect(url, timeout) as sock:
            sock.sendall(b"z" + name.encode() + b"\0")
            return _reply(sock)
    except (TimeoutError, OSError) as exc:
        raise ClamdError(f"clamd did not answer {name} ({type(exc).__name__})") from exc


def _send_stream(sock: socket.socket, data: bytes | IO[bytes]) -> None:
    sock.sendall(b"zINSTREAM\0")
    if isinstance(data, bytes | bytearray | memoryview):
        view = memoryview(data)
        for start in range(0, len(view), CHUNK_BYTES):
            chunk = view[start:start + CHUNK_BYTES]
            sock.sendall(struct.pack(">I", len(chunk)) + chunk)
    else:
        while chunk := data.read(CHUNK_BYTES):
            sock.sendall(struct.pack(">I", len(chunk)) + chunk)
    sock.sendall(struct.pack(">I", 0))


def instream(url: str, data: bytes | IO[bytes], *, timeout: float) -> str | None:
    """Scan bytes (or a file, read from where it stands); None when clean, else the signature found."""
    try:
        with _connect(url, timeout) as sock:
            try:
                _send_stream(sock, data)
            except (BrokenPipeError, ConnectionResetError) as exc:
                # clamd answers and hangs up mid-stream past StreamMaxLength: its answer says why.
                answer = _reply(sock)
                if not answer:
                    raise ClamdError(f"clamd hung up during the scan ({type(exc).__name__})") from exc
            else:
                answer = _reply(sock)
    except (TimeoutError, OSError) as exc:
        raise ClamdError(f"clamd did not finish the scan ({type(exc).__name__})") from exc
    if not answer:
        raise ClamdError("clamd closed the connection without an answer")
    _, _, verdict = answer.partition(": ")
    if verdict == "OK":
        return None
    if verdict.endswith(" FOUND"):
        return verdict[: -len(" FOUND")].strip() or "unknown signature"
    raise ClamdFileError(f"clamd could not scan the file: {answer[:200]}")
