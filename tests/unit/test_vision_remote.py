"""Remote vision providers against fake APIs on real loopback HTTP servers."""

from __future__ import annotations

import base64
import io
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from email.utils import formatdate

import pytest
from PIL import Image

from app.errors import ValidationFailed
from app.providers.errors import ProviderError
from app.providers.http import HttpOptions, downscale_jpeg, parse_retry_after, reset_breakers
from app.services.rename.vision import registry
from app.services.rename.vision.base import ALT_TEXT_MAX, VisionRequest
from app.services.rename.vision.google import GoogleVision
from app.services.rename.vision.openai_compat import OpenAICompatibleVision
from app.settings import Settings
from tests import images
from tests.fake_providers import FakeGoogleVision, FakeOpenAI

# Small timeouts and backoffs keep every test well under a second.
FAST = HttpOptions(connect_timeout=0.5, read_timeout=0.3, retries=2, backoff=0.01, backoff_max=0.05,
                   retry_after_cap=2.0, breaker_fail_max=2, breaker_reset_seconds=30.0)
PHOTO = images.jpeg(640, 480, seed=1)


def ask(image: bytes = PHOTO, **changes) -> VisionRequest:
    fields = {"image": image, "mime": "image/jpeg", "filename": "IMG_0042.jpg", "keywords": ("bike shop",),
              "language": "de"}
    return VisionRequest(**{**fields, **changes})


def fails(provider, request: VisionRequest | None = None) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        provider.describe(request or ask())
    return caught.value


@pytest.fixture(autouse=True)
def _fresh_breakers() -> Iterator[None]:
    reset_breakers()
    yield
    reset_breakers()
    registry.reset_providers()


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def openai(fake_openai: FakeOpenAI) -> Iterator[OpenAICompatibleVision]:
    provider = OpenAICompatibleVision(fake_openai.base_url, "sk-test", "gpt-test", http=FAST)
    yield provider
    provider.close()


@pytest.fixture
def fake_google() -> Iterator[FakeGoogleVision]:
    with FakeGoogleVision() as fake:
        yield fake


@pytest.fixture
def google(fake_google: FakeGoogleVision) -> Iterator[GoogleVision]:
    provider = GoogleVision("g-test", fake_google.endpoint, http=FAST)
    yield provider
    provider.close()


def decoded_image(data_b64: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(data_b64)))


# --- OpenAI-compatible -------------------------------------------------------------------------------------


def test_openai_good_answer_is_normalised(openai, fake_openai):
    result = openai.describe(ask(images.jpeg(2000, 1500, seed=3)))

    assert result.subject == "red bicycle"
    assert result.keywords == ["bicycle", "red", "street", "urban"]
    assert result.details == ["city street", "evening light"]
    assert result.title == "Red bicycle on a city street"
    assert result.alt_text.startswith("A red bicycle") and len(result.alt_text) <= ALT_TEXT_MAX
    assert result.confidence == pytest.approx(0.92)
    assert result.extras["model"] == "gpt-test" and result.extras["usage"]["total_tokens"] == 876


def test_openai_request_carries_model_schema_hints_and_small_image(openai, fake_openai):
    openai.describe(ask(images.jpeg(2000, 1500, seed=3)))

    [sent] = fake_openai.requests
    assert sent.headers["authorization"] == "Bearer sk-test"
    body = sent.json
    assert body["model"] == "gpt-test"
    response_format = body["response_format"]
    assert response_format["type"] == "json_schema" and response_format["json_schema"]["strict"] is True
    schema = response_format["json_schema"]["schema"]
    assert set(schema["required"]) == {"subject", "details", "keywords", "title", "alt_text", "confidence"}
    [text, picture] = body["messages"][0]["content"]
    assert text["type"] == "text" and "German" in text["text"]
    assert '"IMG_0042.jpg"' in text["text"] and '"bike shop"' in text["text"]
    url = picture["image_url"]["url"]
    assert picture["type"] == "image_url" and url.startswith("data:image/jpeg;base64,")
    image = decoded_image(url.split(",", 1)[1])
    assert image.format == "JPEG" and image.size == (1024, 768)
    assert not image.getexif()  # metadata (GPS…) never leaves the server


