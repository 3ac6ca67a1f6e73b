"""The provider registry table: the one list of provider names, read by settings, pickers and the worker."""

import pytest
from pydantic import ValidationError

from app.providers import registry
from app.settings import Settings

# What each remote provider needs in settings to be on (values are never used to call anyone here).
TURN_ON = {
    ("images", "openai"): {"image_openai_base_url": "http://127.0.0.1:9/v1"},
    ("images", "a1111"): {"image_a1111_url": "http://127.0.0.1:9"},
    ("images", "comfyui"): {"image_comfyui_url": "http://127.0.0.1:9"},
    ("images", "fal"): {"image_fal_key": "fal-test"},
    ("images", "replicate"): {"image_replicate_api_token": "r8-test"},
    ("images", "stability"): {"image_stability_api_key": "sk-test"},
    ("images", "bedrock"): {"image_bedrock_region": "us-east-1"},
    ("vision", "openai"): {"vision_openai_base_url": "http://127.0.0.1:9/v1", "vision_openai_model": "llava"},
    ("vision", "google"): {"vision_google_api_key": "g-test"},
}


def test_names_are_unique_per_kind_and_every_remote_one_is_covered_here():
    for kind in ("images", "vision"):
        names = [spec.name for spec in registry.PROVIDERS if spec.kind == kind]
        assert len(names) == len(set(names)) and "local" in names
    assert {(s.kind, s.name) for s in registry.PROVIDERS if not s.local} == set(TURN_ON)


@pytest.mark.parametrize("spec", registry.PROVIDERS, ids=lambda s: f"{s.kind}:{s.name}")
def test_each_row_is_off_without_its_settings_and_builds_its_adapter_with_them(spec):
    bare = Settings(_env_file=None)
    assert spec.configured(bare) is spec.local
    settings = Settings(_env_file=None, **TURN_ON.get((spec.kind, spec.name), {}))
    assert spec.configured(settings)
    provider = spec.build(settings)
    try:
        assert provider.name == spec.name  # the adapter answers to the name the table gives it
    finally:
        close = getattr(provider, "close", None)
        if callable(close):
            close()


def test_settings_validate_image_timeouts_against_the_table(monkeypatch):
    monkeypatch.setenv("IMAGE_TIMEOUTS", '{"fal": 30, "bedrock": 90}')
    assert Settings(_env_file=None).image_timeouts == {"fal": 30, "bedrock": 90}
    monkeypatch.setenv("IMAGE_TIMEOUTS", '{"google": 30}')  # a vision provider, not an image one
    with pytest.raises(ValidationError, match="providers are " + ", ".join(registry.names("images"))):
        Settings(_env_file=None)


def test_adapter_modules_list_each_module_of_the_table_once():
    modules = registry.adapter_modules()
    assert len(modules) == len(set(modules)) == len(registry.PROVIDERS)
    assert {spec.module for spec in registry.PROVIDERS} == set(modules)


def test_pickers_list_the_table_in_order(env):
    from app.services.generation import registry as images
    from app.services.rename.vision import registry as vision

    assert [row["name"] for row in images.available_providers()] == list(registry.names("images"))
    assert [row["name"] for row in vision.available_providers()] == list(registry.names("vision"))
    assert images.LABELS["bedrock"] == "AWS Bedrock" and vision.LABELS["google"] == "Google Cloud Vision"


def test_every_preset_that_offers_vision_or_images_has_the_adapter_that_connects_it():
    from app.providers.presets import PRESETS

    for preset in PRESETS.values():
        for kind in ("vision", "images"):
            assert (registry.for_preset(kind, preset.name) is not None) == (kind in preset.capabilities), preset.name


@pytest.mark.parametrize(("kind", "preset", "options"), [
    ("images", "openai", {}), ("images", "a1111", {}), ("images", "comfyui", {}), ("images", "fal", {}),
    ("images", "replicate", {}), ("images", "stability", {}), ("images", "bedrock", {"region": "us-east-1"}),
    ("vision", "ollama", {}), ("vision", "openrouter", {}), ("vision", "google_vision", {})])
def test_a_stored_connection_is_built_by_the_adapter_its_preset_names(kind, preset, options):
    from app.providers.presets import PRESETS
    from app.services.ai import builders

    conn = builders.Snapshot(id=7, version=1, preset=preset, name="Studio box", base_url=PRESETS[preset].base_url
                             or "http://127.0.0.1:9", api_key="user:key-test", options=options, enabled=True)
    spec = registry.for_preset(kind, preset)
    model = {"fal": "acme/model", "replicate": "acme/model", "stability": "core",
             "bedrock": "amazon.titan-image-generator-v2:0"}.get(preset, "some-model")
    client = builders.BUILDERS[kind](conn, model)
    try:
        assert type(client).__module__ == spec.module
    finally:
        close = getattr(client, "close", None)
        if callable(close):
            close()


def test_settings_seed_one_connection_per_image_provider_they_turn_on():
    from app.services.ai.seed import Seed, seeds

    on = {field: value for (kind, _), fields in TURN_ON.items() if kind == "images" for field, value in fields.items()}
    settings = Settings(_env_file=None, **on, image_default_provider="stability", image_a1111_auth="ada:pw",
                        image_comfyui_workflow="/srv/flow.json", image_bedrock_endpoint_url="https://bedrock.internal",
                        workflow_fal_upscale_model="fal-ai/esrgan", workflow_replicate_background_model="acme/rembg")
    local = "http://127.0.0.1:9"
    fal_steps = {"upscale": "fal-ai/esrgan", "cutout": "fal-ai/imageutils/rembg"}
    replicate_steps = {"upscale": "nightmareai/real-esrgan", "cutout": "acme/rembg"}
    assert seeds(settings) == [
        Seed("image:openai", "openai", "OpenAI (from settings)", local + "/v1", "", {},
             {"images": ["gpt-image-1"]}, {}),
        Seed("image:a1111", "a1111", "AUTOMATIC1111 / Forge (from settings)", local, "ada:pw", {},
             {"images": [""]}, {}),
        Seed("image:comfyui", "comfyui", "ComfyUI (from settings)", local, "", {"workflow": "/srv/flow.json"},
             {"images": ["sd_xl_base_1.0.safetensors"]}, {}),
        Seed("image:fal", "fal", "fal.ai (from settings)", "https://queue.fal.run", "fal-test",
             {"models": "fal-ai/flux/dev", "upscale_model": fal_steps["upscale"], "cutout_model": fal_steps["cutout"]},
             {"images": ["fal-ai/flux/dev"], **{cap: [model] for cap, model in fal_steps.items()}}, fal_steps),
        Seed("image:replicate", "replicate", "Replicate (from settings)", "https://api.replicate.com", "r8-test",
             {"models": "black-forest-labs/flux-schnell", "upscale_model": replicate_steps["upscale"],
              "cutout_model": replicate_steps["cutout"]},
             {"images": ["black-forest-labs/flux-schnell"], **{cap: [m] for cap, m in replicate_steps.items()}},
             {}),  # fal, seeded first, already holds both step defaults
        Seed("image:stability", "stability", "Stability AI (from settings)", "https://api.stability.ai", "sk-test", {},
             {"images": ["core"]}, {"images": "core"}),
        Seed("image:bedrock", "bedrock", "AWS Bedrock (from settings)", "", "",
             {"region": "us-east-1", "endpoint_url": "https://bedrock.internal"},
             {"images": ["amazon.titan-image-generator-v2:0"]}, {}),
    ]
