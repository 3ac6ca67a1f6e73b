"""The one interface every vision provider implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

ALT_TEXT_MAX = 125


@dataclass(frozen=True)
class VisionRequest:
    image: bytes  # the original file's bytes (already checked by app.services.assets.images.inspect_image)
    mime: str  # e.g. "image/jpeg"
    filename: str  # the original file name, as uploaded (sanitised)
    keywords: tuple[str, ...] = ()  # the user's keywords for this batch
    language: str = "en"  # ISO 639-1; providers without language support answer in English
    want_alt_text: bool = True
    ocr: bool = True  # the local analyzer may skip OCR (it is the slow part)


@dataclass
class VisionResult:
    subject: str  # the main thing in the picture, a few words ("red bicycle")
    details: list[str]  # secondary things or qualities ("city street", "evening")
    keywords: list[str]  # tags, most relevant first, lower case
    title: str  # a short human title
    alt_text: str  # at most ALT_TEXT_MAX characters, a sentence describing the image
    confidence: float  # 0..1
    extras: dict[str, Any] = field(default_factory=dict)  # date, camera, place, colours, text, faces…


class VisionProvider(Protocol):
    name: str  # registry name, e.g. "local", "openai", "google"
    model: str  # model id, "" when not applicable
    supports_language: bool
    max_concurrency: int  # requests in flight at once for this provider

    def describe(self, request: VisionRequest) -> VisionResult: ...


def clip_alt_text(text: str) -> str:
    """Alt text within ALT_TEXT_MAX characters, cut on a word boundary."""
    text = " ".join((text or "").split())
    if len(text) <= ALT_TEXT_MAX:
        return text
    cut = text[: ALT_TEXT_MAX - 1].rsplit(" ", 1)[0].rstrip(",;:-")
    return cut + "…"
