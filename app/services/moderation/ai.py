"""The optional AI check: any OpenAI-compatible `POST {base_url}/moderations` endpoint.

Request (OpenAI's documented shape): `{"model": ..., "input": "text"}`, or for an image with the omni models
`{"model": ..., "input": [{"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,..."}}]}`.
Answer: `{"id", "model", "results": [{"flagged": bool, "categories": {name: bool},
"category_scores": {name: float}, "category_applied_input_types": {...}}]}` with names such as "sexual",
"sexual/minors", "hate/threatening", "self-harm/instructions", "violence/graphic", "illicit/violent".

A check flags when the provider says `flagged` or when any score reaches our own threshold. When the
service cannot answer, `fail_closed` decides: refuse ("moderation service unavailable") or let the prompt
through with source "ai_unavailable"; either way the Decision carries the ProviderError code for the log.
"""

from __future__ import annotations

import base64
import math
from typing import Any

from app.errors import ValidationFailed
from app.providers.errors import ProviderError
from app.providers.http import HttpOptions, RemoteClient, downscale_jpeg
from app.services.moderation.service import (
    CATEGORIES,
    MAX_TERM_CHARS,
    Decision,
    reason_for,
)
from app.services.moderation.text import MAX_TEXT_CHARS

MAX_IMAGE_BYTES = 40 * 1024 * 1024  # a generated image is a few MB; anything bigger is a bug upstream
UNAVAILABLE_REASON = "moderation service unavailable"

# The provider's category names (OpenAI's, also served by compatible gateways) → ours. A name not listed
# maps by its prefix ("sexual/…" → "sexual"), and anything else to "other".
AI_CATEGORIES = {
    "sexual": "sexual", "sexual/minors": "minors", "hate": "hate", "hate/threatening": "hate",
    "harassment": "harassment", "harassment/threatening": "harassment", "self-harm": "self-harm",
    "self-harm/intent": "self-harm", "self-harm/instructions": "self-harm", "violence": "violence",
    "violence/graphic": "violence", "illicit": "illegal", "illicit/violent": "illegal",
}


def our_category(name: str) -> str:
    """Our category for a provider's category name."""
    mapped = AI_CATEGORIES.get(name) or AI_CATEGORIES.get(name.split("/")[0])
    return mapped if mapped in CATEGORIES else "other"


def _scores(data: Any) -> tuple[bool, dict[str, bool], dict[str, float]]:
    """(flagged, categories, scores) over every result; a bad_response when the answer has another shape."""
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list) or not results:
        raise ProviderError("the moderation answer has no results", code="bad_response")
    flagged, categories, scores = False, {}, {}
    for result in results:
        if not isinstance(result, dict) or not isinstance(result.get("flagged"), bool):
            raise ProviderError("a moderation result has no 'flagged' boolean", code="bad_response")
        cats, values = result.get("categories", {}), result.get("category_scores", {})
        if not isinstance(cats, dict) or not isinstance(values, dict):
            raise ProviderError("a moderation result's categories are not objects", code="bad_response")
        flagged = flagged or result["flagged"]
        for name, value in cats.items():
            categories[str(name)] = categories.get(str(name), False) or value is True
        for name, value in values.items():
            if value is None:  # OpenAI sends null for categories a model does not score
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ProviderError(f"the moderation score for {str(name)[:40]!r} is not a number",
                                  code="bad_response")
            scores[str(name)] = max(scores.get(str(name), 0.0), float(value))
    return flagged, categories, scores


class OpenAIModeration:
    """Text and image checks against an OpenAI-compatible moderation endpoint. Thread-safe."""

    def __init__(self, base_url: str, api_key: str = "", model: str = "omni-moderation-latest", *,
                 threshold: float = 0.5, fail_closed: bool = False, name: str = "moderation",
                 max_image_side: int = 1024, max_concurrency: int = 4, http: HttpOptions | None = None):
        if not base_url:
            raise ValueError("the moderation service needs a base URL (e.g. https://api.openai.com/v1)")
        if not 0 < threshold <= 1:
            raise ValueError("the moderation threshold must be above 0 and at most 1")
        self.name = name
        self.model = model
        self.threshold = threshold
        self.fail_closed = fail_closed
        self.max_image_side = max_image_side
        self.url = base_url.rstrip("/") + "/moderations"
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._remote = RemoteClient(name, options=http, headers=headers, max_connections=max(1, max_concurrency))

    def close(self) -> None:
        self._remote.close()

    def text_payload(self, text: str) -> dict[str, Any]:
        if len(text) > MAX_TEXT_CHARS:
            raise ValidationFailed(f"The text to check is limited to {MAX_TEXT_CHARS} characters; shorten it.",
                                   code="text_too_long")
        return {"model": self.model, "input": text} if self.model else {"input": text}

    def image_payload(self, image: bytes) -> dict[str, Any]:
        """The image re-encoded as a downscaled JPEG data URL (small upload, no EXIF sent to a third party)."""
        if not image or len(image) > MAX_IMAGE_BYTES:
            raise ValidationFailed(f"An image to check must be between 1 byte and {MAX_IMAGE_BYTES} bytes.",
                                   code="invalid_image")
        jpeg = downscale_jpeg(image, max_side=self.max_image_side)  # ProviderError(bad_image) when undecodable
        url = "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")
        part = {"type": "image_url", "image_url": {"url": url}}
        return {"model": self.model, "input": [part]} if self.model else {"input": [part]}

    def classify(self, payload: dict[str, Any], *, surface: str = "prompt") -> Decision:
        """One call; raises ProviderError when the service fails or answers in another shape."""
        flagged, categories, scores = _scores(self._remote.post_json(self.url, payload))
        hits = {name for name, on in categories.items() if on}
        hits |= {name for name, score in scores.items() if score >= self.threshold}
        if not flagged and not hits:
            return Decision(allowed=True, source="ai", scores=scores)
        # Most severe of our categories first, then the provider's highest score.
        ranked = sorted(hits, key=lambda n: (CATEGORIES.index(our_category(n)), -scores.get(n, 0.0)))
        category = our_category(ranked[0]) if ranked else "other"
        matched = ", ".join(f"{n}={scores.get(n, 0.0):.2f}" for n in ranked) or "flagged"
        return Decision(allowed=False, source="ai", category=category, reason=reason_for(category, surface=surface),
                        matched=matched[:MAX_TERM_CHARS], scores=scores)

    def _checked(self, payload: dict[str, Any], surface: str) -> Decision:
        try:
            return self.classify(payload, surface=surface)
        except ProviderError as exc:
            detail = f"{exc.code}: {exc.message}"[:MAX_TERM_CHARS]
            if self.fail_closed:
                return Decision(allowed=False, source="ai_unavailable", reason=UNAVAILABLE_REASON, matched=detail,
                                error_code=exc.code)
            return Decision(allowed=True, source="ai_unavailable", matched=detail, error_code=exc.code)

    def check_text(self, text: str) -> Decision:
        """The AI's verdict on a prompt; an outage follows `fail_closed` (see the module docstring)."""
        return self._checked(self.text_payload(text), "prompt")

    def check_image(self, image: bytes) -> Decision:
        """The AI's verdict on a generated image (PNG, JPEG or WebP bytes).

        Raises ProviderError(bad_image) for bytes that are not a decodable image: that is our bug, not an outage.
        """
        return self._checked(self.image_payload(image), "image")
