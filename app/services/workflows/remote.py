"""The seam to remote engines (fal, Replicate): operations call a hook the caller injects in the context."""

from __future__ import annotations

from typing import Any

from app.services.workflows.base import OpContext, OperationFailed, RemoteNotConfigured

MAX_REMOTE_BYTES = 100 * 1024 * 1024  # a result larger than this is not an image we asked for


def call_remote(ctx: OpContext, op_id: str, image: bytes, params: dict[str, Any]) -> bytes:
    """The remote provider's result bytes for `op_id` on `image`; a clear error when none is configured."""
    if ctx.remote is None:
        raise RemoteNotConfigured("This step needs a remote provider; none is configured. Choose the local "
                                  "engine, or ask an administrator to connect one (Admin → AI connections: A1111, "
                                  "ComfyUI, fal or Replicate) and make it the default.")
    answer = ctx.remote(op_id, image, params)
    if not isinstance(answer, bytes | bytearray) or not answer:
        raise OperationFailed("The remote provider returned no image.", code="remote_bad_result")
    if len(answer) > MAX_REMOTE_BYTES:
        raise OperationFailed("The remote provider returned an oversized file.", code="remote_bad_result")
    return bytes(answer)