def test_openai_clips_alt_text_clamps_confidence_and_accepts_fenced_json(openai, fake_openai):
    fake_openai.answer = ('```json\n{"subject": "dog", "details": [], "keywords": ["Dog", "DOG", " pet "], '
                          '"title": "A dog", "alt_text": "' + "A very good dog " * 20 + '", "confidence": 1.7}\n```')
    result = openai.describe(ask())
    assert result.keywords == ["dog", "pet"]
    assert len(result.alt_text) <= ALT_TEXT_MAX and result.alt_text.endswith("…")
    assert result.confidence == 1.0

    fake_openai.answer = {"subject": "dog", "details": [], "keywords": ["dog"], "title": "A dog",
                          "alt_text": "A dog.", "confidence": -3}
    assert openai.describe(ask()).confidence == 0.0


@pytest.mark.parametrize("mode", ["malformed_json", "malformed_body", "wrong_shape", "wrong_envelope"])
def test_openai_bad_answers_are_bad_response_and_not_retried(openai, fake_openai, mode):
    fake_openai.mode = mode
    error = fails(openai)
    assert error.code == "bad_response" and not error.retryable
    assert len(fake_openai.requests) == 1


def test_openai_timeout_is_retried_then_reported(openai, fake_openai):
    fake_openai.mode = "timeout"
    started = time.monotonic()
    error = fails(openai)
    assert error.code == "timeout" and error.retryable
    assert len(fake_openai.requests) == 3  # the first try and two retries
    assert time.monotonic() - started < 2.0


def test_openai_rate_limit_honours_retry_after_then_succeeds(openai, fake_openai):
    fake_openai.retry_after = "0.3"
    fake_openai.queue("rate_limited")
    assert openai.describe(ask()).subject == "red bicycle"
    first, second = fake_openai.requests
    assert second.at - first.at >= 0.28  # the server's pause, not our 10 ms backoff


def test_openai_rate_limit_longer_than_the_cap_goes_to_the_caller(openai, fake_openai):
    fake_openai.retry_after = "120"
    fake_openai.mode = "rate_limited"
    error = fails(openai)
    assert error.code == "rate_limited" and error.retryable and error.retry_after == 120
    assert len(fake_openai.requests) == 1


def test_openai_server_errors_then_success(openai, fake_openai):
    fake_openai.retry_after = "0"
    fake_openai.queue("server_error", "unavailable")
    assert openai.describe(ask()).subject == "red bicycle"
    assert len(fake_openai.requests) == 3


def test_openai_outage_opens_the_breaker_for_that_provider_only(openai, fake_openai):
    fake_openai.mode = "server_error"
    for _ in range(FAST.breaker_fail_max):
        error = fails(openai)
        assert error.code == "provider_error" and error.retryable
    sent = len(fake_openai.requests)
    assert sent == 3 * FAST.breaker_fail_max

    started = time.monotonic()
    error = fails(openai)
    assert error.code == "provider_unavailable" and error.retryable and error.retry_after == 30.0
    assert time.monotonic() - started < 0.2 and len(fake_openai.requests) == sent  # failed fast, nothing sent

    with FakeOpenAI() as healthy:
        other = OpenAICompatibleVision(healthy.base_url, "sk-test", "gpt-test", name="ollama", http=FAST)
        assert other.describe(ask()).subject == "red bicycle"
        other.close()


def test_openai_auth_failures_are_final_and_do_not_open_the_breaker(fake_openai):
    provider = OpenAICompatibleVision(fake_openai.base_url, "sk-wrong", "gpt-test", http=FAST)
    for _ in range(FAST.breaker_fail_max + 1):
        error = fails(provider)
        assert error.code == "auth_failed" and not error.retryable
    assert len(fake_openai.requests) == FAST.breaker_fail_max + 1  # never retried
    fake_openai.mode = "forbidden"
    assert fails(OpenAICompatibleVision(fake_openai.base_url, "sk-test", "m", http=FAST)).code == "auth_failed"


@pytest.mark.parametrize("message", [
    "Invalid content type. image_url is only supported by certain models.",  # OpenAI
    "Model does not support images. Please use a model that does.",  # LM Studio
    "'Qwen/Qwen2.5-7B-Instruct' is not a multimodal model",  # vLLM
    "this model is missing data required for image input",  # Ollama
    "No endpoints found that support image input",  # OpenRouter
])
def test_openai_non_vision_model_errors(openai, fake_openai, message):
    fake_openai.mode, fake_openai.no_vision_message = "no_vision", message
    error = fails(openai)
    assert error.code == "model_cannot_see" and not error.retryable
    assert len(fake_openai.requests) == 1


