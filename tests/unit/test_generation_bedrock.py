"""Amazon Bedrock adapter: real boto3 (SigV4-signed requests) against a fake bedrock-runtime on loopback."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError
from PIL import Image

from app.providers.http import HttpOptions, reset_breakers
from app.services.generation.adapters.bedrock import BedrockProvider, _from_client_error, model_family
from app.services.generation.base import GenerationRequest, GenerationStatus, ProviderError
from tests.fake_queue_providers import FakeBedrock

FAST = HttpOptions(connect_timeout=0.5, read_timeout=2.0, retries=2, backoff=0.01, backoff_max=0.05,
                   retry_after_cap=2.0, breaker_fail_max=2, breaker_reset_seconds=30.0,
                   max_response_bytes=64 * 1024 * 1024)
TITAN = "amazon.titan-image-generator-v2:0"
NOVA = "amazon.nova-canvas-v1:0"
SD35 = "stability.sd3-5-large-v1:0"


def ask(**changes) -> GenerationRequest:
    fields = {"prompt": "a lighthouse at dusk, watercolour", "width": 512, "height": 512, "n": 1, "seed": 7}
    return GenerationRequest(**{**fields, **changes})


def finish(provider: BedrockProvider, handle: dict, *, seconds: float = 10.0) -> GenerationStatus:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = provider.status(handle)
        if status.state != "running":
            return status
        time.sleep(0.005)
    raise AssertionError("the call never finished")


def fails(call, *args) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        call(*args)
    return caught.value


def size_of(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.size


@pytest.fixture(autouse=True)
def _aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Dummy credentials through boto3's usual chain; no local AWS config or instance metadata may leak in.
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN",
                 "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDFAKEBEDROCK")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fake-secret")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    reset_breakers()
    yield
    reset_breakers()


@pytest.fixture
def fake() -> Iterator[FakeBedrock]:
    with FakeBedrock() as server:
        yield server


@pytest.fixture
def make(fake: FakeBedrock) -> Iterator:
    built: list[BedrockProvider] = []

    def build(**options) -> BedrockProvider:
        provider = BedrockProvider(region="us-east-1", endpoint_url=fake.endpoint_url,
                                   http=options.pop("http", FAST), **options)
        built.append(provider)
        return provider

    yield build
    for provider in built:
        provider.close()


def test_titan_end_to_end_through_submit_status_result(make, fake):
    provider = make()
    handle = provider.submit(ask(n=2, negative_prompt="blurry, text"))
    assert finish(provider, handle).state == "succeeded"
    images = provider.result(handle)

    assert [size_of(i.data) for i in images] == [(512, 512), (512, 512)]
    assert {i.mime for i in images} == {"image/png"} and images[0].data != images[1].data
    assert images[0].seed == 7 and images[0].extras["model"] == TITAN
    [sent] = fake.requests
    assert sent.path == "/model/amazon.titan-image-generator-v2%3A0/invoke"
    assert sent.headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDFAKEBEDROCK/")
    assert fake.bad_signatures == 0  # the fake recomputed boto3's SigV4 signature and it matched
    assert sent.json == {"taskType": "TEXT_IMAGE", "textToImageParams": {
                         "text": "a lighthouse at dusk, watercolour", "negativeText": "blurry, text"},
                         "imageGenerationConfig": {"numberOfImages": 2, "width": 512, "height": 512, "seed": 7,
                                                   "quality": "standard", "cfgScale": 8.0}}


def test_nova_canvas_takes_free_sizes_and_wraps_the_seed(make, fake):
    provider = make(model=NOVA)
    [image] = provider.generate(ask(width=640, height=384, seed=900_000_000))
    assert size_of(image.data) == (640, 384)
    config = fake.requests[0].json["imageGenerationConfig"]
    assert config["seed"] == image.seed == 900_000_000 % 858_993_460
    assert config["cfgScale"] == 6.5
    assert fails(provider.generate, ask(width=4096, height=4096)).code == "bad_request"  # over 4.19 MP
    assert len(fake.requests) == 1


def test_stability_makes_one_call_per_image_with_consecutive_seeds(make, fake):
    provider = make(model=SD35)
    images = provider.generate(ask(width=1344, height=768, n=2, seed=5, negative_prompt="fog"))
    assert [size_of(i.data) for i in images] == [(1344, 768)] * 2
    assert [i.seed for i in images] == [5, 6]
    assert [r.json for r in fake.requests] == [
        {"prompt": "a lighthouse at dusk, watercolour", "seed": seed, "output_format": "png", "aspect_ratio": "16:9",
         "mode": "text-to-image", "negative_prompt": "fog"} for seed in (5, 6)]


def test_stability_filtered_prompt_is_a_clear_failure(make, fake):
    provider = make(model=SD35)
    fake.mode = "filtered"
    handle = provider.submit(ask(width=1024, height=1024))
    status = finish(provider, handle)
    assert status.state == "failed" and status.error_code == "bad_request"
    assert "Filter reason: prompt" in status.message


def test_requests_outside_the_model_are_refused_before_calling(make, fake):
    titan = make()
    for request in (ask(width=500), ask(n=6), ask(prompt="x" * 513), ask(negative_prompt="no"), ask(model=NOVA)):
        assert fails(titan.generate, request).code == "bad_request"
    assert fails(make(model=SD35).generate, ask(width=1000, height=1000)).code == "bad_request"
    assert fake.requests == []


def test_throttling_is_retried_then_succeeds(make, fake):
    fake.queue("rate_limited")
    assert len(make().generate(ask())) == 1
    assert len(fake.requests) == 2


def test_server_errors_open_the_breaker(make, fake):
    provider = make()
    fake.mode = "server_error"
    assert fails(provider.generate, ask()).code == "provider_error"
    assert fails(provider.generate, ask()).code == "provider_error"
    assert len(fake.requests) == 6  # two calls, three attempts each
    error = fails(provider.generate, ask())
    assert error.code == "provider_unavailable" and error.retryable
    assert len(fake.requests) == 6


@pytest.mark.parametrize(("mode", "code"), [("model_timeout", "provider_error"), ("unavailable", "provider_error"),
                                            ("unauthorized", "auth_failed"), ("forbidden", "auth_failed"),
                                            ("validation", "bad_request")])
def test_bedrock_error_codes_are_mapped(make, fake, mode, code):
    fake.mode = mode
    error = fails(make(http=HttpOptions(read_timeout=0.5, retries=0)).generate, ask())
    assert error.code == code
    assert fake.requests  # botocore parsed a real error answer, it did not fail locally


def test_read_timeout(make, fake):
    fake.queue("timeout")
    error = fails(make(http=HttpOptions(read_timeout=0.3, retries=0)).generate, ask())
    assert error.code == "timeout" and error.retryable


def test_wrong_secret_fails_the_signature_check(make, fake, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    error = fails(make().generate, ask())
    assert error.code == "auth_failed" and "signature" in str(error)
    assert fake.bad_signatures == 1


def test_no_credentials_is_auth_failed(make, fake, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    assert fails(make().generate, ask()).code == "auth_failed"
    assert fake.requests == []


@pytest.mark.parametrize("mode", ["malformed_body", "wrong_shape", "bad_base64", "not_image"])
def test_malformed_answers_are_bad_response(make, fake, mode):
    fake.mode = mode
    assert fails(make().generate, ask()).code == "bad_response"


def test_oversize_answer_is_refused(make, fake):
    error = fails(make(http=HttpOptions(read_timeout=0.5, retries=0, max_response_bytes=5_000)).generate, ask())
    assert error.code == "bad_response" and "larger than 5000 bytes" in str(error)


def test_cancel_is_honest(make, fake):
    provider = make(max_concurrency=1)
    fake.delay = 0.3
    running = provider.submit(ask())
    waiting = provider.submit(ask(seed=8))
    deadline = time.monotonic() + 5
    while not fake.requests and time.monotonic() < deadline:
        time.sleep(0.005)
    assert provider.cancel(waiting) is True  # never started: nothing will be sent for it
    assert provider.cancel(running) is False  # on the wire: Bedrock will still make (and bill) it
    assert provider.status(running).state == "canceled"
    time.sleep(0.4)
    assert len(fake.requests) == 1


def test_model_ids_and_settings_are_checked_at_start():
    assert model_family("us.amazon.nova-canvas-v1:0").kind == "nova"
    assert model_family("stability.stable-image-ultra-v1:1").kind == "stability"
    with pytest.raises(ValueError, match="not a Bedrock image model"):
        BedrockProvider(region="us-east-1", model="anthropic.claude-3-haiku")
    with pytest.raises(ValueError, match="region"):
        BedrockProvider(region="moon-1")


def test_client_error_mapping_covers_quota_and_missing_models():
    def error(code: str, status: int) -> ProviderError:
        return _from_client_error(ClientError({"Error": {"Code": code, "Message": "said"},
                                               "ResponseMetadata": {"HTTPStatusCode": status}}, "InvokeModel"))

    assert error("ServiceQuotaExceededException", 400).code == "rate_limited"
    assert error("ResourceNotFoundException", 404).code == "bad_request"
    assert error("ModelErrorException", 424).code == "provider_error"
    assert error("SomethingNew", 502).code == "provider_error"
