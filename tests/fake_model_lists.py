"""Fake `GET /models` lists on 127.0.0.1: OpenAI, OpenRouter (with `/key`) and LM Studio, as each documents them.

`flavor` picks the shape: "openai" (`/v1/models`, a key required), "openrouter" (`/api/v1/models` with
architecture modalities, open to anyone, and `/api/v1/key`, which needs the key), "lmstudio" (`/v1/models`,
no key). A refused key's error text quotes the key back, as some servers do, so tests can check that
probes scrub it. Modes as in `tests/fake_providers.py`: timeout, unauthorized, server_error, not_json.
"""

from __future__ import annotations

import time
from typing import Any

from tests.fake_image_providers import FakeImageServer
from tests.fake_providers import Recorded, Reply, json_reply

OPENAI_IDS = ["gpt-4o", "gpt-4.1-mini", "gpt-5", "o3", "gpt-3.5-turbo", "gpt-image-1", "dall-e-3",
              "omni-moderation-latest", "text-embedding-3-small", "whisper-1", "tts-1"]
LMSTUDIO_IDS = ["qwen2.5-vl-7b-instruct", "llama-3.2-3b-instruct", "text-embedding-nomic-embed-text-v1.5"]
OPENROUTER_MODELS = [  # id → (input modalities, output modalities)
    ("openai/gpt-4o", ["text", "image", "file"], ["text"]),
    ("meta-llama/llama-3.3-70b-instruct", ["text"], ["text"]),
    ("google/gemini-2.5-flash-image", ["image", "text"], ["image", "text"]),
    ("openai/whisper-large", ["audio"], ["embeddings"]),
]


class FakeModelLists(FakeImageServer):
    def __init__(self, flavor: str = "openai", api_key: str = "sk-test") -> None:
        super().__init__()
        self.flavor = flavor
        self.api_key = "" if flavor == "lmstudio" else api_key

    @property
    def base_url(self) -> str:
        return self.origin + ("/api/v1" if self.flavor == "openrouter" else "/v1")

    def _refused(self, request: Recorded) -> Reply:
        presented = request.headers.get("authorization", "").removeprefix("Bearer ")
        return json_reply(401, {"error": {"message": f"Incorrect API key provided: {presented}.",
                                          "type": "invalid_request_error", "code": "invalid_api_key"}})

    def respond(self, request: Recorded, mode: str) -> Reply:
        prefix = "/api/v1" if self.flavor == "openrouter" else "/v1"
        key_ok = not self.api_key or request.headers.get("authorization") == f"Bearer {self.api_key}"
        public = self.flavor == "openrouter" and request.path == f"{prefix}/models"
        if mode == "unauthorized" or (not key_ok and not public):
            return self._refused(request)
        if mode == "server_error":
            return json_reply(500, {"error": {"message": "The server had an error processing your request.",
                                              "type": "server_error"}})
        if mode == "not_json":
            return 200, {"Content-Type": "text/html"}, b"<!doctype html><title>Sign in</title>"
        if (request.method, request.path) == ("GET", f"{prefix}/models"):
            return json_reply(200, {"object": "list", "data": self._models()})
        if self.flavor == "openrouter" and (request.method, request.path) == ("GET", f"{prefix}/key"):
            return json_reply(200, {"data": {"label": f"{self.api_key[:6]}...{self.api_key[-3:]}", "limit": None,
                                             "usage": 0.25, "is_free_tier": False, "is_provisioning_key": False}})
        return json_reply(404, {"error": {"message": f"Unknown request URL: {request.method} {request.path}.",
                                          "type": "invalid_request_error"}})

    def _models(self) -> list[dict[str, Any]]:
        if self.flavor == "openrouter":
            return [{"id": model, "name": model.split("/")[1], "created": 1733000000, "context_length": 128000,
                     "architecture": {"input_modalities": inputs, "output_modalities": outputs,
                                      "tokenizer": "Other"}} for model, inputs, outputs in OPENROUTER_MODELS]
        ids = LMSTUDIO_IDS if self.flavor == "lmstudio" else OPENAI_IDS
        return [{"id": i, "object": "model", "created": int(time.time()), "owned_by": "system"} for i in ids]
