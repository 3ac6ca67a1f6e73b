"""A service that is down answers 503 naming it, never a plain-text 500.

Redis (queues, throttles, tickets), the database and storage can each be away for a while (a restart,
a full disk, a read-only remount). The client learns which one and that trying again later makes
sense (Retry-After); the logs keep the traceback. Any other unhandled error is a JSON 500.
"""

from __future__ import annotations

import errno
import logging

import redis.exceptions
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError

from app.settings import get_settings

log = logging.getLogger("atelier.api")
RETRY_AFTER_SECONDS = 5

# What a folder that cannot take our files says: read-only, full, over quota, not allowed, not a folder
# (the storage root moved under a file), or an I/O error of the device underneath.
STORAGE_DOWN_ERRNOS = frozenset({errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM,
                                 errno.ENOTDIR, errno.EIO})

_MESSAGES = {
    "redis": "The queue service (Redis) is unavailable. Nothing was saved; try again in a moment.",
    "database": "The database is unavailable. Nothing was saved; try again in a moment.",
    "storage": "File storage is unavailable (read-only, full or missing). Nothing was saved; "
               "try again later.",
}


def unavailable(service: str) -> JSONResponse:
    return JSONResponse({"error": {"code": "service_unavailable", "service": service,
                                   "message": _MESSAGES[service]}},
                        status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def storage_is_down(exc: OSError) -> bool:
    if exc.errno in STORAGE_DOWN_ERRNOS:
        return True
    # A missing file is a missing object, unless the whole storage folder is gone (an unmounted disk).
    settings = get_settings()
    return (exc.errno == errno.ENOENT and settings.storage_backend == "local"
            and not settings.storage_dir.is_dir())


def _s3_outages() -> tuple[type[Exception], ...]:
    try:
        from botocore.exceptions import ConnectionError as BotoConnectionError
        from botocore.exceptions import HTTPClientError
    except ImportError:
        return ()
    return (BotoConnectionError, HTTPClientError)  # endpoint unreachable, connect/read timeouts


def install_outage_handlers(api: FastAPI) -> None:
    @api.exception_handler(redis.exceptions.ConnectionError)  # includes Redis still loading its data
    @api.exception_handler(redis.exceptions.TimeoutError)
    async def _redis_down(request: Request, exc: Exception) -> JSONResponse:
        log.warning("%s %s: Redis unavailable: %s", request.method, request.url.path, exc)
        return unavailable("redis")

    @api.exception_handler(OperationalError)
    @api.exception_handler(InterfaceError)
    async def _database_down(request: Request, exc: Exception) -> JSONResponse:
        log.warning("%s %s: database unavailable: %s", request.method, request.url.path, exc)
        return unavailable("database")

    for s3_error in _s3_outages():
        @api.exception_handler(s3_error)
        async def _s3_down(request: Request, exc: Exception) -> JSONResponse:
            log.warning("%s %s: S3 storage unavailable: %s", request.method, request.url.path, exc)
            return unavailable("storage")

    @api.exception_handler(OSError)
    async def _os_error(request: Request, exc: OSError) -> JSONResponse:
        if storage_is_down(exc):
            log.warning("%s %s: storage unavailable: %s", request.method, request.url.path, exc)
            return unavailable("storage")
        return _internal(request, exc)

    @api.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        return _internal(request, exc)


def _internal(request: Request, exc: Exception) -> JSONResponse:
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"error": {"code": "internal_error",
                                   "message": "Something went wrong on our side; it was logged."}},
                        status_code=500)
