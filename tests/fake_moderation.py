"""A fake OpenAI moderation API on a real loopback HTTP server: `POST /v1/moderations`.

Speaks the documented shape (openai-python `types/moderation.py`): `input` is a string, a list of strings,
or a list of `{"type": "text", "text"}` / `{"type": "image_url", "image_url": {"url"}}` parts; the answer is
`{"id", "model", "results": [{"flagged", "categories", "category_scores", "category_applied_input_types"}]}`
with one result per string, or one result for a list of parts.

Text is flagged by `words` (word → (category, score)); every image gets `image_scores`. A category is flagged
when its score reaches `flag_at`, like the real service's own thresholds. Modes (see FakeServer): good,
rate_limited, server_error, unavailable, unauthorized, malformed_body, wrong_shape, timeout.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from typing import Any

from PIL import Image

from tests.fake_providers import FakeServer, Recorded, Reply, json_reply

CATEGORIES = ("harassment", "harassment/threatening", "hate", "hate/threatening", "illicit", "illicit/violent",
              "self-harm", "self-harm/intent", "self-harm/instructions", "sexual", "sexual/minors", "violence",
              "violence/graphic")
IMAGE_CATEGORIES = frozenset({"self-harm", "self-harm/intent", "self-harm/instructions", "sexual", "violence",
                              "violence/graphic"})
BASELINE = 0.0004  # what the real service scores harmless input


class FakeModeration(FakeServer):
    """`POST /v1/moderations` as OpenAI documents it (omni-moderation: text and images)."""

    def __init__(self, api_key: str = "sk-test") -> None:
        super().__init__()
        self.api_key = api_key
        self.words: dict[str, tuple[str, float]] = {"attack": ("violence", 0.91), "hateful": ("hate", 0.88)}
        self.image_scores: dict[str, float] = {}
        self.flag_at = 0.8

    @property
    def base_url(self) -> str:
        return self.origin + "/v1"

    def _text_scores(self, text: str) -> dict[str, float]:
        scores: dict[str, float] = {}
        for word, (category, score) in self.words.items():
            if re.search(rf"\b{re.escape(word)}\b", text, re.I):
                scores[category] = max(scores.get(category, 0.0), score)
        return scores

    def _result(self, scores: dict[str, float], kinds: set[str]) -> dict[str, Any]:
        full = {c: round(scores.get(c, BASELINE), 6) for c in CATEGORIES}
        categories = {c: full[c] >= self.flag_at for c in CATEGORIES}
        applied = {c: sorted(k for k in kinds if k == "text" or c in IMAGE_CATEGORIES) for c in CATEGORIES}
        return {"flagged": any(categories.values()), "categories": categories, "category_scores": full,
                "category_applied_input_types": applied}

    def _part_scores(self, part: Any) -> tuple[dict[str, float], str] | str:
        """(scores, "text"/"image") for one input part, or an error message."""
        if not isinstance(part, dict) or part.get("type") not in ("text", "image_url"):
            return "Each input part must be an object with type 'text' or 'image_url'."
        if part["type"] == "text":
            return (self._text_scores(part["text"]), "text") if isinstance(part.get("text"), str) \
                else "A text part needs a 'text' string."
        url = (part.get("image_url") or {}).get("url") if isinstance(part.get("image_url"), dict) else None
        found = re.fullmatch(r"data:image/[\w.+-]+;base64,(.+)", url or "", re.S)
        if not found:
            return "Invalid image_url: expected a data URL with base64 image data."
        try:
            with Image.open(io.BytesIO(base64.b64decode(found.group(1), validate=True))) as image:
                image.load()
        except (OSError, ValueError, binascii.Error):
            return "The image data you provided does not represent a valid image."
        return {c: s for c, s in self.image_scores.items() if c in IMAGE_CATEGORIES}, "image"

    def respond(self, request: Recorded, mode: str) -> Reply:
        def error(status: int, message: str, kind: str, code: str | None = None, **headers: str) -> Reply:
            return json_reply(status, {"error": {"message": message, "type": kind, "param": None, "code": code}},
                              headers)

        if request.path != "/v1/moderations":
            return error(404, f"Unknown request URL: POST {request.path}.", "invalid_request_error", "unknown_url")
        wrong_key = self.api_key and request.headers.get("authorization") != f"Bearer {self.api_key}"
        if mode == "unauthorized" or wrong_key:
            return error(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key")
        replies = {
            "rate_limited": lambda: error(429, "Rate limit reached for omni-moderation-latest.", "requests",
                                          "rate_limit_exceeded", **{"Retry-After": self.retry_after}),
            "server_error": lambda: error(500, "The server had an error while processing your request.",
                                          "server_error"),
            "unavailable": lambda: error(503, "The engine is currently overloaded, please try again later.",
                                         "server_error", **{"Retry-After": self.retry_after}),
            "malformed_body": lambda: (200, {"Content-Type": "application/json"}, b'{"id": "modr-fake", "resu'),
            "wrong_shape": lambda: json_reply(200, {"id": "modr-fake", "model": "omni-moderation-latest",
                                                    "results": [{"categories": "none"}]}),
        }
        if mode in replies:
            return replies[mode]()
        body = request.json
        given = body.get("input") if isinstance(body, dict) else None
        model = (body.get("model") or "omni-moderation-latest") if isinstance(body, dict) else ""
        if isinstance(given, str):
            results = [self._result(self._text_scores(given), {"text"})]
        elif isinstance(given, list) and given and all(isinstance(g, str) for g in given):
            results = [self._result(self._text_scores(g), {"text"}) for g in given]
        elif isinstance(given, list) and given:
            scores: dict[str, float] = {}
            kinds: set[str] = set()
            for part in given:
                found = self._part_scores(part)
                if isinstance(found, str):
                    return error(400, found, "invalid_request_error")
                kinds.add(found[1])
                for category, score in found[0].items():
                    scores[category] = max(scores.get(category, 0.0), score)
            results = [self._result(scores, kinds)]
        else:
            return error(400, "'input' is a required property and must be a string or a non-empty array.",
                         "invalid_request_error")
        return json_reply(200, {"id": f"modr-{len(self.requests)}", "model": model, "results": results})
