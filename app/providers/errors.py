"""The one error family for outside AI providers (vision, images, chat, workflow steps, moderation)."""

from __future__ import annotations


class ProviderError(Exception):
    """A provider failure with a stable code (timeout, rate_limited, provider_error, provider_unavailable,
    auth_failed, bad_request, bad_response, bad_image, not_found, canceled…); `retryable` ones may succeed
    later, after `retry_after` seconds when the provider said."""

    def __init__(self, message: str, *, code: str, retryable: bool = False, retry_after: float | None = None,
                 unreachable: bool = False):
        super().__init__(message)
        self.message = message
        self.code = code
        self.retryable = retryable
        self.retry_after = retry_after
        # Nothing answered at all (refused, no such host) or the breaker stopped calling: the server is
        # not there, so waiting a minute rarely helps — unlike a busy server (503, 429, a timeout).
        self.unreachable = unreachable
