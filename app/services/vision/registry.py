"""Vision providers by name, built from settings once and shared (they are thread-safe)."""

from __future__ import annotations

from typing import Any

from app.errors import ValidationFailed
from app.process_cache import ForkSafeCache
from app.providers.http import HttpOptions
from app.services.vision.base import VisionProvider
from app.settings import get_settings

LABELS = {
    "local": "Local analyzer (offline)",
    "openai": "OpenAI-compatible vision model",
    "google": "Google Cloud Vision",
}

# name → (the settings object it was built from, the provider). A new settings object (tests clear
# get_settings' cache) means a rebuild, so nobody keeps talking to an old URL or key.
# A forked work horse builds its own (see app.process_cache).
_cache = ForkSafeCache()


def _get(settings: Any, field: str, default: Any) -> Any:
    # getattr: these fields may not exist yet in app.settings; a SecretStr is unwrapped.
    value = getattr(settings, field, default)
    return value.get_secret_value() if hasattr(value, "get_secret_value") else value


def _http(settings: Any) -> HttpOptions:
    return HttpOptions(read_timeout=float(_get(settings, "vision_timeout_seconds", 60.0)))


def _local_class() -> type | None:
    try:
        from app.services.vision.local import LocalAnalyzer
    except ImportError:  # not written yet, or a missing optional dependency
        return None
    return LocalAnalyzer


def _model(name: str, settings: Any) -> str:
    return str(_get(settings, "vision_openai_model", "")) if name == "openai" else ""


def _configured(name: str, settings: Any) -> bool:
    if name == "local":
        return _local_class() is not None
    if name == "openai":
        # No key needed: local servers (Ollama, LM Studio, vLLM) take none.
        return bool(_get(settings, "vision_openai_base_url", "") and _get(settings, "vision_openai_model", ""))
    return bool(_get(settings, "vision_google_api_key", ""))


def _build(name: str, settings: Any) -> VisionProvider:
    if name == "local":
        local = _local_class()
        if local is None:
            raise ValidationFailed("The local image analyzer is not available on this server.",
                                   code="provider_not_configured")
        return local()
    if name == "openai":
        from app.services.vision.openai_compat import OpenAICompatibleVision

        return OpenAICompatibleVision(
            str(_get(settings, "vision_openai_base_url", "")), str(_get(settings, "vision_openai_api_key", "")),
            str(_get(settings, "vision_openai_model", "")), name="openai",
            max_concurrency=int(_get(settings, "vision_openai_concurrency", 4)), http=_http(settings))
    from app.services.vision.google import GoogleVision

    return GoogleVision(str(_get(settings, "vision_google_api_key", "")),
                        str(_get(settings, "vision_google_endpoint", "https://vision.googleapis.com")),
                        http=_http(settings))


def connection_ref(name: str) -> str | None:
    """The stored AI connection `name` stands for: itself when it is a "conn:" ref, the connection a
    settings-configured provider was seeded into, or None when settings still rule (never seeded)."""
    from app.services.ai import resolve, seed

    if resolve.is_ref(name):
        return name
    if name in ("openai", "google"):
        ref = seed.seeded_ref(f"vision:{name}")
        if ref == "":
            raise ValidationFailed(f"The vision provider {LABELS[name]!r} was moved to the AI connections page and "
                                   "is no longer there (or is disabled).", code="provider_not_configured")
        return ref
    return None


def get_provider(name: str) -> VisionProvider:
    """The provider registered as `name` (or the AI connection a "conn:<id>:<model>" ref names);
    ValidationFailed (422) when unknown or not configured."""
    if name != "local":
        ref = connection_ref(name)
        if ref is not None:
            from app.services.ai import resolve

            return resolve.client("vision", ref)
    if name not in LABELS:
        raise ValidationFailed(f"There is no vision provider called {name!r}.", code="unknown_provider")
    settings = get_settings()
    with _cache.lock:  # built under the lock so concurrent first calls share one client and its connection pool
        cached = _cache.get(name)
        if cached is not None and cached[0] is settings:
            return cached[1]
        if not _configured(name, settings):
            raise ValidationFailed(f"The vision provider {LABELS[name]!r} is not set up on this server.",
                                   code="provider_not_configured")
        provider = _build(name, settings)
        # A provider built from older settings is not closed: a running job may still hold it.
        _cache[name] = (settings, provider)
        return provider


def available_providers() -> list[dict[str, Any]]:
    """Every registered provider with what the UI needs to offer it (no secrets): the stored AI
    connections' vision models first (the default at the top), then the built-in ones."""
    from app.services.ai import resolve, seed

    settings = get_settings()
    rows = [{"name": c["value"], "label": c["label"], "model": c["model"],
             "supports_language": c["preset"] != "google_vision",
             "configured": True, "default": c["default"]} for c in resolve.choices("vision")]
    for name, label in LABELS.items():
        if name != "local" and seed.seeded_ref(f"vision:{name}") is not None:
            continue  # it became a connection (listed above when it still exists)
        configured = _configured(name, settings)
        if name == "local":
            local = _local_class()
            supports_language = bool(getattr(local, "supports_language", False)) if local else False
        else:
            supports_language = name == "openai"
        rows.append({"name": name, "label": label, "model": _model(name, settings),
                     "supports_language": supports_language, "configured": configured, "default": False})
    return rows


def reset_providers() -> None:
    """Close and forget every built provider (tests; or after changing provider settings at run time)."""
    with _cache.lock:
        providers = [provider for _, provider in _cache.values()]
        _cache.clear()
    for provider in providers:
        close = getattr(provider, "close", None)
        if callable(close):
            close()