@pytest.mark.parametrize("message", ["Invalid image format, supported formats: png, jpeg",
                                     "model 'llama3.2-vision' not found, try pulling it first"])
def test_openai_other_client_errors_stay_bad_request(openai, fake_openai, message):
    fake_openai.mode, fake_openai.no_vision_message = "no_vision", message
    assert fails(openai).code == "bad_request"


def test_openai_model_saying_it_cannot_see(openai, fake_openai):
    fake_openai.mode = "cannot_see"
    assert fails(openai).code == "model_cannot_see"
    fake_openai.mode = "good"
    fake_openai.answer = {"subject": "NO_IMAGE", "details": [], "keywords": [], "title": "", "alt_text": "",
                          "confidence": 0}
    assert fails(openai).code == "model_cannot_see"


def test_openai_requests_run_concurrently(fake_openai):
    fake_openai.delay = 0.5
    provider = OpenAICompatibleVision(fake_openai.base_url, "sk-test", "gpt-test", max_concurrency=4,
                                      http=replace(FAST, read_timeout=3.0))
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(provider.describe, [ask(images.jpeg(320, 240, seed=s)) for s in range(4)]))
    elapsed = time.monotonic() - started
    provider.close()
    assert [r.subject for r in results] == ["red bicycle"] * 4
    assert elapsed < 1.2, f"4 requests of 0.5 s took {elapsed:.2f} s: they ran one at a time"


def test_unreachable_provider_is_unavailable():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    provider = OpenAICompatibleVision(f"http://127.0.0.1:{port}/v1", "", "m", http=FAST)
    error = fails(provider)
    assert error.code == "provider_unavailable" and error.retryable


# --- Image preparation -------------------------------------------------------------------------------------


def test_downscale_applies_orientation_flattens_alpha_and_rejects_junk():
    turned = Image.open(io.BytesIO(downscale_jpeg(images.jpeg(640, 480, exif=images.exif_with_orientation(6)),
                                                  max_side=1024)))
    assert turned.size == (480, 640)
    flat = Image.open(io.BytesIO(downscale_jpeg(images.png(320, 240), max_side=100)))
    assert flat.format == "JPEG" and flat.mode == "RGB" and flat.size == (100, 75)
    heic = images.encode(images.photo(400, 300), "HEIF")
    assert Image.open(io.BytesIO(downscale_jpeg(heic, max_side=200))).size == (200, 150)
    with pytest.raises(ProviderError) as caught:
        downscale_jpeg(b"not an image", max_side=100)
    assert caught.value.code == "bad_image"


def test_retry_after_header_forms():
    assert parse_retry_after("7") == 7.0 and parse_retry_after("-3") == 0.0
    assert 25 < parse_retry_after(formatdate(time.time() + 30, usegmt=True)) <= 30
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_runaway_answers_are_not_buffered(fake_openai):
    provider = OpenAICompatibleVision(fake_openai.base_url, "sk-test", "m", http=replace(FAST, max_response_bytes=200))
    assert fails(provider).code == "bad_response"


# --- Google Cloud Vision -----------------------------------------------------------------------------------


def test_google_good_answer_and_request_shape(google, fake_google):
    result = google.describe(ask(images.jpeg(2400, 1800, seed=2)))

    assert result.subject == "bicycle"
    assert result.keywords == ["bicycle", "wheel", "tire", "street", "vehicle"]
    assert result.details == ["wheel", "tire", "street"]  # "vehicle" scored too low to describe the picture
    assert result.title == "Bicycle, wheel and tire"
    assert result.alt_text == 'Bicycle with wheel, tire and street. Text: "OPEN 24 HOURS Bike repair".'
    assert result.confidence == pytest.approx(0.97)
    assert result.extras["text"] == "OPEN 24 HOURS\nBike repair"

    [sent] = fake_google.requests
    assert sent.query["key"] == ["g-test"]
    [item] = sent.json["requests"]
    assert item["features"] == [{"type": "LABEL_DETECTION", "maxResults": 10}, {"type": "TEXT_DETECTION"}]
    assert decoded_image(item["image"]["content"]).size == (1600, 1200)


def test_google_skips_text_detection_when_ocr_is_off(google, fake_google):
    result = google.describe(ask(ocr=False))
    assert [f["type"] for f in fake_google.requests[0].json["requests"][0]["features"]] == ["LABEL_DETECTION"]
    assert "text" not in result.extras and "Text:" not in result.alt_text


