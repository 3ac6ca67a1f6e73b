"""Replicate's predictions API: create, poll (status, logs with tqdm progress), cancel, fetch output files.
Image generation (app/services/generation/adapters/replicate.py) and image workflows' remote steps both use it.

Official models ("owner/name") are created at `POST /v1/models/{owner}/{name}/predictions`; community
models pinned to a version ("owner/name:<64 hex>") at `POST /v1/predictions` with `version`. A community
model named without a version (the official endpoint answers 404) runs its latest version, read from
`GET /v1/models/{owner}/{name}` (`latest_version.id`) and remembered for the life of the client. A prediction
is then read at `GET /v1/predictions/{id}` and cancelled at `POST /v1/predictions/{id}/cancel`.
"""

from __future__ import annotations

import re
from typing import Any

from app.providers.errors import ProviderError
from app.providers.http import HttpOptions
from app.providers.queued import QueuedJobClient
from app.providers.submit import check_input_size, send_submit

DEFAULT_API_URL = "https://api.replicate.com"
STATUSES = frozenset({"starting", "processing", "succeeded", "failed", "canceled"})
TERMINAL = frozenset({"succeeded", "failed", "canceled"})
MODEL = re.compile(r"^(?P<owner>[A-Za-z0-9][\w.-]*)/(?P<name>[A-Za-z0-9][\w.-]*)(?::(?P<version>[0-9a-f]{64}))?$")
_PREDICTION_ID = re.compile(r"^[A-Za-z0-9]{1,64}$")


def _check_prediction(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ProviderError("Replicate sent a prediction that is not a JSON object", code="bad_response")
    if not isinstance(data.get("id"), str) or not _PREDICTION_ID.match(data["id"]):
        raise ProviderError("Replicate sent a prediction without a usable id", code="bad_response")
    if data.get("status") not in STATUSES:
        raise ProviderError(f"Replicate sent an unknown prediction status {data.get('status')!r}",
                            code="bad_response")
    return data


def _classify(status: int, message: str, data: Any) -> ProviderError | None:
    # A 404 is its own code: on the official-model endpoint it means "a community model: needs a version".
    if status == 404:
        return ProviderError(f"Replicate answered HTTP 404: {message or 'not found'}", code="not_found")
    return None


def output_urls(output: Any) -> list[str]:
    """The file URLs in a prediction's output: a list of URLs or a single URL; bad_response otherwise."""
    urls = [output] if isinstance(output, str) else output
    if not isinstance(urls, list) or not urls or not all(isinstance(url, str) and url for url in urls):
        raise ProviderError("Replicate's output is not an image URL or a list of them", code="bad_response")
    return urls


class ReplicateClient(QueuedJobClient):
    """One Replicate account: run any model with any input, follow the prediction, fetch its files. Thread-safe."""

    name, label = "replicate", "Replicate"
    auth_scheme = "Bearer"
    missing_key = "Replicate needs an API token (REPLICATE_API_TOKEN)"
    bad_url = "the Replicate API URL must start with https://"
    key_for_own_files = True  # its /v1/files URLs need the token; replicate.delivery (the CDN) gets none

    def __init__(self, api_token: str, *, base_url: str = DEFAULT_API_URL, http: HttpOptions | None = None,
                 max_connections: int = 4, allow_loopback: bool = False, name: str = "replicate"):
        super().__init__(api_token, base_url=base_url, http=http, max_connections=max_connections,
                         allow_loopback=allow_loopback, name=name, classify=_classify)
        self._latest: dict[str, str] = {}  # community "owner/name" → its latest version id

    def create_prediction(self, model: str, model_input: dict[str, Any]) -> dict[str, Any]:
        """Start `model` ("owner/name" or "owner/name:version") on `model_input`; the new prediction."""
        match = MODEL.match(model) if isinstance(model, str) else None
        if not match:
            raise ProviderError(f"{model!r} is not a Replicate model like 'owner/name' or 'owner/name:<version>'",
                                code="bad_request")
        check_input_size(model_input, limit=self.max_input_bytes, what="Replicate")
        slug = f"{match.group('owner')}/{match.group('name')}"
        version = match.group("version") or self._latest.get(slug)
        if not version:
            url = f"{self.base_url}/v1/models/{slug}/predictions"
            try:
                return _check_prediction(send_submit(self._remote, "POST", url, json={"input": model_input},
                                                     headers=self._auth))
            except ProviderError as exc:
                if exc.code != "not_found":
                    raise
            version = self._latest.setdefault(slug, self._latest_version(slug))
        body = {"version": version, "input": model_input}
        return _check_prediction(send_submit(self._remote, "POST", f"{self.base_url}/v1/predictions", json=body,
                                             headers=self._auth))

    def _latest_version(self, slug: str) -> str:
        """The latest version of a community model; bad_request when Replicate has no such model."""
        try:
            model = self._remote.send("GET", f"{self.base_url}/v1/models/{slug}", headers=self._auth)
        except ProviderError as exc:
            if exc.code == "not_found":
                raise ProviderError(f"Replicate has no model {slug!r}", code="bad_request") from exc
            raise
        latest = model.get("latest_version") if isinstance(model, dict) else None
        version = latest.get("id") if isinstance(latest, dict) else None
        if not isinstance(version, str) or not re.fullmatch(r"[0-9a-f]{64}", version):
            raise ProviderError(f"Replicate's model {slug!r} has no version to run; pin one as "
                                f"'{slug}:<version>'", code="bad_request")
        return version

    def _prediction_url(self, prediction_id: Any) -> str:
        if not isinstance(prediction_id, str) or not _PREDICTION_ID.match(prediction_id):
            raise ProviderError("this is not a Replicate prediction handle made by this server", code="not_found")
        return f"{self.base_url}/v1/predictions/{prediction_id}"

    def get_prediction(self, prediction_id: str) -> dict[str, Any]:
        """The prediction as it is now (status, logs, output or error)."""
        return _check_prediction(self._remote.send("GET", self._prediction_url(prediction_id), headers=self._auth))

    def cancel_prediction(self, prediction_id: str) -> bool:
        """True only when Replicate reports the prediction as canceled after the request."""
        url = self._prediction_url(prediction_id) + "/cancel"
        prediction = _check_prediction(self._remote.send("POST", url, headers=self._auth, retry=False))
        if prediction["status"] not in TERMINAL:  # the answer may predate the worker acknowledging it
            prediction = self.get_prediction(prediction_id)
        return prediction["status"] == "canceled"

    # The queued-job steps `run` goes through (app/providers/queued.py); a failed prediction raises
    # `provider_error` with Replicate's message.
    def _submit(self, model: str, arguments: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        prediction = self.create_prediction(model, arguments)
        return prediction["id"], prediction

    def _poll(self, handle: str) -> dict[str, Any]:
        return self.get_prediction(handle)

    def _finished(self, update: dict[str, Any]) -> bool:
        if update["status"] == "succeeded":
            return True
        if update["status"] in TERMINAL:
            raise ProviderError(f"Replicate: {update.get('error') or update['status']}",
                                code="canceled" if update["status"] == "canceled" else "provider_error")
        return False

    def _result(self, handle: str, update: dict[str, Any]) -> Any:
        return update.get("output")

    def _cancel(self, handle: str) -> bool:
        return self.cancel_prediction(handle)
