"""Vision through any OpenAI-compatible chat completions API (OpenAI, OpenRouter, Ollama, LM Studio, vLLM)."""

from __future__ import annotations

import base64
import json
import math
import re
from typing import TYPE_CHECKING, Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from app.providers.errors import ProviderError
from app.providers.http import HttpOptions, RemoteClient, downscale_jpeg
from app.providers.presets import chat_base
from app.services.rename.vision.base import VisionRequest, VisionResult, clip_alt_text
from app.settings import get_settings

if TYPE_CHECKING:
    from app.services.ai.builders import Snapshot
    from app.settings import Settings

FIELDS = ("subject", "details", "keywords", "title", "alt_text", "confidence")
_STRINGS = {"type": "array", "items": {"type": "string"}}
# Sent to the model. Strict mode (OpenAI structured outputs) needs every field required and no extras.
RESPONSE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"subject": {"type": "string"}, "details": _STRINGS, "keywords": _STRINGS,
                   "title": {"type": "string"}, "alt_text": {"type": "string"}, "confidence": {"type": "number"}},
    "required": list(FIELDS),
    "additionalProperties": False,
}
# Used to check answers: servers that ignore response_format (older Ollama, some LM Studio models) may add
# fields or drop the minor ones, which we tolerate; the fields names are made from must be there.
_ANSWER_VALIDATOR = Draft202012Validator({**RESPONSE_SCHEMA, "required": ["subject", "keywords", "title", "alt_text"],
                                          "additionalProperties": True})

NO_IMAGE = "NO_IMAGE"  # what the prompt asks a model to put in `subject` when it received no picture
_LANGUAGES = {"en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian",
              "pt": "Portuguese", "nl": "Dutch", "pl": "Polish", "sv": "Swedish", "da": "Danish", "no": "Norwegian",
              "fi": "Finnish", "cs": "Czech", "tr": "Turkish", "ru": "Russian", "uk": "Ukrainian", "ja": "Japanese",
              "zh": "Chinese", "ko": "Korean", "ar": "Arabic", "hi": "Hindi"}

_ERROR_ABOUT_IMAGES = re.compile(r"image|vision|multi-?modal", re.I)
_ERROR_REFUSES = re.compile(
    r"not supported|unsupported|(?:does|do|is) not support|doesn't support|only supported|not (?:a )?multi-?modal"
    r"|missing data required for image|at most 0 image|no endpoints found that support", re.I)
_ANSWER_CANNOT_SEE = re.compile(
    r"\b(?:cannot|can ?not|can't|unable to|not able to|(?:do not|don't) have the ability to)\s+"
    r"(?:see|view|access|process|analy[sz]e|open|look at|perceive|interpret)\b[^.]{0,40}?"
    r"\b(?:images?|pictures?|photos?|photographs?)\b"
    r"|\bno (?:image|picture|photo)s? (?:was |were |is |has been )?(?:provided|attached|included|shared|uploaded)"
    r"|\bI (?:do not|don't) see (?:an?|any) (?:image|picture|photo)", re.I)


def error_says_no_vision(message: str) -> bool:
    """True for API errors meaning "this model does not take images" (OpenAI, LM Studio, vLLM, Ollama…)."""
    return bool(_ERROR_ABOUT_IMAGES.search(message) and _ERROR_REFUSES.search(message))


def answer_says_cannot_see(text: str) -> bool:
    """True when a text-only model answered that it got no picture ("I can't see images")."""
    return NO_IMAGE in text or bool(_ANSWER_CANNOT_SEE.search(text))