def test_google_nothing_recognised_is_an_empty_answer(google, fake_google):
    fake_google.labels, fake_google.text = [], ""
    result = google.describe(ask())
    assert (result.subject, result.keywords, result.alt_text, result.confidence) == ("", [], "", 0.0)


@pytest.mark.parametrize(("rpc", "code", "retryable"), [(3, "bad_image", False), (8, "rate_limited", True),
                                                         (14, "provider_error", True), (7, "auth_failed", False)])
def test_google_per_image_errors(google, fake_google, rpc, code, retryable):
    fake_google.mode, fake_google.request_error = "request_error", (rpc, "it went wrong")
    error = fails(google)
    assert (error.code, error.retryable) == (code, retryable) and "it went wrong" in error.message


@pytest.mark.parametrize("mode", ["malformed_json", "malformed_body", "wrong_shape"])
def test_google_bad_answers(google, fake_google, mode):
    fake_google.mode = mode
    error = fails(google)
    assert error.code == "bad_response" and not error.retryable


def test_google_wrong_key_and_missing_credentials_are_auth_failed(fake_google):
    wrong = GoogleVision("g-wrong", fake_google.endpoint, http=FAST)
    error = fails(wrong)
    assert error.code == "auth_failed" and "g-wrong" not in error.message  # Google says 400, we say auth_failed
    fake_google.mode = "unauthorized"
    assert fails(GoogleVision("g-test", fake_google.endpoint, http=FAST)).code == "auth_failed"
    assert len(fake_google.requests) == 2


def test_google_retries_rate_limits_and_server_errors(google, fake_google):
    fake_google.retry_after = "0"
    fake_google.queue("rate_limited", "server_error")
    assert google.describe(ask()).subject == "bicycle"
    assert len(fake_google.requests) == 3


def test_google_timeout_and_outage_then_breaker(google, fake_google):
    fake_google.mode = "timeout"
    assert fails(google).code == "timeout"
    fake_google.mode = "server_error"
    assert fails(google).code == "provider_error"
    sent = len(fake_google.requests)
    error = fails(google)
    assert error.code == "provider_unavailable" and len(fake_google.requests) == sent


# --- Registry ----------------------------------------------------------------------------------------------


def settings(**fields) -> Settings:
    return Settings(_env_file=None, **fields)


# The registry reads the AI connections table (stored connections, seeded settings): `env` gives it a database.
def test_registry_lists_providers_with_configured_flags(monkeypatch, env):
    current = settings(vision_openai_base_url="http://127.0.0.1:9/v1", vision_openai_model="llava")
    monkeypatch.setattr(registry, "get_settings", lambda: current)
    rows = {row["name"]: row for row in registry.available_providers()}
    assert set(rows) == {"local", "openai", "google"}
    assert rows["openai"] == {"name": "openai", "label": "OpenAI-compatible vision model", "model": "llava",
                              "supports_language": True, "configured": True, "default": False}
    assert rows["google"]["configured"] is False and rows["google"]["supports_language"] is False


def test_registry_builds_shares_and_rebuilds_providers(monkeypatch, fake_openai, fake_google, env):
    current = settings(vision_openai_base_url=fake_openai.base_url, vision_openai_api_key="sk-test",
                       vision_openai_model="gpt-test", vision_openai_concurrency=3, vision_timeout_seconds=5,
                       vision_google_api_key="g-test", vision_google_endpoint=fake_google.endpoint)
    monkeypatch.setattr(registry, "get_settings", lambda: current)
    provider = registry.get_provider("openai")
    assert (provider.name, provider.model, provider.max_concurrency) == ("openai", "gpt-test", 3)
    assert registry.get_provider("openai") is provider
    assert provider.describe(ask()).subject == "red bicycle"
    assert registry.get_provider("google").describe(ask()).subject == "bicycle"

    current = settings(vision_openai_base_url=fake_openai.base_url, vision_openai_model="other")
    assert registry.get_provider("openai").model == "other"  # new settings, new provider


def test_registry_refuses_unknown_and_unconfigured(monkeypatch, env):
    monkeypatch.setattr(registry, "get_settings", lambda: settings())
    with pytest.raises(ValidationFailed) as caught:
        registry.get_provider("dall-e")
    assert caught.value.code == "unknown_provider"
    with pytest.raises(ValidationFailed) as caught:
        registry.get_provider("google")
    assert caught.value.code == "provider_not_configured"
