"""A fake Ollama server on 127.0.0.1: the native API and its OpenAI-compatible /v1, as Ollama documents them.

Native: `GET /api/tags`, `POST /api/show` (with the `capabilities` list of Ollama ≥ 0.6), `GET /api/version`.
OpenAI-compatible: `GET /v1/models`, and `POST /v1/chat/completions`, which reads `image_url` content parts
(data: URIs, as the renamer sends them) and answers the renamer's JSON description of the picture with
`fake.subject` as its subject; with no readable image it answers NO_IMAGE, and a model without "vision"
answers Ollama's "missing data required for image input" error.

Modes (see `tests/fake_providers.py`), on every request: timeout, unauthorized (a proxy or ollama.com),
server_error, malformed_body, not_json (an HTML page), wrong_shape.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time
from typing import Any

from tests.fake_image_providers import FakeImageServer
from tests.fake_providers import Recorded, Reply, json_reply

DEFAULT_MODELS = {  # name → what /api/show reports
    "llava:7b": ["completion", "vision"],
    "llama3.2:3b": ["completion", "tools"],
    "nomic-embed-text:latest": ["embedding"],
}
_NOT_FOUND: Reply = (404, {"Content-Type": "text/plain"}, b"404 page not found")


def _image_from_part(part: Any) -> bytes | None:
    """The picture in one `image_url` content part (a data: URI, as an object or a bare string)."""
    if not isinstance(part, dict) or part.get("type") != "image_url":
        return None
    url = part.get("image_url")
    url = url.get("url") if isinstance(url, dict) else url
    if not isinstance(url, str) or not url.startswith("data:image/") or ";base64," not in url:
        return None
    try:
        data = base64.b64decode(url.split(";base64,", 1)[1], validate=True)
    except (binascii.Error, ValueError):
        return None
    return data if data.startswith((b"\xff\xd8", b"\x89PNG", b"RIFF")) else None


class FakeOllama(FakeImageServer):
    def __init__(self, api_key: str = "") -> None:
        super().__init__()
        self.api_key = api_key  # when set, every request needs this Bearer token
        self.models: dict[str, list[str]] = {k: list(v) for k, v in DEFAULT_MODELS.items()}
        self.version = "0.12.6"
        self.reports_capabilities = True  # False: /api/show as before Ollama 0.6, without capabilities
        self.subject = "tabby cat"  # what a vision model says the picture shows
        self.images_seen: list[bytes] = []

    @property
    def base_url(self) -> str:
        return self.origin

    @property
    def openai_base_url(self) -> str:
        return self.origin + "/v1"

    def respond(self, request: Recorded, mode: str) -> Reply:
        wrong_key = self.api_key and request.headers.get("authorization") != f"Bearer {self.api_key}"
        if mode == "unauthorized" or wrong_key:
            return json_reply(401, {"error": "unauthorized"})
        replies = {
            "server_error": lambda: json_reply(500, {"error": "llama runner process has terminated: exit status 2"}),
            "malformed_body": lambda: (200, {"Content-Type": "application/json"}, b'{"models": [{"name": "lla'),
            "not_json": lambda: (200, {"Content-Type": "text/html"}, b"<html><body>Welcome to nginx!</body></html>"),
            "wrong_shape": lambda: json_reply(200, {"status": "ok"}),
        }
        if mode in replies:
            return replies[mode]()
        route = (request.method, request.path)
        if route == ("GET", "/"):
            return 200, {"Content-Type": "text/plain"}, b"Ollama is running"
        if route == ("GET", "/api/version"):
            return json_reply(200, {"version": self.version})
        if route == ("GET", "/api/tags"):
            return json_reply(200, {"models": [self._tag(name) for name in self.models]})
        if route == ("POST", "/api/show"):
            return self._show(request)
        if route == ("GET", "/v1/models"):
            return json_reply(200, {"object": "list", "data": [
                {"id": name, "object": "model", "created": 1733000000, "owned_by": "library"} for name in self.models]})
        if route == ("POST", "/v1/chat/completions"):
            return self._chat(request)
        return _NOT_FOUND

    @staticmethod
    def _tag(name: str) -> dict[str, Any]:
        family = name.split(":")[0].split("-")[0]
        return {"name": name, "model": name, "modified_at": "2026-11-20T10:00:00.000000000Z", "size": 4_700_000_000,
                "digest": hashlib.sha256(name.encode()).hexdigest(), "details": {
                    "parent_model": "", "format": "gguf", "family": family, "families": [family],
                    "parameter_size": "7B", "quantization_level": "Q4_K_M"}}

    def _show(self, request: Recorded) -> Reply:
        body = request.json if isinstance(request.json, dict) else {}
        name = body.get("model") or body.get("name")  # "name" is the older spelling
        if name not in self.models:
            return json_reply(404, {"error": f"model '{name}' not found"})
        answer: dict[str, Any] = {"modelfile": f"FROM {name}\n", "parameters": "stop \"<|eot_id|>\"",
                                  "template": "{{ .Prompt }}", "details": self._tag(name)["details"],
                                  "model_info": {"general.architecture": "llama"},
                                  "modified_at": "2026-11-20T10:00:00Z"}
        if self.reports_capabilities:
            answer["capabilities"] = list(self.models[name])
        return json_reply(200, answer)

    def _chat(self, request: Recorded) -> Reply:
        def error(status: int, message: str) -> Reply:
            return json_reply(status, {"error": {"message": message, "type": "api_error", "param": None,
                                                 "code": None}})

        body = request.json
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return error(400, "invalid request body")
        model = body.get("model")
        if model not in self.models:
            return error(404, f'model "{model}" not found, try pulling it first')
        parts = [p for m in body["messages"] if isinstance(m, dict) and isinstance(m.get("content"), list)
                 for p in m["content"]]
        wants_images = any(isinstance(p, dict) and p.get("type") == "image_url" for p in parts)
        if wants_images and "vision" not in self.models[model]:
            return error(400, "this model is missing data required for image input")
        images = [image for image in map(_image_from_part, parts) if image]
        self.images_seen.extend(images)
        content = json.dumps(self.describe(seen=bool(images)))
        return json_reply(200, {
            "id": f"chatcmpl-{len(self.requests)}", "object": "chat.completion", "created": int(time.time()),
            "model": model, "system_fingerprint": "fp_ollama",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 620, "completion_tokens": 58, "total_tokens": 678}})

    def describe(self, *, seen: bool) -> dict[str, Any]:
        """The description a vision model gives (the renamer's schema), or NO_IMAGE when it got no picture."""
        if not seen:
            return {"subject": "NO_IMAGE", "details": [], "keywords": [], "title": "", "alt_text": "",
                    "confidence": 0}
        words = self.subject.lower().split()
        return {"subject": self.subject, "details": ["indoors", "soft light"],
                "keywords": [*words, self.subject.lower(), "photo", "close-up"][:10],
                "title": self.subject.capitalize(), "alt_text": f"A {self.subject} resting indoors in soft light",
                "confidence": 0.93}
