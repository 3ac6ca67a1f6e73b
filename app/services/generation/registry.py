"""Image-generation providers by name, built from settings once and shared (they are thread-safe)."""

from __future__ import annotations

from typing import Any

from app.errors import ValidationFailed
from app.process_cache import ForkSafeCache
from app.providers import registry as providers
from app.services.generation.base import Capabilities, ImageProvider
from app.settings import get_settings

# name → label, in table order (app/providers/registry.py is the one list of provider names).
LABELS = {name: spec.label for name, spec in providers.of_kind("images").items()}

# name → (the settings object it was built from, the provider); new settings mean a rebuild.
# A forked work horse builds its own (see app.process_cache).
_cache = ForkSafeCache()


def connection_ref(name: str) -> str | None:
    """The stored AI connection `name` stands for: itself when it is a "conn:" ref, the connection a
    settings-configured provider was seeded into, or None when settings still rule (never seeded)."""
    from app.services.ai import resolve, seed

    if resolve.is_ref(name):
        return name
    spec = providers.find("images", name)
    if spec is not None and not spec.local:
        ref = seed.seeded_ref(spec.seed_key)
        if ref == "":
            raise ValidationFailed(f"The image provider {LABELS[name]!r} was moved to the AI connections page and is "
                                   "no longer there (or is disabled).", code="provider_not_configured")
        return ref
    return None


def label(name: str) -> str:
    """What pages call a provider name or a connection ref."""
    from app.services.ai import resolve

    if resolve.is_ref(name):
        return resolve.label(name) or "A removed AI connection"
    return LABELS.get(name, name)


def default_name() -> str:
    """The images default: the admins' default connection, else IMAGE_DEFAULT_PROVIDER."""
    from app.services.ai import resolve

    return resolve.default_ref("images") or get_settings().image_default_provider


def get_provider(name: str) -> ImageProvider:
    """The provider registered as `name` (or the AI connection a "conn:<id>:<model>" ref names);
    ValidationFailed (422) when unknown or not configured."""
    if name != "local":
        ref = connection_ref(name)
        if ref is not None:
            from app.services.ai import resolve

            return resolve.client("images", ref)
    if name not in LABELS:
        raise ValidationFailed(f"There is no image provider called {name!r}.", code="unknown_provider")
    settings = get_settings()
    with _cache.lock:
        cached = _cache.get(name)
        if cached is not None and cached[0] is settings:
            return cached[1]
        spec = providers.of_kind("images")[name]
        if not spec.configured(settings):
            raise ValidationFailed(f"The image provider {LABELS[name]!r} is not set up on this server.",
                                   code="provider_not_configured")
        provider = spec.build(settings)
        _cache[name] = (settings, provider)
        return provider


def available_providers(*, configured_only: bool = False) -> list[dict[str, Any]]:
    """Every provider with its capabilities (no secrets); the Generate page and the API list them."""
    from app.services.ai import resolve, seed

    settings = get_settings()
    rows = []
    for choice in resolve.choices("images"):
        try:
            caps = get_provider(choice["value"]).capabilities
        except ValidationFailed:
            continue
        rows.append({"name": choice["value"], "label": choice["label"], "configured": True,
                     "capabilities": caps.as_dict(), "default": choice["default"]})
    has_default = any(row["default"] for row in rows)
    for name, spec in providers.of_kind("images").items():
        if not spec.local and seed.seeded_ref(spec.seed_key) is not None:
            continue  # it became a connection (listed above when it still exists)
        ok = spec.configured(settings)
        if configured_only and not ok:
            continue
        try:
            caps = get_provider(name).capabilities if ok else Capabilities()
        except ValidationFailed:  # set up, but wrongly (e.g. a bad workflow file): offered as not configured
            ok, caps = False, Capabilities()
            if configured_only:
                continue
        rows.append({"name": name, "label": spec.label, "configured": ok, "capabilities": caps.as_dict(),
                     "default": not has_default and name == settings.image_default_provider})
    return rows


def reset_providers() -> None:
    """Forget every built provider (tests; or after provider settings change at run time)."""
    with _cache.lock:
        built = [provider for _, provider in _cache.values()]
        _cache.clear()
    for provider in built:
        close = getattr(provider, "close", None)
        if callable(close):
            close()
