"""Vision through Google Cloud Vision's `images:annotate` (labels and text), composed into plain English."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from app.providers.errors import ProviderError
from app.providers.http import HttpOptions, RemoteClient, downscale_jpeg
from app.services.rename.vision.base import VisionRequest, VisionResult, clip_alt_text
from app.settings import get_settings

if TYPE_CHECKING:
    from app.services.ai.builders import Snapshot
    from app.settings import Settings

DETAIL_MIN_SCORE = 0.6  # labels below this are kept as keywords but are too shaky to describe the picture
_VALIDATOR = Draft202012Validator({
    "type": "object",
    "required": ["responses"],
    "properties": {"responses": {"type": "array", "minItems": 1, "items": {
        "type": "object",
        "properties": {
            "labelAnnotations": {"type": "array", "items": {
                "type": "object", "required": ["description"],
                "properties": {"description": {"type": "string"}, "score": {"type": "number"}}}},
            "textAnnotations": {"type": "array", "items": {
                "type": "object", "properties": {"description": {"type": "string"}, "locale": {"type": "string"}}}},
            "error": {"type": "object", "properties": {"code": {"type": "integer"}, "message": {"type": "string"}}},
        }}}},
})

# google.rpc.Code of a per-image error → (our code, retryable). Code 3 (INVALID_ARGUMENT) inside a response is
# Google saying it could not use the picture ("Bad image data.").
_RPC_CODES = {3: ("bad_image", False), 4: ("timeout", True), 7: ("auth_failed", False), 8: ("rate_limited", True),
              13: ("provider_error", True), 14: ("provider_error", True), 16: ("auth_failed", False)}


def _and_list(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def compose(labels: list[tuple[str, float]], text: str) -> tuple[str, list[str], str, str]:
    """(subject, details, title, alt text) in plain English from labels (best first) and detected text."""
    words = list(dict.fromkeys(d.lower() for d, _ in labels))
    subject = words[0] if words else ""
    details = list(dict.fromkeys(d.lower() for d, s in labels[1:] if s >= DETAIL_MIN_SCORE and d.lower() != subject))
    details = details[:4]
    snippet = " ".join(text.split())[:60]
    if subject:
        title = _and_list([subject, *details][:3])
        alt = subject.capitalize() + (f" with {_and_list(details[:3])}" if details else "") + "."
    else:
        title, alt = snippet, ""
    if snippet:
        alt = (alt + f' Text: "{snippet}".').strip()
    return subject, details, title[:1].upper() + title[1:], clip_alt_text(alt)


class GoogleVision:
    """A VisionProvider for Google Cloud Vision with an API key.

    Thread-safe; `describe` raises ProviderError only. Answers are in English (labels are English).
    """

    name = "google"
    model = ""
    supports_language = False

    def __init__(self, api_key: str, endpoint: str = "https://vision.googleapis.com", *, max_concurrency: int = 8,
                 max_image_side: int = 1600, http: HttpOptions | None = None):
        if not api_key:
            raise ValueError("Google Vision needs an API key")
        self.max_concurrency = max(1, max_concurrency)
        # Larger than for chat models: TEXT_DETECTION needs small print to stay legible.
        self.max_image_side = max_image_side
        self.url = endpoint.rstrip("/") + "/v1/images:annotate"
        self._key = api_key
        self._remote = RemoteClient(self.name, options=http, max_connections=self.max_concurrency,
                                    classify=_classify)

    def close(self) -> None:
        self._remote.close()

    def payload(self, request: VisionRequest) -> dict[str, Any]:
        image = downscale_jpeg(request.image, max_side=self.max_image_side)
        features: list[dict[str, Any]] = [{"type": "LABEL_DETECTION", "maxResults": 10}]
        if request.ocr:  # Google bills per feature: skip text detection when the user turned OCR off
            features.append({"type": "TEXT_DETECTION"})
        return {"requests": [{"image": {"content": base64.b64encode(image).decode("ascii")}, "features": features}]}

    def describe(self, request: VisionRequest) -> VisionResult:
        data = self._remote.post_json(self.url, self.payload(request), params={"key": self._key})
        error = best_match(_VALIDATOR.iter_errors(data))
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "answer"
            raise ProviderError(f"google's answer has the wrong shape at {where}: {error.message[:150]}",
                              code="bad_response")
        response = data["responses"][0]
        if "error" in response:
            raise _response_error(response["error"], retry_after=self._remote.options.backoff_max)
        labels = sorted(((str(a["description"]).strip(), float(a.get("score", 0.0)))
                         for a in response.get("labelAnnotations", []) if str(a["description"]).strip()),
                        key=lambda pair: -pair[1])
        texts = response.get("textAnnotations") or []
        # The first text annotation is the whole text of the picture; the rest are its single words.
        text = str(texts[0].get("description", "")).strip()[:2000] if texts else ""
        subject, details, title, alt = compose(labels, text)
        extras: dict[str, Any] = {"provider": self.name, "labels": [{"description": d, "score": round(s, 3)}
                                                                    for d, s in labels]}
        if text:
            extras["text"] = text
            if texts[0].get("locale"):
                extras["text_language"] = texts[0]["locale"]
        return VisionResult(
            subject=subject, details=details,
            keywords=list(dict.fromkeys(d.lower() for d, _ in labels)),
            title=title, alt_text=alt,
            confidence=min(1.0, max(0.0, labels[0][1])) if labels else 0.0,
            extras=extras,
        )


def _response_error(error: dict[str, Any], *, retry_after: float) -> ProviderError:
    code, retryable = _RPC_CODES.get(error.get("code", 2), ("provider_error", False))
    return ProviderError(f"google could not describe the image: {str(error.get('message', ''))[:200]}",
                       code=code, retryable=retryable, retry_after=retry_after if code == "rate_limited" else None)


def _classify(status: int, message: str, data: Any) -> ProviderError | None:
    # Google answers a wrong or expired key with 400 INVALID_ARGUMENT (reason API_KEY_INVALID), not 401.
    if status == 400 and isinstance(data, dict) and isinstance(data.get("error"), dict):
        details = data["error"].get("details") or []
        reasons = {d.get("reason") for d in details if isinstance(d, dict)}
        if reasons & {"API_KEY_INVALID", "API_KEY_EXPIRED"} or "api key" in message.lower():
            return ProviderError(f"google refused the API key: {message}", code="auth_failed")
    return None


def from_settings(settings: Settings) -> GoogleVision:
    """The registry's builder (app/providers/registry.py), from VISION_GOOGLE_*."""
    return GoogleVision(settings.vision_google_api_key, settings.vision_google_endpoint,
                        http=HttpOptions(read_timeout=settings.vision_timeout_seconds))


def from_connection(conn: Snapshot, model: str) -> GoogleVision:
    """The registry's builder for a stored AI connection (app/services/ai/builders.py) running `model`."""
    return GoogleVision(conn.api_key, conn.base_url,
                        http=HttpOptions(read_timeout=get_settings().vision_timeout_seconds))
