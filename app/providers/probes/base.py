"""What a "Test connection" answers: the offers a provider lists, or a ProbeFailed with a stable code."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.providers.errors import ProviderError

CAPABILITIES = ("vision", "text", "images", "cutout", "upscale", "moderation")
PROBE_CODES = frozenset({"dns", "refused", "tls", "unauthorized", "forbidden", "not_found", "wrong_api", "timeout",
                         "http_error", "bad_config"})

DEFAULT_BASE_URLS: dict[str, str] = {
    "ollama": "http://127.0.0.1:11434",
    "lmstudio": "http://127.0.0.1:1234/v1",
    "openai_compatible": "",  # no sensible default: the admin names the server
    "openai": "https://api.openai.com/v1",
    "openrouter": "https://openrouter.ai/api/v1",
    "google_vision": "https://vision.googleapis.com",
    "a1111": "http://127.0.0.1:7860",
    "comfyui": "http://127.0.0.1:8188",
    "fal": "https://queue.fal.run",
    "replicate": "https://api.replicate.com",
    "stability": "https://api.stability.ai",
    "bedrock": "",  # boto3 builds the endpoint from options["region"]
}


@dataclass(frozen=True)
class Offer:
    """One model, checkpoint, upscaler or workflow node a provider offers, and what it can do."""

    id: str  # as the provider names it
    capabilities: tuple[str, ...]  # a subset of CAPABILITIES
    guessed: bool = False  # inferred from the name, not reported by the provider
    label: str = ""


@dataclass(frozen=True)
class ProbeResult:
    offers: list[Offer]
    latency_ms: int  # of the cheapest call
    detail: dict[str, Any] = field(default_factory=dict)  # small JSON-able extras, never secrets


class ProbeFailed(ProviderError):
    """A connection test that failed; `code` is one of PROBE_CODES and `message` says what to fix."""

    def __init__(self, message: str, *, code: str):
        if code not in PROBE_CODES:
            raise ValueError(f"unknown probe failure code {code!r}")
        super().__init__(message, code=code)

    def __repr__(self) -> str:
        return f"ProbeFailed(code={self.code!r}, message={self.message!r})"
