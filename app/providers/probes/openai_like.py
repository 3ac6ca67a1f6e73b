"""Probes for OpenAI-style `GET {base}/models` lists: OpenAI, OpenRouter, LM Studio, any compatible server."""

from __future__ import annotations

from typing import Any

from app.providers.probes.base import Offer, ProbeResult
from app.providers.probes.naming import is_chat_model, local_chat_capabilities, openai_capabilities
from app.providers.probes.transport import ProbeSession

_NAMES = {"openai": ("OpenAI", "the OpenAI API"), "openrouter": ("OpenRouter", "the OpenRouter API"),
          "lmstudio": ("LM Studio", "LM Studio's OpenAI-compatible server (its base URL ends in /v1)"),
          "openai_compatible": ("The server", "an OpenAI-compatible API (the base URL usually ends in /v1)")}
_HINTS = {"lmstudio": "Is LM Studio's server started (Developer tab, or `lms server start`)?",
          "openai_compatible": "Is the server running on this address and port?"}


def probe_openai_like(*, preset: str, base_url: str, api_key: str, options: dict[str, Any],
                      timeout: float) -> ProbeResult:
    service, looks_like = _NAMES[preset]
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else None
    with ProbeSession(service=service, base_url=base_url, timeout=timeout, looks_like=looks_like,
                      refused_hint=_HINTS.get(preset, ""), headers=headers, secrets=(api_key,),
                      verify_tls=options.get("verify_tls", True)) as session:
        data = session.call("GET", "/models")
        entries = data.get("data") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            raise session.wrong_shape("GET /models", "a data list")
        entries = [e for e in entries if isinstance(e, dict) and isinstance(e.get("id"), str) and e["id"]]
        detail: dict[str, Any] = {"models": len(entries)}
        if preset == "openrouter":
            offers = [o for o in map(_openrouter_offer, entries) if o is not None]
            # OpenRouter lists models to anyone; /key is what proves the key.
            key = session.call("GET", "/key")
            if isinstance(key, dict) and isinstance(key.get("data"), dict):
                detail["is_free_tier"] = bool(key["data"].get("is_free_tier"))
        elif preset == "openai":
            offers = [Offer(e["id"], caps, guessed=True) for e in entries if (caps := openai_capabilities(e["id"]))]
        else:
            offers = [Offer(e["id"], local_chat_capabilities(e["id"]), guessed=True) for e in entries
                      if is_chat_model(e["id"])]
        return ProbeResult(offers, session.latency_ms, detail)


def _openrouter_offer(entry: dict[str, Any]) -> Offer | None:
    architecture = entry.get("architecture") if isinstance(entry.get("architecture"), dict) else {}
    inputs, outputs = architecture.get("input_modalities"), architecture.get("output_modalities")
    if not isinstance(inputs, list) or not isinstance(outputs, list):
        return Offer(entry["id"], local_chat_capabilities(entry["id"]), guessed=True, label=str(entry.get("name", "")))
    capabilities = []
    if "text" in outputs:
        capabilities.append("text")
        if "image" in inputs:
            capabilities.append("vision")
    if "image" in outputs:
        capabilities.append("images")
    if not capabilities:
        return None  # audio or embedding models
    return Offer(entry["id"], tuple(capabilities), label=str(entry.get("name") or ""))
