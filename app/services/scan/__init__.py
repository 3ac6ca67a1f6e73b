"""Virus scanning before anything uploaded is stored (CLAMAV_URL; off when unset).

`require_clean` is called by the one ingest path (uploads and each ZIP member), the slide source reader and
the brand template store. Infected: refused (`infected`, naming the signature) with an audit event. clamd
unreachable: CLAMAV_FAIL_MODE=closed refuses (503 `scanner_unavailable`); open lets it through marked
"not scanned", with an audit event — never silently. clamd up but unable to scan one file (over its
StreamMaxLength): that file alone is refused (`scan_failed`) when closed, stored flagged when open.
"""

from __future__ import annotations

import logging
from typing import IO

from app.errors import AppError, ServiceUnavailable
from app.services.scan import clamd
from app.services.security_events import record_security_event
from app.settings import get_settings

CLEAN, NOT_SCANNED, OFF = "clean", "not scanned", ""
log = logging.getLogger(__name__)


class Infected(AppError):
    status = 422
    code = "infected"

    def __init__(self, message: str, *, signature: str):
        super().__init__(message)
        self.signature = signature


class ScannerUnavailable(ServiceUnavailable):
    code = "scanner_unavailable"


def enabled() -> bool:
    return bool(get_settings().clamav_url)


def require_clean(data: bytes | IO[bytes], *, name: str, where: str = "") -> str:
    """CLEAN, NOT_SCANNED (fail-open with clamd down) or OFF; raises Infected or ScannerUnavailable.

    A file handle is read from where it stands and put back there. `where` (e.g. "workspace:3") goes
    into the audit event.
    """
    settings = get_settings()
    if not settings.clamav_url:
        return OFF
    start = None if isinstance(data, bytes | bytearray | memoryview) else data.tell()
    try:
        signature = clamd.instream(settings.clamav_url, data, timeout=settings.clamav_timeout_seconds)
    except clamd.ClamdError as exc:
        target = f"{where} {name}".strip()
        if settings.clamav_fail_mode == "open":
            log.warning("upload %s stored unscanned: %s", name, exc)
            record_security_event(kind="scan_skipped", ip="", target=target, detail=str(exc))
            return NOT_SCANNED
        if isinstance(exc, clamd.ClamdFileError):  # clamd is up: this file alone is refused
            record_security_event(kind="scan_failed", ip="", target=target, detail=str(exc))
            raise AppError(f"{name} could not be virus-scanned ({str(exc)[:160]}), so it was not stored.",
                           code="scan_failed", status=422) from exc
        log.warning("upload %s refused, scanner unavailable: %s", name, exc)
        raise ScannerUnavailable("The virus scanner is not reachable, so uploads are refused for now; nothing "
                                 "was stored. Try again shortly.", details={"service": "clamav"}) from exc
    finally:
        if start is not None:
            data.seek(start)
    if signature is None:
        return CLEAN
    record_security_event(kind="infected", ip="", target=f"{where} {name}".strip(), detail=signature)
    raise Infected(f"{name} was refused: the virus scanner found {signature}.", signature=signature)


def upload_meta(data: bytes | IO[bytes], *, name: str, where: str = "") -> dict | None:
    """`require_clean` for a stored upload: the asset's meta saying how it was scanned (None when scanning is off)."""
    verdict = require_clean(data, name=name, where=where)
    return {"virus_scan": verdict} if verdict else None


def health() -> str:
    """For /health/ready: "" when off; "ok (...)" when clamd answers; when it does not, "down: ..." if
    uploads wait for it (fail-closed) or "degraded: ..." (fail-open: listed, not counted against readiness)."""
    settings = get_settings()
    if not settings.clamav_url:
        return ""
    timeout = min(settings.clamav_timeout_seconds, 3.0)
    try:
        if clamd.command(settings.clamav_url, "PING", timeout=timeout) != "PONG":
            raise clamd.ClamdError("clamd did not answer PONG")
        return f"ok ({clamd.command(settings.clamav_url, 'VERSION', timeout=timeout)[:120]})"
    except clamd.ClamdError as exc:
        state = "down" if settings.clamav_fail_mode == "closed" else "degraded (fail-open, uploads flagged)"
        return f"{state}: {exc}"[:300]
