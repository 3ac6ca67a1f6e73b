"""Vision providers by name, built from settings once and shared (they are thread-safe)."""

from __future__ import annotations

from typing import Any

from app.errors import ValidationFailed
from app.process_cache import ForkSafeCache
from app.providers import registry as providers
from app.services.rename.vision.base import VisionProvider
from app.settings import get_settings

# name → label, in table order (app/providers/registry.py is the one list of provider names).
LABELS = {name: spec.label for name, spec in providers.of_kind("vision").items()}

# name → (the settings object it was built from, the provider). A new settings object (tests clear
# get_settings' cache) means a rebuild, so nobody keeps talking to an old URL or key.
# A forked work horse builds its own (see app.process_cache).
_cache = ForkSafeCache()


def connection_ref(name: str) -> str | None:
    """The stored AI connection `name` stands for: itself when it is a "conn:" ref, the connection a
    settings-configured provider was seeded into, or None when settings still rule (never seeded)."""
    from app.services.ai import resolve, seed

    if resolve.is_ref(name):
        return name
    spec = providers.find("vision", name)
    if spec is not None and not spec.local:
        ref = seed.seeded_ref(spec.seed_key)
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
        spec = providers.of_kind("vision")[name]
        if not spec.configured(settings):
            raise ValidationFailed(f"The vision provider {LABELS[name]!r} is not set up on this server.",
                                   code="provider_not_configured")
        provider = spec.build(settings)
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
    for name, spec in providers.of_kind("vision").items():
        if not spec.local and seed.seeded_ref(spec.seed_key) is not None:
            continue  # it became a connection (listed above when it still exists)
        chat = name == "openai"  # the chat models write names in any language; the others in English only
        rows.append({"name": name, "label": spec.label, "model": settings.vision_openai_model if chat else "",
                     "supports_language": chat,
                     "configured": spec.configured(settings), "default": False})
    return rows


def reset_providers() -> None:
    """Close and forget every built provider (tests; or after changing provider settings at run time)."""
    with _cache.lock:
        built = [provider for _, provider in _cache.values()]
        _cache.clear()
    for provider in built:
        close = getattr(provider, "close", None)
        if callable(close):
            close()
