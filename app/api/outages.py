"""A service that is down answers 503 naming it, never a plain-text 500.

Redis (queues, throttles, tickets), the database and storage can each be away for a while (a restart,
a full disk, a read-only remount). The client learns which one and that trying again later makes
sense (Retry-After); the logs keep the traceback. Any other unhandled error is a JSON 500.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import weakref

import redis.asyncio as aioredis
import redis.exceptions
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.concurrency import run_in_threadpool

from app.api.rate_limit import AUTH_EPOCH_SCOPE_KEY
from app.settings import get_settings
from app.storage import get_storage

log = logging.getLogger("atelier.api")
RETRY_AFTER_SECONDS = 5

# What a folder that cannot take our files says: read-only, full, over quota, not allowed, not a folder
# (the storage root moved under a file), or an I/O error of the device underneath.
STORAGE_DOWN_ERRNOS = frozenset({errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM,
                                 errno.ENOTDIR, errno.EIO})

_NAMES = {"redis": "The queue service (Redis)", "database": "The database",
          "storage": "File storage (read-only, full or missing)"}
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class ServiceDown(Exception):
    """Found down before the request did anything: the answer can say that nothing was saved."""

    def __init__(self, service: str):
        super().__init__(service)
        self.service = service


def unavailable(service: str, *, before_any_write: bool = False) -> JSONResponse:
    if before_any_write:
        message = f"{_NAMES[service]} is unavailable, so nothing was saved. Try again in a moment."
    else:  # it went away part way: what a service finished before is kept, a job it queued is failed
        message = (f"{_NAMES[service]} became unavailable during the request. Anything it completed "
                   "before that is kept (see your assets and jobs); try the rest again in a moment.")
    return JSONResponse({"error": {"code": "service_unavailable", "service": service, "message": message}},
                        status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


# One asyncio client per event loop (a connection pool cannot cross loops), rebuilt when the URL changes.
_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _loop_redis() -> aioredis.Redis:
    loop = asyncio.get_running_loop()
    url = get_settings().redis_db_url(0)
    held = _clients.get(loop)
    if held is None or held[0] != url:
        held = (url, aioredis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5))
        _clients[loop] = held
    return held[1]


def _check_storage() -> None:
    try:
        get_storage().ping()  # a real write and delete of a probe file
    except OSError as exc:
        raise ServiceDown("storage") from exc


async def _check_services(multipart: bool, scope: dict) -> None:
    # The guard's rate-limit call already had an answer from Redis for this request (it leaves the credentials
    # epoch it read in the scope): Redis is up, no round trip of our own. Otherwise one PING from the event loop.
    if scope.get(AUTH_EPOCH_SCOPE_KEY) is None:
        try:
            await _loop_redis().ping()
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as exc:
            raise ServiceDown("redis") from exc
    if multipart and get_settings().storage_backend == "local":
        await run_in_threadpool(_check_storage)


async def services_up(request: Request) -> None:
    """Before a write runs: Redis answers (throttles, jobs), and for a file upload the storage folder
    takes a file. Writes stored files and rows first and failed at the enqueue, answering an error for
    work half done; checked first, an outage refuses the request before anything is stored. (A service
    that dies within the request is still answered with 503, saying that it went away part way.)
    No thread hop for the Redis part: a hop costs a thread switch both ways, and every write paid it."""
    if request.method in UNSAFE_METHODS:
        multipart = request.headers.get("content-type", "").startswith("multipart/")
        await _check_services(multipart, request.scope)


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
    @api.exception_handler(ServiceDown)
    async def _down_before(request: Request, exc: ServiceDown) -> JSONResponse:
        log.warning("%s %s refused: %s unavailable", request.method, request.url.path, exc.service)
        return unavailable(exc.service, before_any_write=True)

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
