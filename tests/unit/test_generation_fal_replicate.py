"""fal.ai (queue) and Replicate (predictions) adapters against fake APIs on real loopback HTTP servers."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from PIL import Image

from app.providers.fal import FalClient, app_id
from app.providers.files import decode_base64_image, decode_image, fetch_image
from app.providers.http import HttpOptions, RemoteClient, reset_breakers
from app.providers.replicate import ReplicateClient
from app.services.generation.adapters.checks import check_request, nearest_aspect_ratio, parse_step_progress
from app.services.generation.adapters.fal import FalProvider
from app.services.generation.adapters.replicate import FLUX_ASPECT_RATIOS, ReplicateProvider
from app.services.generation.base import Capabilities, GenerationRequest, GenerationStatus, ProviderError
from tests import images
from tests.fake_queue_providers import FakeFal, FakeReplicate

FAST = HttpOptions(connect_timeout=0.5, read_timeout=0.3, retries=2, backoff=0.01, backoff_max=0.05,
                   retry_after_cap=2.0, breaker_fail_max=2, breaker_reset_seconds=30.0,
                   max_response_bytes=64 * 1024 * 1024)
NO_RETRY = HttpOptions(connect_timeout=0.5, read_timeout=0.3, retries=0, max_response_bytes=64 * 1024 * 1024)
SDXL = "stability-ai/sdxl:" + "7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"


def ask(**changes) -> GenerationRequest:
    fields = {"prompt": "a lighthouse at dusk, watercolour", "width": 256, "height": 320, "n": 1, "seed": 7}
    return GenerationRequest(**{**fields, **changes})


def follow(provider, handle, *, polls: int = 20) -> list[GenerationStatus]:
    """Every status until a final one (the fakes advance one step per poll)."""
    seen = []
    for _ in range(polls):
        seen.append(provider.status(handle))
        if seen[-1].state in ("succeeded", "failed", "canceled"):
            return seen
    raise AssertionError(f"never finished: {seen[-3:]}")


def fails(call, *args) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        call(*args)
    return caught.value


def size_of(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.size


@pytest.fixture(autouse=True)
def _fresh_breakers() -> Iterator[None]:
    reset_breakers()
    yield
    reset_breakers()


@pytest.fixture
def fake_fal() -> Iterator[FakeFal]:
    with FakeFal() as fake:
        fake.retry_after = "0.01"
        yield fake


def make_fal(fake: FakeFal, **options) -> FalProvider:
    return FalProvider("fal-test", base_url=fake.base_url, allow_loopback=True, http=options.pop("http", FAST),
                       **options)


@pytest.fixture
def fal(fake_fal: FakeFal) -> Iterator[FalProvider]:
    provider = make_fal(fake_fal)
    yield provider
    provider.close()


@pytest.fixture
def fake_replicate() -> Iterator[FakeReplicate]:
    with FakeReplicate() as fake:
        fake.retry_after = "0.01"
        yield fake


def make_replicate(fake: FakeReplicate, **options) -> ReplicateProvider:
    return ReplicateProvider("r8_test", base_url=fake.base_url, allow_loopback=True,
                             http=options.pop("http", FAST), **options)


@pytest.fixture
def replicate(fake_replicate: FakeReplicate) -> Iterator[ReplicateProvider]:
    provider = make_replicate(fake_replicate)
    yield provider
    provider.close()


# --- fal ------------------------------------------------------------------------------------------------------


def test_fal_app_id_drops_the_endpoint_path():
    assert app_id("fal-ai/flux/dev") == "fal-ai/flux"
    assert app_id("fal-ai/fast-sdxl") == "fal-ai/fast-sdxl"
    assert app_id("workflows/acme/upscale/v2") == "workflows/acme/upscale"


def test_fal_generates_end_to_end_with_queue_position_and_steps(fal, fake_fal):
    fake_fal.file_origin = fake_fal.origin.replace("127.0.0.1", "localhost")  # images on another origin (a CDN)
    handle = fal.submit(ask(n=2))
    seen = follow(fal, handle)

    assert [s.queue_position for s in seen if s.state == "queued"] == [1, 0]
    assert [(s.step, s.steps) for s in seen if s.state == "running"] == [(None, None), (14, 28), (28, 28)]
    assert seen[-1].state == "succeeded"
    images = fal.result(handle)
    assert [size_of(i.data) for i in images] == [(256, 320), (256, 320)]
    assert {i.mime for i in images} == {"image/png"} and images[0].seed == 7
    assert images[0].data != images[1].data
    submit, *rest = fake_fal.requests
    assert submit.method == "POST" and submit.path == "/fal-ai/flux/dev"
    assert submit.headers["authorization"] == "Key fal-test"
    assert submit.json == {"prompt": "a lighthouse at dusk, watercolour", "image_size": {"width": 256, "height": 320},
                           "num_images": 2, "seed": 7}
    polls = [r for r in rest if r.path.endswith("/status")]
    assert polls and all(r.path.startswith("/fal-ai/flux/requests/") and r.query == {"logs": ["1"]} for r in polls)
    downloads = [r for r in rest if r.path.startswith("/files/")]
    assert len(downloads) == 2 and all("authorization" not in r.headers for r in downloads)


def test_fal_sends_negative_prompt_only_to_models_that_take_it(fake_fal):
    sdxl = make_fal(fake_fal, model="fal-ai/fast-sdxl")
    assert sdxl.capabilities.negative_prompt
    sdxl.submit(ask(negative_prompt="blurry, text"))
    assert fake_fal.requests[-1].json["negative_prompt"] == "blurry, text"

    flux = make_fal(fake_fal)
    assert not flux.capabilities.negative_prompt
    assert fails(flux.submit, ask(negative_prompt="blurry")).code == "bad_request"
    assert len(fake_fal.requests) == 1


def test_fal_refuses_bad_requests_before_calling(fal, fake_fal):
    for request in (ask(prompt="  "), ask(n=5), ask(width=250), ask(width=4096), ask(model="fal-ai/other")):
        assert fails(fal.submit, request).code == "bad_request"
    assert fake_fal.requests == []


@pytest.mark.parametrize("urls", ["none", "foreign"])
def test_fal_builds_status_urls_itself_when_the_answer_has_no_usable_ones(fal, fake_fal, urls):
    fake_fal.answer_urls = urls
    handle = fal.submit(ask())
    assert handle["status_url"].startswith(fake_fal.origin + "/fal-ai/flux/requests/")
    assert follow(fal, handle)[-1].state == "succeeded"
    assert len(fal.result(handle)) == 1


def test_fal_accepts_data_uri_images(fal, fake_fal):
    fake_fal.data_urls = True
    handle = fal.submit(ask())
    follow(fal, handle)
    [image] = fal.result(handle)
    assert size_of(image.data) == (256, 320)
    assert not any(r.path.startswith("/files/") for r in fake_fal.requests)


def test_fal_submit_retries_after_429_only(fal, fake_fal):
    fake_fal.queue("rate_limited")
    handle = fal.submit(ask())
    assert handle["request_id"]
    assert [r.method for r in fake_fal.requests] == ["POST", "POST"]

    fake_fal.queue("server_error")
    assert fails(fal.submit, ask()).code == "provider_error"
    assert [r.method for r in fake_fal.requests] == ["POST"] * 3  # a 5xx submit may have been accepted: never twice


def test_fal_status_5xx_opens_the_breaker(fal, fake_fal):
    handle = fal.submit(ask())
    fake_fal.mode = "server_error"
    assert fails(fal.status, handle).code == "provider_error"
    assert fails(fal.status, handle).code == "provider_error"
    calls = len(fake_fal.requests)
    assert calls == 1 + 2 * 3  # each poll tried three times
    error = fails(fal.status, handle)
    assert error.code == "provider_unavailable" and error.retryable
    assert len(fake_fal.requests) == calls  # open circuit: nothing sent


def test_fal_timeout_and_auth_errors(fake_fal):
    provider = make_fal(fake_fal, http=NO_RETRY)
    handle = provider.submit(ask())
    fake_fal.queue("timeout")
    assert fails(provider.status, handle).code == "timeout"

    wrong_key = FalProvider("not-the-key", base_url=fake_fal.base_url, allow_loopback=True, http=FAST)
    error = fails(wrong_key.submit, ask())
    assert error.code == "auth_failed" and "API key" in str(error)


@pytest.mark.parametrize(("mode", "step"), [("malformed_body", "submit"), ("wrong_shape", "submit"),
                                            ("malformed_body", "status"), ("wrong_shape", "status")])
def test_fal_malformed_answers_are_bad_response(fal, fake_fal, mode, step):
    if step == "submit":
        fake_fal.queue(mode)
        assert fails(fal.submit, ask()).code == "bad_response"
        return
    handle = fal.submit(ask())
    fake_fal.queue(mode)
    assert fails(fal.status, handle).code == "bad_response"


def test_fal_output_without_images_is_a_failed_generation(fal, fake_fal):
    handle = fal.submit(ask())
    while fal.status(handle).state != "running":
        pass
    fake_fal.progress_polls = 0
    fake_fal.queue("good", "wrong_shape")  # the COMPLETED status poll, then the output fetch
    final = fal.status(handle)
    assert final.state == "failed" and final.error_code == "bad_response"
    fake_fal.queue("wrong_shape")
    assert fails(fal.result, handle).code == "bad_response"


@pytest.mark.parametrize("error_in_status", [True, False])
def test_fal_failed_request_reports_fal_message_and_spares_the_breaker(fal, fake_fal, error_in_status):
    fake_fal.error_in_status = error_in_status
    fake_fal.fail_with = (500, "CUDA out of memory. Tried to allocate 2.00 GiB", "runner_server_error")
    for _ in range(3):  # more than breaker_fail_max: the request's own failure is not an outage
        handle = fal.submit(ask())
        final = follow(fal, handle)[-1]
        assert final.state == "failed" and final.error_code == "provider_error"
        assert "CUDA out of memory" in final.message
    error = fails(fal.result, handle)
    assert error.code == "provider_error" and "CUDA out of memory" in str(error)
    fake_fal.fail_with = None
    assert follow(fal, fal.submit(ask()))[-1].state == "succeeded"


def test_fal_request_timeout_on_fal_maps_to_timeout(fal, fake_fal):
    fake_fal.fail_with = (504, "Request timed out", "request_timeout")
    final = follow(fal, fal.submit(ask()))[-1]
    assert (final.state, final.error_code) == ("failed", "timeout")


def test_fal_cancel_while_queued_is_confirmed(fal, fake_fal):
    handle = fal.submit(ask())
    assert fal.status(handle).state == "queued"
    assert fal.cancel(handle) is True
    assert fal.status(handle).state == "canceled"
    [put] = [r for r in fake_fal.requests if r.method == "PUT"]
    assert put.path == f"/fal-ai/flux/requests/{handle['request_id']}/cancel"
    assert put.headers["authorization"] == "Key fal-test"


@pytest.mark.parametrize("error_in_status", [True, False])
def test_fal_cancel_while_running_is_confirmed_when_the_runner_stops(fal, fake_fal, error_in_status):
    fake_fal.error_in_status = error_in_status
    handle = fal.submit(ask())
    while fal.status(handle).state != "running":
        pass
    assert fal.cancel(handle) is True
    assert fal.status(handle).state == "canceled"


def test_fal_cancel_while_running_is_not_claimed_when_the_model_ignores_it(fal, fake_fal):
    fake_fal.honour_cancel = False
    handle = fal.submit(ask())
    while fal.status(handle).state != "running":
        pass
    assert fal.cancel(handle) is False
    assert follow(fal, handle)[-1].state == "succeeded"
    assert fal.cancel(handle) is False  # ALREADY_COMPLETED


def test_fal_result_that_is_not_an_image_is_bad_response(fal, fake_fal):
    handle = fal.submit(ask())
    follow(fal, handle)
    fake_fal.file_override = (b"<html><body>Access denied</body></html>", "text/html")
    error = fails(fal.result, handle)
    assert error.code == "bad_response" and "not a PNG, JPEG or WebP" in str(error)


def test_fal_oversize_download_is_refused(fake_fal):
    provider = make_fal(fake_fal, max_image_bytes=2_000)
    handle = provider.submit(ask())
    follow(provider, handle)
    error = fails(provider.result, handle)
    assert error.code == "bad_response" and "larger than 2000 bytes" in str(error)

    capped = make_fal(fake_fal, http=HttpOptions(read_timeout=0.3, retries=0, max_response_bytes=2_000))
    handle = capped.submit(ask())
    follow(capped, handle)
    assert fails(capped.result, handle).code == "bad_response"


def test_fal_client_runs_any_endpoint_and_cancels_on_timeout(fake_fal):
    client = FalClient("fal-test", base_url=fake_fal.base_url, http=FAST, allow_loopback=True)
    states: list[str] = []
    output = client.run("fal-ai/fast-sdxl", {"prompt": "a fox", "image_size": "square", "num_images": 1},
                        poll_interval=0, on_update=lambda s: states.append(s.state))
    assert states[0] == "IN_QUEUE" and states[-1] == "COMPLETED"
    image = client.fetch_image(output["images"][0]["url"])
    assert (image.width, image.height, image.mime) == (512, 512, "image/png")

    invalid = fails(client.submit, "fal-ai/fast-sdxl", {"image_size": "square"})
    assert invalid.code == "bad_request" and "prompt: field required" in str(invalid)  # fal's 422 detail list
    assert fails(client.submit, "fal-ai/fast-sdxl", {"prompt": object()}).code == "bad_request"
    error = fails(lambda: client.run("fal-ai/fast-sdxl", {"prompt": "slow"}, poll_interval=0, timeout=0))
    assert error.code == "timeout"
    assert fake_fal.requests[-1].method == "GET" and any(r.method == "PUT" for r in fake_fal.requests)
    client.close()


# --- Replicate ---------------------------------------------------------------------------------------------------


def test_replicate_flux_end_to_end_with_steps(replicate, fake_replicate):
    handle = replicate.submit(ask(width=1024, height=576))
    seen = follow(replicate, handle)

    assert seen[0].state == "queued"
    assert [(s.step, s.steps) for s in seen if s.state == "running"] == [(7, 20), (13, 20)]
    assert seen[-1].state == "succeeded"
    [image] = replicate.result(handle)
    assert size_of(image.data) == (1360, 768) and image.seed == 7  # FLUX picks ~1 MP at the nearest ratio
    create = fake_replicate.requests[0]
    assert create.path == "/v1/models/black-forest-labs/flux-dev/predictions"
    assert create.headers["authorization"] == "Bearer r8_test"
    assert create.json == {"input": {"prompt": "a lighthouse at dusk, watercolour", "num_outputs": 1, "seed": 7,
                                     "aspect_ratio": "16:9", "output_format": "png"}}
    assert all(r.path == f"/v1/predictions/{handle['prediction_id']}" for r in fake_replicate.requests[1:-1])


def test_replicate_versioned_model_gets_exact_size_and_negative_prompt(fake_replicate):
    provider = make_replicate(fake_replicate, model=SDXL)
    fake_replicate.file_origin = fake_replicate.origin.replace("127.0.0.1", "localhost")
    handle = provider.submit(ask(n=2, negative_prompt="blurry"))
    assert follow(provider, handle)[-1].state == "succeeded"
    images = provider.result(handle)
    assert [size_of(i.data) for i in images] == [(256, 320), (256, 320)]
    create = fake_replicate.requests[0]
    assert create.path == "/v1/predictions"
    assert create.json == {"version": SDXL.split(":")[1], "input": {
        "prompt": "a lighthouse at dusk, watercolour", "num_outputs": 2, "seed": 7, "width": 256, "height": 320,
        "negative_prompt": "blurry"}}
    downloads = [r for r in fake_replicate.requests if r.path.startswith("/files/")]
    assert len(downloads) == 2 and all("authorization" not in r.headers for r in downloads)  # CDN: no token


def test_replicate_single_url_output(fake_replicate):
    fake_replicate.single_output = True
    provider = make_replicate(fake_replicate, model=SDXL)
    handle = provider.submit(ask())
    follow(provider, handle)
    assert len(provider.result(handle)) == 1


def test_replicate_create_retries_after_429_only(replicate, fake_replicate):
    fake_replicate.queue("rate_limited")
    assert replicate.submit(ask())["prediction_id"]
    fake_replicate.queue("unavailable")
    assert fails(replicate.submit, ask()).code == "provider_error"
    assert [r.method for r in fake_replicate.requests] == ["POST"] * 3


def test_replicate_5xx_opens_breaker_then_timeout_and_auth(replicate, fake_replicate):
    handle = replicate.submit(ask())
    fake_replicate.mode = "server_error"
    assert fails(replicate.status, handle).code == "provider_error"
    assert fails(replicate.status, handle).code == "provider_error"
    calls = len(fake_replicate.requests)
    assert fails(replicate.status, handle).code == "provider_unavailable"
    assert len(fake_replicate.requests) == calls

    reset_breakers()
    fake_replicate.mode = "good"
    quick = make_replicate(fake_replicate, http=NO_RETRY)
    fake_replicate.queue("timeout")
    assert fails(quick.status, handle).code == "timeout"
    wrong = ReplicateProvider("r8_wrong", base_url=fake_replicate.base_url, allow_loopback=True, http=FAST)
    assert fails(wrong.submit, ask()).code == "auth_failed"


@pytest.mark.parametrize("mode", ["malformed_body", "wrong_shape"])
def test_replicate_malformed_answers_are_bad_response(replicate, fake_replicate, mode):
    fake_replicate.queue(mode)
    assert fails(replicate.submit, ask()).code == "bad_response"
    handle = replicate.submit(ask())
    fake_replicate.queue(mode)
    assert fails(replicate.status, handle).code == "bad_response"


def test_replicate_succeeded_without_image_urls_is_a_failed_generation(replicate, fake_replicate):
    fake_replicate.broken_output = {"text": "no images here"}
    handle = replicate.submit(ask())
    final = follow(replicate, handle)[-1]
    assert (final.state, final.error_code) == ("failed", "bad_response")
    assert fails(replicate.result, handle).code == "bad_response"


def test_replicate_failed_prediction_reports_its_error(replicate, fake_replicate):
    fake_replicate.fail_with = "NSFW content detected. Try running it again, or try a different prompt."
    handle = replicate.submit(ask())
    final = follow(replicate, handle)[-1]
    assert final.state == "failed" and final.error_code == "provider_error"
    assert "NSFW content detected" in final.message
    assert fails(replicate.result, handle).code == "provider_error"


@pytest.mark.parametrize("polls", [0, 2])  # while starting, while processing
def test_replicate_cancel_is_confirmed_by_the_api(replicate, fake_replicate, polls):
    handle = replicate.submit(ask())
    for _ in range(polls):
        replicate.status(handle)
    assert replicate.cancel(handle) is True
    assert replicate.status(handle).state == "canceled"
    cancel = [r for r in fake_replicate.requests if r.path.endswith("/cancel")]
    assert len(cancel) == 1 and cancel[0].method == "POST"


def test_replicate_cancel_rechecks_a_late_acknowledgement_and_refuses_after_success(replicate, fake_replicate):
    fake_replicate.cancel_ack_delayed = True
    handle = replicate.submit(ask())
    assert replicate.cancel(handle) is True
    done = replicate.submit(ask())
    follow(replicate, done)
    assert replicate.cancel(done) is False


def test_replicate_bad_downloads_are_refused(fake_replicate):
    provider = make_replicate(fake_replicate, model=SDXL, max_image_bytes=2_000)
    handle = provider.submit(ask())
    follow(provider, handle)
    assert "larger than" in str(fails(provider.result, handle))
    fake_replicate.file_override = (b"GIF89a not really", "image/gif")
    assert fails(make_replicate(fake_replicate, model=SDXL).result, handle).code == "bad_response"


def test_replicate_client_runs_any_model(fake_replicate):
    client = ReplicateClient("r8_test", base_url=fake_replicate.base_url, http=FAST, allow_loopback=True)
    statuses: list[str] = []
    output = client.run("acme/upscaler", {"prompt": "x", "width": 256, "height": 256}, poll_interval=0,
                        on_update=lambda p: statuses.append(p["status"]))
    assert statuses[0] == "starting" and "processing" in statuses
    assert client.fetch_image(output[0]).width == 256
    fake_replicate.fail_with = "CUDA error: device-side assert triggered"
    error = fails(lambda: client.run("acme/upscaler", {"prompt": "x"}, poll_interval=0))
    assert error.code == "provider_error" and "CUDA error" in str(error)
    assert fails(lambda: client.run("not a model", {"prompt": "x"})).code == "bad_request"
    client.close()


# --- app.providers.files and remote_checks (shared with image workflows' remote steps) ----------------------------


@pytest.mark.parametrize("url", [
    "http://example.com/a.png",  # not https
    "http://127.0.0.1:9/a.png",  # loopback only when the caller allows it (tests)
    "https://10.0.0.5/a.png", "https://169.254.169.254/latest/meta-data/", "https://[::1]/a.png",  # not public
    "https://user:secret@cdn.example/a.png", "ftp://cdn.example/a.png", "",
    "data:image/png,not-base64", "data:image/png;base64,@@@not base64@@@",
])
def test_fetch_image_refuses_unsafe_or_broken_urls_without_sending_anything(url):
    client = RemoteClient("files-test", options=NO_RETRY)
    with pytest.raises(ProviderError) as caught:
        fetch_image(url, client=client)
    assert caught.value.code == "bad_response"
    client.close()


def test_decode_image_checks_by_full_decode():
    good = decode_image(images.encode(images.photo(64, 48, seed=2), "WEBP"))
    assert (good.mime, good.width, good.height) == ("image/webp", 64, 48)
    png = images.png(64, 48)
    for data, said in [(images.pixel_flood_png(), "pixels"), (png[: len(png) // 2], "cannot be decoded"),
                       (images.encode(images.photo(8, 8), "GIF"), "not a PNG, JPEG or WebP"), (b"", "empty")]:
        with pytest.raises(ProviderError, match=said) as caught:
            decode_image(data)
        assert caught.value.code == "bad_response"
    with pytest.raises(ProviderError, match="larger than 10 bytes"):
        decode_base64_image("A" * 100, max_bytes=10)


def test_progress_aspect_ratio_and_request_checks():
    logs = "Using seed: 7\r  5%|▌         | 1/20 [00:00<00:03]\r 45%|████▌     | 9/20 [00:03<00:04,  2.71it/s]\nsaving"
    assert parse_step_progress(logs) == (9, 20)
    assert parse_step_progress("loading weights\n") is None and parse_step_progress(None) is None
    assert parse_step_progress("150%|████| 30/20") is None
    assert nearest_aspect_ratio(1024, 576, FLUX_ASPECT_RATIOS) == "16:9"
    assert nearest_aspect_ratio(512, 1024, FLUX_ASPECT_RATIOS) == "9:16"
    caps = Capabilities(max_n=2, min_side=256, max_side=1024, size_multiple=64)
    with pytest.raises(ProviderError, match="multiples of 64"):
        check_request(ask(width=300), caps, label="Test")
    with pytest.raises(ProviderError, match="1 to 2 images"):
        check_request(ask(n=3, width=256, height=256), caps, label="Test")
    with pytest.raises(ProviderError, match="seed"):
        check_request(ask(seed=-1, width=256, height=256), caps, label="Test")


def test_replicate_community_model_without_a_version_runs_its_latest_version(fake_replicate):
    latest = "a" * 64
    fake_replicate.community["cjwbw/rembg"] = latest
    client = ReplicateClient("r8_test", base_url=fake_replicate.base_url, http=FAST, allow_loopback=True)
    for _ in range(2):
        output = client.run("cjwbw/rembg", {"prompt": "x", "width": 64, "height": 64}, poll_interval=0)
        assert client.fetch_image(output[0]).width == 64
    created = [r for r in fake_replicate.requests if r.method == "POST" and r.path == "/v1/predictions"]
    assert [r.json["version"] for r in created] == [latest, latest]
    # Looked up once: the official endpoint's 404 and the model read happen on the first run only.
    assert len([r for r in fake_replicate.requests if r.path == "/v1/models/cjwbw/rembg"]) == 1
    assert len([r for r in fake_replicate.requests if r.path == "/v1/models/cjwbw/rembg/predictions"]) == 1
    fake_replicate.community["acme/gone"] = "not a version"
    error = fails(lambda: client.run("acme/gone", {"prompt": "x"}, poll_interval=0))
    assert error.code == "bad_request" and "pin one as 'acme/gone:<version>'" in str(error)
    client.close()
