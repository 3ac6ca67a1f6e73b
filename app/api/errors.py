"""Every API error answers {"error": {"code", "message"}} with its real status."""

from __future__ import annotations

import json

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from app.api.middleware import BodyTooLarge
from app.api.outages import RETRY_AFTER_SECONDS
from app.errors import AppError, ServiceUnavailable, Throttled

_HTTP_CODES = {400: "bad_request", 401: "auth_required", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
               409: "conflict", 413: "payload_too_large", 422: "validation_failed",
               429: "too_many_requests", 503: "service_unavailable"}


def error_response(status: int, code: str, message: str, headers: dict | None = None,
                   fields: list[dict] | None = None, details: dict | None = None) -> JSONResponse:
    error: dict = {"code": code, "message": message}
    if fields:  # settings errors: every bad field by its path, e.g. "steps[1].params.width"
        error["fields"] = fields
    if details:  # what a failed request did anyway (e.g. the assets stored before the queue failed)
        error["details"] = details
    return JSONResponse({"error": error}, status_code=status, headers=headers)


def _describe(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        parts.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
    return "; ".join(parts) or "The request is not valid."


def install_error_handlers(api: FastAPI) -> None:
    @api.exception_handler(AppError)
    async def _app_error(_: Request, exc: AppError) -> JSONResponse:
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, Throttled) else None
        fields = getattr(exc, "errors", None)
        details = getattr(exc, "details", None)
        response = error_response(exc.status, exc.code, exc.message, headers,
                                  fields=[dict(f) for f in fields] if isinstance(fields, list) else None,
                                  details=details)
        if isinstance(exc, ServiceUnavailable):  # the same shape as an outage caught at the edge
            body = json.loads(response.body)
            body["error"]["service"] = (details or {}).get("service", "redis")
            response = JSONResponse(body, status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        return response

    @api.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, "validation_failed", _describe(exc))

    @api.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail))

    @api.exception_handler(BodyTooLarge)
    async def _too_large(_: Request, __: BodyTooLarge) -> JSONResponse:
        return error_response(413, "payload_too_large", "The request body is too large.")
