"""Connection probes for hosted APIs (model lists, Cloud Vision, fal, Replicate, Stability, Bedrock) on real fakes,
and the rule that a key never shows in a result or a failure."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from app.providers.probe import Offer, ProbeFailed, ProbeResult, probe
from app.services.rename.vision.base import VisionRequest
from app.services.rename.vision.openai_compat import OpenAICompatibleVision
from tests.fake_image_providers import FakeStability
from tests.fake_model_lists import FakeModelLists
from tests.fake_ollama import FakeOllama
from tests.fake_providers import FakeGoogleVision
from tests.fake_queue_providers import FakeBedrock, FakeFal, FakeReplicate
from tests.images import jpeg


def failure(**kwargs: Any) -> ProbeFailed:
    with pytest.raises(ProbeFailed) as caught:
        probe(**kwargs)
    return caught.value


def by_id(result: ProbeResult) -> dict[str, Offer]:
    return {offer.id: offer for offer in result.offers}


# --- model lists ---------------------------------------------------------------------------------------------

def test_openai_infers_capabilities_from_ids() -> None:
    with FakeModelLists("openai", api_key="sk-live") as fake:
        result = probe(preset="openai", base_url=fake.base_url, api_key="sk-live")
    offers = by_id(result)
    assert all(o.guessed for o in result.offers)
    assert {i: o.capabilities for i, o in offers.items()} == {
        "gpt-4o": ("text", "vision"), "gpt-4.1-mini": ("text", "vision"), "gpt-5": ("text", "vision"),
        "o3": ("text", "vision"), "gpt-3.5-turbo": ("text",), "gpt-image-1": ("images",), "dall-e-3": ("images",),
        "omni-moderation-latest": ("moderation",)}  # embeddings, whisper and tts are left out
    assert fake.requests[0].headers["authorization"] == "Bearer sk-live"


def test_openrouter_uses_reported_modalities_and_checks_the_key() -> None:
    with FakeModelLists("openrouter", api_key="sk-or-good") as fake:
        result = probe(preset="openrouter", base_url=fake.base_url, api_key="sk-or-good")
        refused = failure(preset="openrouter", base_url=fake.base_url, api_key="sk-or-bad")
    assert by_id(result) == {
        "openai/gpt-4o": Offer("openai/gpt-4o", ("text", "vision"), label="gpt-4o"),
        "meta-llama/llama-3.3-70b-instruct": Offer("meta-llama/llama-3.3-70b-instruct", ("text",),
                                                   label="llama-3.3-70b-instruct"),
        "google/gemini-2.5-flash-image": Offer("google/gemini-2.5-flash-image", ("text", "vision", "images"),
                                               label="gemini-2.5-flash-image")}
    assert result.detail == {"models": 4, "is_free_tier": False}
    assert refused.code == "unauthorized"  # /models is public: /key is what refused it


def test_lmstudio_guesses_vision_from_the_family_name() -> None:
    with FakeModelLists("lmstudio") as fake:
        offers = by_id(probe(preset="lmstudio", base_url=fake.base_url))
    assert offers == {"qwen2.5-vl-7b-instruct": Offer("qwen2.5-vl-7b-instruct", ("text", "vision"), guessed=True),
                      "llama-3.2-3b-instruct": Offer("llama-3.2-3b-instruct", ("text",), guessed=True)}


# --- Google Cloud Vision ---------------------------------------------------------------------------------------

def test_google_vision_annotates_one_tiny_png() -> None:
    with FakeGoogleVision(api_key="AIza-good") as fake:
        result = probe(preset="google_vision", base_url=fake.endpoint, api_key="AIza-good")
        sent = fake.requests[0]
        bad_key = failure(preset="google_vision", base_url=fake.endpoint, api_key="AIza-bad")
        fake.queue("request_error", "forbidden")
        in_response = failure(preset="google_vision", base_url=fake.endpoint, api_key="AIza-good")
        disabled = failure(preset="google_vision", base_url=fake.endpoint, api_key="AIza-good")
    assert result.offers == [Offer("cloud-vision", ("vision",), label="Cloud Vision")]
    assert sent.json["requests"][0]["features"] == [{"type": "LABEL_DETECTION", "maxResults": 1}]
    assert (bad_key.code, in_response.code, disabled.code) == ("unauthorized", "unauthorized", "forbidden")
    assert "Bad image data" in in_response.message
    assert "Cloud Vision API has not been used" in disabled.message


# --- fal, Replicate, Stability ---------------------------------------------------------------------------------

def test_fal_checks_the_key_on_the_queue_and_looks_models_up() -> None:
    with FakeFal(api_key="fal-good") as fake:
        result = probe(preset="fal", base_url=fake.base_url, api_key="fal-good",
                       options={"models": ["fal-ai/flux/dev", "fal-ai/birefnet", "fal-ai/clarity-upscaler"]})
        status = fake.requests[0]
        lookup = fake.requests[1]
        refused = failure(preset="fal", base_url=fake.base_url, api_key="fal-bad")
        missing = failure(preset="fal", base_url=fake.base_url, api_key="fal-good",
                          options={"models": ["fal-ai/flux/devv"]})
    assert result.offers == [Offer("fal-ai/flux/dev", ("images",), label="FLUX.1 [dev]"),
                             Offer("fal-ai/birefnet", ("cutout",), guessed=True, label="BiRefNet Background Removal"),
                             Offer("fal-ai/clarity-upscaler", ("upscale",), guessed=True, label="Clarity Upscaler")]
    assert status.path.startswith("/fal-ai/flux/requests/") and status.path.endswith("/status")
    assert status.headers["authorization"] == "Key fal-good"
    assert lookup.path == "/v1/models"
    assert lookup.query["endpoint_id"] == ["fal-ai/flux/dev", "fal-ai/birefnet", "fal-ai/clarity-upscaler"]
    assert refused.code == "unauthorized"
    assert (missing.code, "'fal-ai/flux/devv'" in missing.message) == ("not_found", True)


def test_replicate_looks_each_model_up() -> None:
    with FakeReplicate(api_token="r8_good") as fake:
        fake.community["cjwbw/rembg"] = "fb8af171cfa1616ddcf1242c093f9c46bcada5ad4cf6f2fbe8b81b330ec5c003"
        result = probe(preset="replicate", base_url=fake.base_url, api_key="r8_good",
                       options={"models": ["black-forest-labs/flux-schnell", "cjwbw/rembg"],
                                "capabilities": {"cjwbw/rembg": ["cutout"]}})
        missing = failure(preset="replicate", base_url=fake.base_url, api_key="r8_good",
                          options={"models": ["nobody/nothing"]})
        refused = failure(preset="replicate", base_url=fake.base_url, api_key="r8_bad")
    assert [(o.id, o.capabilities, o.guessed) for o in result.offers] == [
        ("black-forest-labs/flux-schnell", ("images",), False), ("cjwbw/rembg", ("cutout",), False)]
    assert (missing.code, "'nobody/nothing'" in missing.message) == ("not_found", True)
    assert (refused.code, refused.message.startswith("The API token was refused (401).")) == ("unauthorized", True)


def test_stability_checks_the_account() -> None:
    with FakeStability(api_key="sk-stab-good") as fake:
        result = probe(preset="stability", base_url=fake.origin, api_key="sk-stab-good")
        refused = failure(preset="stability", base_url=fake.origin, api_key="sk-stab-bad")
    assert [(o.id, o.capabilities) for o in result.offers] == [
        ("core", ("images",)), ("ultra", ("images",)), ("sd3", ("images",)), ("fast", ("upscale",)),
        ("remove-background", ("cutout",))]
    assert "designer@example.com" not in repr(result)  # the account's e-mail is not ours to copy around
    assert refused.code == "unauthorized"


# --- Bedrock ---------------------------------------------------------------------------------------------------

def bedrock_options(fake: FakeBedrock, **more: Any) -> dict[str, Any]:
    return {"region": "us-east-1", "endpoint_url": fake.endpoint_url, "access_key_id": fake.access_key, **more}


def test_bedrock_lists_image_models_over_sigv4() -> None:
    with FakeBedrock() as fake:
        result = probe(preset="bedrock", base_url="", api_key=fake.secret_key, options=bedrock_options(fake))
        wrong_secret = failure(preset="bedrock", base_url="", api_key="not-the-secret", options=bedrock_options(fake))
        listed = fake.requests[0]
    assert [(o.id, o.capabilities) for o in result.offers] == [
        ("amazon.titan-image-generator-v2:0", ("images",)), ("amazon.nova-canvas-v1:0", ("images",)),
        ("stability.sd3-5-large-v1:0", ("images",)), ("stability.stable-image-remove-background-v1:0", ("cutout",))]
    assert listed.query == {"byOutputModality": ["IMAGE"]}
    assert fake.bad_signatures == 1
    assert wrong_secret.code == "unauthorized"
    assert result.detail == {"region": "us-east-1"}


def test_bedrock_unreachable_endpoints() -> None:
    refused = failure(preset="bedrock", base_url="", api_key="s", timeout=2,
                      options={"region": "us-east-1", "endpoint_url": "http://127.0.0.1:9", "access_key_id": "AKID"})
    dns = failure(preset="bedrock", base_url="", api_key="s", timeout=2,
                  options={"region": "us-east-1", "endpoint_url": "http://bedrock.invalid", "access_key_id": "AKID"})
    assert (refused.code, dns.code) == ("refused", "dns")


# --- keys never leak -------------------------------------------------------------------------------------------

KEY = "sk-SECRET-0123456789abcdef"


@contextmanager
def keyed(preset: str) -> Iterator[tuple[str, dict[str, Any], Callable[[str], None]]]:
    """A fake for the preset that accepts KEY, its base URL and options, and a way to make it fail with 500."""
    if preset in ("openai", "openrouter"):
        with FakeModelLists(preset, api_key=KEY) as fake:
            yield fake.base_url, {}, fake.queue
    elif preset == "google_vision":
        with FakeGoogleVision(api_key=KEY) as fake:
            yield fake.endpoint, {}, fake.queue
    elif preset == "fal":
        with FakeFal(api_key=KEY) as fake:
            yield fake.base_url, {}, fake.queue
    elif preset == "replicate":
        with FakeReplicate(api_token=KEY) as fake:
            yield fake.base_url, {}, fake.queue
    elif preset == "stability":
        with FakeStability(api_key=KEY) as fake:
            yield fake.origin, {}, fake.queue
    elif preset == "ollama":
        with FakeOllama(api_key=KEY) as fake:
            yield fake.base_url, {}, fake.queue
    elif preset == "bedrock":
        with FakeBedrock(secret_key=KEY) as fake:
            yield "", bedrock_options(fake), fake.queue


def assert_no_key(thing: Any) -> None:
    texts = [str(thing), repr(thing)]
    if isinstance(thing, ProbeFailed):
        texts += [thing.message, *map(str, thing.args)]
    assert all(KEY not in text and KEY[3:-3] not in text for text in texts), texts


@pytest.mark.parametrize("preset", ["openai", "openrouter", "google_vision", "fal", "replicate", "stability",
                                    "ollama", "bedrock"])
def test_the_key_never_shows(preset: str) -> None:
    with keyed(preset) as (base_url, options, queue):
        assert_no_key(probe(preset=preset, base_url=base_url, api_key=KEY, options=options))
        wrong = KEY + "-typo"  # servers that echo the presented key (FakeModelLists does) must be scrubbed
        refused = failure(preset=preset, base_url=base_url, api_key=wrong, options=options)
        assert refused.code == "unauthorized"
        assert_no_key(refused)
        queue("server_error")
        assert_no_key(failure(preset=preset, base_url=base_url, api_key=KEY, options=options))
    assert_no_key(failure(preset=preset, base_url="http://keyless.invalid", api_key=KEY,
                          options={**options, "endpoint_url": "http://keyless.invalid"}))


# --- FakeOllama answers the renamer's vision call --------------------------------------------------------------

def test_fake_ollama_describes_a_photo_for_the_renamer() -> None:
    with FakeOllama() as fake:
        fake.subject = "tabby cat"
        vision = OpenAICompatibleVision(fake.openai_base_url, "", "llava:7b", name="ollama")
        try:
            result = vision.describe(VisionRequest(image=jpeg(), mime="image/jpeg", filename="IMG_0001.jpg"))
        finally:
            vision.close()
    assert result.subject == "tabby cat"
    assert "tabby" in result.keywords and result.title == "Tabby cat"
    assert len(fake.images_seen) == 1 and fake.images_seen[0].startswith(b"\xff\xd8")