def build_prompt(request: VisionRequest) -> str:
    language = _LANGUAGES.get(request.language, f"the language with ISO 639-1 code '{request.language}'")
    # Hints are the user's own input; json.dumps quotes them so they read as data, not as instructions.
    keywords = json.dumps([k[:50] for k in request.keywords[:20]], ensure_ascii=False)
    filename = json.dumps(request.filename[:200], ensure_ascii=False)
    return (
        "Describe the attached picture so it can be given a search-friendly file name and alt text.\n"
        "Answer with one JSON object only, with these fields:\n"
        "- subject: the main thing in the picture, 1 to 4 words\n"
        "- details: up to 5 secondary things or qualities (setting, colors, mood, time of day)\n"
        "- keywords: 5 to 10 search keywords, most relevant first\n"
        "- title: a short human title, at most 8 words\n"
        "- alt_text: one sentence describing the picture for someone who cannot see it, at most 125 characters,"
        " not starting with 'image of' or 'picture of'\n"
        "- confidence: how sure you are of the subject, from 0 to 1\n"
        f"Write every text value in {language}.\n"
        f"Hints, which may be wrong or empty: the user's keywords {keywords}; the original file name {filename}. "
        "Use a hint only when the picture agrees with it.\n"
        f"If you cannot see any picture, set subject to \"{NO_IMAGE}\" and confidence to 0."
    )


def _clean(text: Any, limit: int) -> str:
    return " ".join(str(text).split())[:limit]


def _unique(values: list[str], *, lower: bool, limit: int) -> list[str]:
    seen: dict[str, str] = {}
    for value in values:
        value = _clean(value, 60).strip(" ,.;:#")
        value = value.lower() if lower else value
        if value and value.lower() not in seen:
            seen[value.lower()] = value
    return list(seen.values())[:limit]


def _content_text(data: Any) -> tuple[str, str]:
    """(content, refusal) of the first choice; a bad_response when the envelope is not a chat completion."""
    try:
        message = data["choices"][0]["message"]
        content, refusal = message.get("content"), message.get("refusal")
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        raise ProviderError("the answer is not a chat completion (no choices[0].message)", code="bad_response") from exc
    if isinstance(content, list):  # some servers send content parts even for plain text
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    if content is not None and not isinstance(content, str):
        raise ProviderError("the answer's message content is not text", code="bad_response")
    return content or "", refusal if isinstance(refusal, str) else ""


def _parse_json_object(content: str) -> Any:
    text = content.strip()
    fenced = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", text, re.S)
    if fenced:  # models without structured output like to wrap JSON in a Markdown fence
        text = fenced.group(1)
    try:
        return json.loads(text)
    except ValueError:
        start, end = text.find("{"), text.rfind("}")
        if 0 <= start < end:  # a JSON object inside some chatter
            try:
                return json.loads(text[start:end + 1])
            except ValueError:
                pass
    return None


