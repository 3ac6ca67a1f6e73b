"""The one table of AI providers that settings can turn on: name, kind, label, configured(settings),
build(settings).

Settings validation (IMAGE_TIMEOUTS names), the pickers (generation and vision registries), the worker
preload and health read it; nothing else lists provider names. Each row names its adapter module,
imported only when the provider is built (or by the worker's preload, so forked work horses start warm);
that module defines `from_settings(settings)` and, for providers an admin can connect in the app,
`from_connection(conn, model)` (app/services/ai/builders.py finds the row by the connection's preset);
image adapters also define `settings_connection(settings)`, what app/services/ai/seed.py seeds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Any, Literal

from app.providers.presets import CHAT_PRESETS

if TYPE_CHECKING:
    from app.services.ai.builders import Snapshot
    from app.settings import Settings

Kind = Literal["images", "vision"]


@dataclass(frozen=True)
class ProviderSpec:
    name: str  # the name settings use: IMAGE_DEFAULT_PROVIDER, IMAGE_TIMEOUTS, PROVIDER_PRICES
    kind: Kind
    label: str  # what pickers and messages call it
    module: str  # the adapter module; it defines from_settings(settings)
    configured: Callable[[Settings], bool]  # set up by the settings given (no I/O)
    local: bool = False  # runs offline in this process: never seeded into an AI connection
    # The AI connection presets (app/providers/presets.py) whose connections this adapter serves for `kind`;
    # empty: the preset of the same name.
    presets: tuple[str, ...] = ()

    @property
    def seed_key(self) -> str:
        """The key app/services/ai/seed.py records when it turns these settings into an AI connection."""
        return f"{'image' if self.kind == 'images' else self.kind}:{self.name}"

    def build(self, settings: Settings) -> Any:
        """A new client from settings (callers cache it: providers are thread-safe and own their pools)."""
        return import_module(self.module).from_settings(settings)

    def connect(self, conn: Snapshot, model: str) -> Any:
        """A new client for a stored AI connection running `model` (app/services/ai/resolve.py caches it)."""
        return import_module(self.module).from_connection(conn, model)


def _always(settings: Settings) -> bool:
    return True


PROVIDERS: tuple[ProviderSpec, ...] = (
    # Image generation (the Generate page, slide pictures, the API).
    ProviderSpec("local", "images", "Local design engine (offline)", "app.services.generation.local.engine",
                 _always, local=True),
    ProviderSpec("openai", "images", "OpenAI Images (or compatible)", "app.services.generation.adapters.openai_images",
                 lambda s: bool(s.image_openai_base_url)),
    ProviderSpec("a1111", "images", "AUTOMATIC1111 / Forge", "app.services.generation.adapters.a1111",
                 lambda s: bool(s.image_a1111_url)),
    ProviderSpec("comfyui", "images", "ComfyUI", "app.services.generation.adapters.comfyui",
                 lambda s: bool(s.image_comfyui_url)),
    ProviderSpec("fal", "images", "fal.ai", "app.services.generation.adapters.fal", lambda s: bool(s.image_fal_key)),
    ProviderSpec("replicate", "images", "Replicate", "app.services.generation.adapters.replicate",
                 lambda s: bool(s.image_replicate_api_token)),
    ProviderSpec("stability", "images", "Stability AI", "app.services.generation.adapters.stability",
                 lambda s: bool(s.image_stability_api_key)),
    ProviderSpec("bedrock", "images", "AWS Bedrock", "app.services.generation.adapters.bedrock",
                 lambda s: bool(s.image_bedrock_region)),
    # Vision (the renamer). No key needed for OpenAI-compatible: Ollama, LM Studio and vLLM take none.
    ProviderSpec("local", "vision", "Local analyzer (offline)", "app.services.rename.vision.local", _always,
                 local=True),
    ProviderSpec("openai", "vision", "OpenAI-compatible vision model", "app.services.rename.vision.openai_compat",
                 lambda s: bool(s.vision_openai_base_url and s.vision_openai_model), presets=CHAT_PRESETS),
    ProviderSpec("google", "vision", "Google Cloud Vision", "app.services.rename.vision.google",
                 lambda s: bool(s.vision_google_api_key), presets=("google_vision",)),
)


def of_kind(kind: Kind) -> dict[str, ProviderSpec]:
    """The providers of one kind by name, in table order (pickers list them so)."""
    return {spec.name: spec for spec in PROVIDERS if spec.kind == kind}


def names(kind: Kind) -> tuple[str, ...]:
    return tuple(of_kind(kind))


def find(kind: Kind, name: str) -> ProviderSpec | None:
    return of_kind(kind).get(name)


def for_preset(kind: Kind, preset: str) -> ProviderSpec | None:
    """The adapter that serves `kind` for connections of `preset`; None when the preset cannot do it."""
    for spec in PROVIDERS:
        if spec.kind == kind and not spec.local and preset in (spec.presets or (spec.name,)):
            return spec
    return None


def adapter_modules() -> tuple[str, ...]:
    """Every adapter module once (the worker imports them before it forks)."""
    return tuple(dict.fromkeys(spec.module for spec in PROVIDERS))
