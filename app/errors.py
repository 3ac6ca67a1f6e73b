"""Domain errors: each carries a stable code, a message for people and an HTTP status."""

from __future__ import annotations


class AppError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None,
                 details: dict | None = None):
        super().__init__(message)
        self.message = message
        # Structured facts a client may act on (e.g. each refused file), beside the message.
        self.details = details or {}
        if code:
            self.code = code
        if status:
            self.status = status


class ValidationFailed(AppError):
    status = 422
    code = "validation_failed"


class AuthRequired(AppError):
    status = 401
    code = "auth_required"


class InvalidCredentials(AppError):
    status = 401
    code = "invalid_credentials"


class Forbidden(AppError):
    status = 403
    code = "forbidden"


class NotFound(AppError):
    status = 404
    code = "not_found"


class Conflict(AppError):
    status = 409
    code = "conflict"


class TooLarge(AppError):
    status = 413
    code = "payload_too_large"


class Throttled(AppError):
    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class ServiceUnavailable(AppError):
    """A part we depend on (the job queue, storage) is not reachable; `details` says what was done anyway
    (nothing, unless it says so)."""

    status = 503
    code = "service_unavailable"

    def __init__(self, message: str, *, details: dict | None = None):
        super().__init__(message, details=details)


class InsufficientCredits(AppError):
    status = 402
    code = "insufficient_credits"


class ModerationRejected(AppError):
    """A prompt or output refused by moderation; the message says why, without echoing the term."""

    status = 422
    code = "moderation_rejected"

    def __init__(self, message: str, *, category: str = ""):
        super().__init__(message)
        self.category = category
