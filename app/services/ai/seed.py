"""Environment variables become AI connections at first start (for people who deploy by config).

Each setting group is seeded once: an `ai_seed` row remembers it, so a connection an admin edits or
deletes afterwards stays as the admin left it — after the first start the stored connection wins and
the variables are no longer read for it. `python -m app.services.ai.seed` runs it (`make run` does).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from importlib import import_module
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from app.db import read_scope, session_scope
from app.models import AIConnection, AIDefault, AISeed
from app.providers import keybox, registry
from app.providers.presets import PRESETS
from app.settings import Settings, get_settings


@dataclass(frozen=True)
class Seed:
    key: str  # "image:fal"
    preset: str
    name: str
    base_url: str
    api_key: str
    options: dict[str, str]
    offers: dict[str, list[str]]  # capability → models named by the settings
    defaults: dict[str, str]  # capability → model this seed is the default for


def _chat_preset(url: str) -> str:
    host = urlsplit(url).hostname or ""
    if host == "api.openai.com":
        return "openai"
    if host == "openrouter.ai":
        return "openrouter"
    if urlsplit(url).port == 11434:
        return "ollama"
    if urlsplit(url).port == 1234:
        return "lmstudio"
    return "openai_compatible"


def _chat_url(preset: str, url: str) -> str:
    return url.rstrip("/").removesuffix("/v1") if preset == "ollama" else url.rstrip("/")


def seeds(s: Settings) -> list[Seed]:
    """What the settings configure, as connections (no I/O)."""
    found: list[Seed] = []
    image_default = s.image_default_provider
    if s.vision_openai_base_url and s.vision_openai_model:
        p = _chat_preset(s.vision_openai_base_url)
        found.append(Seed("vision:openai", p, "Vision (from settings)", _chat_url(p, s.vision_openai_base_url),
                          s.vision_openai_api_key, {}, {"vision": [s.vision_openai_model]},
                          {"vision": s.vision_openai_model}))
    if s.vision_google_api_key:
        found.append(Seed("vision:google", "google_vision", "Google Vision (from settings)", s.vision_google_endpoint,
                          s.vision_google_api_key, {}, {"vision": ["cloud-vision"]},
                          {} if any(f.defaults.get("vision") for f in found) else {"vision": "cloud-vision"}))
    if s.slides_openai_base_url and s.slides_openai_model:
        p = _chat_preset(s.slides_openai_base_url)
        found.append(Seed("text:slides", p, "Slide text (from settings)", _chat_url(p, s.slides_openai_base_url),
                          s.slides_openai_api_key, {}, {"text": [s.slides_openai_model]},
                          {"text": s.slides_openai_model}))
    if s.moderation_openai_base_url:
        p = "openai" if _chat_preset(s.moderation_openai_base_url) == "openai" else "openai_compatible"
        found.append(Seed("moderation:openai", p, "Moderation (from settings)", s.moderation_openai_base_url,
                          s.moderation_openai_api_key, {}, {"moderation": [s.moderation_openai_model]},
                          {"moderation": s.moderation_openai_model}))
    for spec in registry.PROVIDERS:  # image providers: each adapter says what its settings hold
        if spec.kind != "images" or spec.local or not spec.configured(s):
            continue
        preset = (spec.presets or (spec.name,))[0]
        url, key, model, options = import_module(spec.module).settings_connection(s)
        if not url and PRESETS[preset].needs_url:
            continue
        offers: dict[str, list[str]] = {"images": [model]}
        defaults = {"images": model} if image_default == spec.name else {}
        if spec.name in ("fal", "replicate"):  # they also run workflow steps, on WORKFLOW_<NAME>_*_MODEL
            fal = spec.name == "fal"
            steps = {"upscale": s.workflow_fal_upscale_model if fal else s.workflow_replicate_upscale_model,
                     "cutout": s.workflow_fal_background_model if fal else s.workflow_replicate_background_model}
            for capability, step_model in steps.items():
                if step_model:
                    offers[capability] = [step_model]
                    if not any(f.defaults.get(capability) for f in found):
                        defaults[capability] = step_model
            options = {"models": model, "upscale_model": steps["upscale"], "cutout_model": steps["cutout"]}
            options = {k: v for k, v in options.items() if v}
        found.append(Seed(spec.seed_key, preset, f"{PRESETS[preset].label} (from settings)", url.rstrip("/"), key,
                          options, offers, defaults))
    return found


def seed_from_settings(settings: Settings | None = None) -> list[str]:
    """Create the connections the settings configure that were never seeded; the keys seeded now."""
    settings = settings or get_settings()
    done = []
    for seed in seeds(settings):
        with read_scope() as session:
            if session.get(AISeed, seed.key) is not None:
                continue
        offers = [{"id": model, "capabilities": [cap], "guessed": False, "label": "named in settings"}
                  for cap, models in seed.offers.items() for model in models]
        try:
            with session_scope() as session:
                session.add(AISeed(key=seed.key))
                name = seed.name
                while session.exec(select(AIConnection.id).where(AIConnection.name == name)).first() is not None:
                    name += "′"
                row = AIConnection(preset=seed.preset, name=name, base_url=seed.base_url,
                                   secret=keybox.seal(seed.api_key, settings), options=dict(seed.options),
                                   offers=offers, seeded_from=seed.key)
                session.add(row)
                session.flush()
                for capability, model in seed.defaults.items():
                    if session.get(AIDefault, capability) is None:
                        price = settings.provider_prices.get(seed.key.split(":")[1], 0) if capability == "images" else 0
                        session.add(AIDefault(capability=capability, connection_id=row.id, model=model, price=price))
        except IntegrityError:
            continue  # another process seeded it at the same moment
        done.append(seed.key)
    return done


def seeded_ref(key: str) -> str | None:
    """For a settings-named provider ("image:openai"): None when never seeded (settings still rule),
    else the ref of the connection it became, "" when that connection is gone or disabled."""
    from app.services.ai.resolve import make_ref

    with read_scope() as session:
        if session.get(AISeed, key) is None:
            return None
        row = session.exec(select(AIConnection).where(AIConnection.seeded_from == key)).first()
        if row is None or not row.enabled:
            return ""
        offers = row.offers or []
        model = offers[0]["id"] if offers else ""
        return make_ref(row.id, model)


if __name__ == "__main__":
    seeded = seed_from_settings()
    sys.stderr.write(f"AI connections seeded from settings: {', '.join(seeded) or 'none new'}\n")