class OpenAICompatibleVision:
    """A VisionProvider for `POST {base_url}/chat/completions` with an image and a JSON-schema answer.

    Thread-safe; `describe` raises ProviderError only (codes in app.providers.http, plus model_cannot_see).
    """

    supports_language = True

    def __init__(self, base_url: str, api_key: str, model: str, *, name: str = "openai", max_concurrency: int = 4,
                 max_image_side: int = 1024, http: HttpOptions | None = None):
        if not base_url or not model:
            raise ValueError("an OpenAI-compatible provider needs a base URL and a model")
        self.name = name
        self.model = model
        self.max_concurrency = max(1, max_concurrency)
        self.max_image_side = max_image_side
        self.url = base_url.rstrip("/") + "/chat/completions"
        # Local servers (Ollama, LM Studio) need no key; sending an empty Bearer would upset some proxies.
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._remote = RemoteClient(name, options=http, headers=headers, max_connections=self.max_concurrency,
                                    classify=self._classify)

    def close(self) -> None:
        self._remote.close()

    def payload(self, request: VisionRequest) -> dict[str, Any]:
        """The request body. Only widely supported fields: no temperature or max_tokens, which some
        reasoning models reject outright."""
        image = downscale_jpeg(request.image, max_side=self.max_image_side)
        data_url = "data:image/jpeg;base64," + base64.b64encode(image).decode("ascii")
        return {
            "model": self.model,
            "messages": [{"role": "user", "content": [
                {"type": "text", "text": build_prompt(request)},
                {"type": "image_url", "image_url": {"url": data_url}},
            ]}],
            "response_format": {"type": "json_schema", "json_schema": {
                "name": "image_description", "strict": True, "schema": RESPONSE_SCHEMA}},
        }

    def describe(self, request: VisionRequest) -> VisionResult:
        data = self._remote.post_json(self.url, self.payload(request))
        content, refusal = _content_text(data)
        if not content:
            if refusal and answer_says_cannot_see(refusal):
                raise self._cannot_see(refusal)
            raise ProviderError(f"{self.name} gave no answer" + (f" (refusal: {refusal[:200]})" if refusal else ""),
                              code="bad_response")
        answer = _parse_json_object(content)
        if answer is None:
            if answer_says_cannot_see(content):
                raise self._cannot_see(content)
            raise ProviderError(f"{self.name}'s answer is not JSON: {_clean(content, 120)!r}", code="bad_response")
        error = best_match(_ANSWER_VALIDATOR.iter_errors(answer))
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "answer"
            raise ProviderError(f"{self.name}'s answer has the wrong shape at {where}: {error.message[:150]}",
                              code="bad_response")
        said = " ".join(str(answer.get(f, "")) for f in ("subject", "title", "alt_text"))
        if answer_says_cannot_see(said):
            raise self._cannot_see(said)
        return self._result(answer, data)

    def _result(self, answer: dict[str, Any], data: dict[str, Any]) -> VisionResult:
        subject = _clean(answer["subject"], 80)
        confidence = answer.get("confidence", 0.5)  # only sloppy servers omit it; "unsure" is the honest default
        confidence = 0.0 if not isinstance(confidence, int | float) or math.isnan(confidence) else confidence
        extras: dict[str, Any] = {"provider": self.name, "model": str(data.get("model") or self.model)}
        if isinstance(data.get("usage"), dict):  # token counts, for cost accounting
            extras["usage"] = {k: v for k, v in data["usage"].items() if isinstance(v, int)}
        return VisionResult(
            subject=subject,
            details=_unique(answer.get("details", []), lower=False, limit=8),
            keywords=_unique(answer["keywords"], lower=True, limit=20),
            title=_clean(answer["title"], 120) or subject.capitalize(),
            alt_text=clip_alt_text(answer["alt_text"]),
            confidence=min(1.0, max(0.0, float(confidence))),
            extras=extras,
        )

    def _classify(self, status: int, message: str, data: Any) -> ProviderError | None:
        if status in (400, 404, 422) and error_says_no_vision(message):
            return ProviderError(f"the model {self.model!r} on {self.name} does not take images ({message}); "
                               "choose a vision model", code="model_cannot_see")
        return None

    def _cannot_see(self, said: str) -> ProviderError:
        return ProviderError(f"the model {self.model!r} on {self.name} says it cannot see the image "
                           f"({_clean(said, 120)!r}); choose a vision model", code="model_cannot_see")


def from_settings(settings: Settings) -> OpenAICompatibleVision:
    """The registry's builder (app/providers/registry.py), from VISION_OPENAI_*."""
    return OpenAICompatibleVision(settings.vision_openai_base_url, settings.vision_openai_api_key,
                                  settings.vision_openai_model, name="openai",
                                  max_concurrency=settings.vision_openai_concurrency,
                                  http=HttpOptions(read_timeout=settings.vision_timeout_seconds))


def from_connection(conn: Snapshot, model: str) -> OpenAICompatibleVision:
    """The registry's builder for a stored AI connection (app/services/ai/builders.py) running `model`."""
    settings = get_settings()
    return OpenAICompatibleVision(chat_base(conn.preset, conn.base_url), conn.api_key, model, name=conn.name,
                                  max_concurrency=settings.vision_openai_concurrency,
                                  http=HttpOptions(read_timeout=settings.vision_timeout_seconds))
