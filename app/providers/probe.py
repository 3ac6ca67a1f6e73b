""""Test connection" for an AI connection an admin is adding: which models it offers, or what is wrong.

`probe(preset=…, base_url=…, api_key=…)` makes the provider's cheapest authenticated call(s), once, with no
retries and without the breakers of real calls, and answers a ProbeResult or raises ProbeFailed whose
`code` is one of dns, refused, tls, unauthorized, forbidden, not_found, wrong_api, timeout, http_error,
bad_config. No message, result or detail ever contains the key.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from app.providers.probes.base import CAPABILITIES, DEFAULT_BASE_URLS, Offer, ProbeFailed, ProbeResult
from app.providers.probes.bedrock import probe_bedrock
from app.providers.probes.hosted import probe_fal, probe_google_vision, probe_replicate, probe_stability
from app.providers.probes.local import probe_a1111, probe_comfyui, probe_ollama
from app.providers.probes.openai_like import probe_openai_like

__all__ = ["CAPABILITIES", "DEFAULT_BASE_URLS", "PRESETS", "Offer", "ProbeFailed", "ProbeResult", "probe"]

Prober = Callable[..., ProbeResult]
PRESETS: dict[str, Prober] = {
    "ollama": probe_ollama,
    "lmstudio": functools.partial(probe_openai_like, preset="lmstudio"),
    "openai_compatible": functools.partial(probe_openai_like, preset="openai_compatible"),
    "openai": functools.partial(probe_openai_like, preset="openai"),
    "openrouter": functools.partial(probe_openai_like, preset="openrouter"),
    "google_vision": probe_google_vision,
    "a1111": probe_a1111,
    "comfyui": probe_comfyui,
    "fal": probe_fal,
    "replicate": probe_replicate,
    "stability": probe_stability,
    "bedrock": probe_bedrock,
}
# Hosted APIs answer nothing useful without a key; a missing one is a form error, not a network test.
KEY_REQUIRED = {"openai": "OpenAI", "openrouter": "OpenRouter", "google_vision": "Google Cloud Vision",
                "fal": "fal", "replicate": "Replicate", "stability": "Stability AI"}


def probe(*, preset: str, base_url: str, api_key: str = "", options: dict[str, Any] | None = None,
          timeout: float = 10.0) -> ProbeResult:
    """Test one connection: the offers it lists, or ProbeFailed saying what to fix."""
    if preset not in PRESETS:
        raise ProbeFailed(f"Unknown provider preset {preset!r}; expected one of {', '.join(PRESETS)}.",
                          code="bad_config")
    if options is not None and not isinstance(options, dict):
        raise ProbeFailed("Connection options must be a JSON object.", code="bad_config")
    if not isinstance(timeout, int | float) or not 0 < timeout <= 120:
        raise ProbeFailed("The test timeout must be between 0 and 120 seconds.", code="bad_config")
    api_key = (api_key or "").strip()
    if preset in KEY_REQUIRED and not api_key:
        raise ProbeFailed(f"{KEY_REQUIRED[preset]} needs an API key.", code="bad_config")
    base = (base_url or "").strip() or DEFAULT_BASE_URLS[preset]
    if not base and preset == "openai_compatible":
        raise ProbeFailed("An OpenAI-compatible server needs a base URL, e.g. http://host:8000/v1.",
                          code="bad_config")
    return PRESETS[preset](base_url=base, api_key=api_key, options=dict(options or {}), timeout=float(timeout))
