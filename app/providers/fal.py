"""fal.ai's queue API: submit any model endpoint with any input, poll its status (queue position, logs),
fetch the result, cancel. Image generation (app/services/generation/adapters/fal.py) and image workflows' remote
steps both use this client.

URL convention (fal docs, "Queue endpoints"): a request is submitted to the full endpoint id
(`fal-ai/flux/dev`), but its status, response and cancel URLs use the app id without the subpath
(`fal-ai/flux/requests/{id}/status`). The submit answer carries those URLs; we use them when they are on
the queue's own origin (they receive our key) and build them ourselves otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from app.providers.errors import ProviderError
from app.providers.http import HttpOptions
from app.providers.queued import QueuedJobClient
from app.providers.submit import check_input_size, same_origin, send_submit

DEFAULT_QUEUE_URL = "https://queue.fal.run"
_NAMESPACES = ("workflows", "comfy")  # ids like "workflows/owner/app/path" keep three parts as the app id
MODEL_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(?:/[\w.-]+){1,6}$")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
# fal's request `error_type` (docs: "Request Error Types") → our stable code; others are provider_error.
ERROR_TYPES = {"request_timeout": "timeout", "startup_timeout": "timeout", "client_cancelled": "canceled",
               "bad_request": "bad_request"}
_STATES = frozenset({"IN_QUEUE", "IN_PROGRESS", "COMPLETED"})


def app_id(model: str) -> str:
    """The app part of a fal endpoint id: "fal-ai/flux/dev" → "fal-ai/flux" (status/result URLs leave out the path)."""
    parts = model.split("/")
    return "/".join(parts[: 3 if parts[0] in _NAMESPACES else 2])


def _detail_text(detail: Any) -> str:
    """fal's `detail`: a string (request errors) or a list of {loc, msg, type} (model validation errors)."""
    if isinstance(detail, str):
        return " ".join(detail.split())[:300]
    if isinstance(detail, list):
        said = []
        for item in detail[:5]:
            if isinstance(item, dict) and isinstance(item.get("msg"), str):
                loc = ".".join(str(p) for p in item.get("loc") or [] if p != "body")
                said.append(f"{loc}: {item['msg']}" if loc else item["msg"])
        return "; ".join(said)[:300]
    return ""


class FalRequestError(ProviderError):
    """The request itself failed on fal's side (bad input, the model crashed or timed out there): final."""


class _FinalHttpError(ProviderError):
    # Raised inside the HTTP layer with code `bad_request`, so the failure is neither retried nor counted
    # by the breaker (fal already retried it on its side); leaves this module as a FalRequestError.
    def __init__(self, message: str, *, final_code: str):
        super().__init__(message, code="bad_request")
        self.final_code = final_code


def _classify(status: int, message: str, data: Any) -> ProviderError | None:
    if status in (401, 403, 429) or not isinstance(data, dict):
        return None
    detail = _detail_text(data.get("detail"))
    error_type = data.get("error_type")
    if isinstance(error_type, str) and error_type:
        return _FinalHttpError(f"fal: {detail or error_type}",
                                final_code=ERROR_TYPES.get(error_type, "provider_error"))
    if 400 <= status < 500 and detail:
        return _FinalHttpError(f"fal answered HTTP {status}: {detail}",
                                final_code="not_found" if status == 404 else "bad_request")
    return None


def _final(exc: _FinalHttpError) -> FalRequestError:
    return FalRequestError(str(exc), code=exc.final_code)


@dataclass(frozen=True)
class FalStatus:
    state: str  # IN_QUEUE, IN_PROGRESS or COMPLETED
    queue_position: int | None = None
    logs: list[str] = field(default_factory=list)
    error: str = ""  # set on COMPLETED when the request failed
    error_type: str = ""


class FalClient(QueuedJobClient):
    """One fal account's queue: submit any endpoint with any input, follow it, fetch its output. Thread-safe."""

    name = label = "fal"
    auth_scheme = "Key"
    missing_key = "fal needs an API key (FAL_KEY)"
    bad_url = "the fal queue URL must start with https://"

    def __init__(self, api_key: str, *, base_url: str = DEFAULT_QUEUE_URL, http: HttpOptions | None = None,
                 max_connections: int = 4, allow_loopback: bool = False, name: str = "fal"):
        super().__init__(api_key, base_url=base_url, http=http, max_connections=max_connections,
                         allow_loopback=allow_loopback, name=name, classify=_classify)

    def submit(self, model: str, arguments: dict[str, Any]) -> dict[str, str]:
        """Queue one request to `model` (e.g. "fal-ai/flux/dev") with its input; returns a JSON-safe handle."""
        if not isinstance(model, str) or not MODEL_ID.match(model):
            raise ProviderError(f"{model!r} is not a fal endpoint id like 'fal-ai/flux/dev'", code="bad_request")
        check_input_size(arguments, limit=self.max_input_bytes, what="fal")
        try:
            data = send_submit(self._remote, "POST", f"{self.base_url}/{model}", json=arguments, headers=self._auth)
        except _FinalHttpError as exc:
            raise _final(exc) from exc
        request_id = data.get("request_id") if isinstance(data, dict) else None
        if not isinstance(request_id, str) or not _REQUEST_ID.match(request_id):
            raise ProviderError("fal accepted the request but sent no usable request_id", code="bad_response")
        base = f"{self.base_url}/{app_id(model)}/requests/{request_id}"
        given = {key: data.get(key) for key in ("status_url", "response_url", "cancel_url")}
        built = {"status_url": base + "/status", "response_url": base, "cancel_url": base + "/cancel"}
        urls = {key: given[key] if same_origin(given[key], self.base_url) else built[key] for key in built}
        return {"model": model, "request_id": request_id, **urls}

    def _url(self, handle: dict[str, Any], key: str) -> str:
        url = handle.get(key)
        if not same_origin(url, self.base_url) or not _REQUEST_ID.match(str(handle.get("request_id", ""))):
            raise ProviderError("this is not a fal request handle made by this server", code="not_found")
        return str(url)

    def _get(self, url: str, **kwargs: Any) -> Any:
        try:
            return self._remote.send("GET", url, headers=self._auth, **kwargs)
        except _FinalHttpError as exc:
            raise _final(exc) from exc

    def status(self, handle: dict[str, Any]) -> FalStatus:
        """Where the request is: queued (with its position), in progress (with log lines) or completed."""
        data = self._get(self._url(handle, "status_url"), params={"logs": "1"})
        state = data.get("status") if isinstance(data, dict) else None
        if state not in _STATES:
            raise ProviderError(f"fal sent an unknown request status {state!r}", code="bad_response")
        position = data.get("queue_position")
        position = position if isinstance(position, int) and not isinstance(position, bool) and position >= 0 else None
        logs = [str(entry["message"]) for entry in data.get("logs") or []
                if isinstance(entry, dict) and isinstance(entry.get("message"), str)]
        error, error_type = data.get("error"), data.get("error_type")
        return FalStatus(state, position, logs[-200:], error if isinstance(error, str) else "",
                         error_type if isinstance(error_type, str) else "")

    def output(self, handle: dict[str, Any]) -> dict[str, Any]:
        """The model's output JSON for a completed request; the request's own failure as a ProviderError."""
        data = self._get(self._url(handle, "response_url"))
        if not isinstance(data, dict):
            raise ProviderError("fal sent an output that is not a JSON object", code="bad_response")
        return data

    def cancel(self, handle: dict[str, Any]) -> bool:
        """True only when fal confirmed the request will not run (or stopped); see FalProvider's docstring."""
        before = self.status(handle)
        if before.state == "COMPLETED":
            return self._ended_cancelled(handle, before)
        try:
            self._remote.send("PUT", self._url(handle, "cancel_url"), headers=self._auth, retry=False)
        except ProviderError as exc:
            if exc.code in ("bad_request", "not_found"):  # 400 ALREADY_COMPLETED, 404 NOT_FOUND: nothing stopped
                return False
            raise
        after = self.status(handle)
        if after.state == "COMPLETED":
            return self._ended_cancelled(handle, after)
        # fal removes a queued request from the queue; a running one only gets a signal the model may ignore.
        return before.state == "IN_QUEUE" and after.state == "IN_QUEUE"

    def _ended_cancelled(self, handle: dict[str, Any], completed: FalStatus) -> bool:
        if completed.error_type or completed.error:
            return completed.error_type == "client_cancelled"
        try:  # a status without error fields: the output says how the request ended
            self.output(handle)
        except FalRequestError as exc:
            return exc.code == "canceled"
        return False

    # The queued-job steps `run` goes through (app/providers/queued.py).
    def _submit(self, model: str, arguments: dict[str, Any]) -> tuple[dict[str, str], None]:
        return self.submit(model, arguments), None

    def _poll(self, handle: dict[str, Any]) -> FalStatus:
        return self.status(handle)

    def _finished(self, update: FalStatus) -> bool:
        if update.state != "COMPLETED":
            return False
        if update.error or update.error_type:
            raise ProviderError(f"fal: {update.error or update.error_type}",
                                code=ERROR_TYPES.get(update.error_type, "provider_error"))
        return True

    def _result(self, handle: dict[str, Any], update: FalStatus) -> dict[str, Any]:
        return self.output(handle)

    def _cancel(self, handle: dict[str, Any]) -> bool:
        return self.cancel(handle)
