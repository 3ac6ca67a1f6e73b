"""OpenAI Images and AUTOMATIC1111 adapters against fake APIs on real loopback HTTP servers."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest
from PIL import Image

from app.providers.http import IMAGE_RESPONSE_BYTES, HttpOptions, reset_breakers
from app.services.generation.adapters.a1111 import A1111, task_id_for
from app.services.generation.adapters.common import image_http_options
from app.services.generation.adapters.openai_images import OpenAIImages, capabilities_for
from app.services.generation.base import GenerationRequest, GenerationStatus, ProviderError
from tests.fake_image_providers import FakeA1111, FakeOpenAIImages

# Small timeouts and backoffs keep every test well under a second; images need the bigger body cap.
FAST = HttpOptions(connect_timeout=0.5, read_timeout=2.0, retries=2, backoff=0.01, backoff_max=0.05,
                   retry_after_cap=2.0, breaker_fail_max=2, breaker_reset_seconds=30.0,
                   max_response_bytes=64 * 1024 * 1024)
SLOW_SERVER = replace(FAST, read_timeout=0.3)


def ask(**changes) -> GenerationRequest:
    fields = {"prompt": "a red bicycle against a brick wall", "width": 1024, "height": 1024}
    return GenerationRequest(**{**fields, **changes})


def settle(provider, handle: dict, timeout: float = 3.0) -> GenerationStatus:
    """Poll status until the work ends, as the job runner does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = provider.status(handle)
        if status.state in ("succeeded", "failed", "canceled"):
            return status
        time.sleep(0.01)
    raise AssertionError(f"still {status.state} after {timeout} s")


def wait_until(condition, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def size_of(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.size


def fails(call, *args) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        call(*args)
    return caught.value


@pytest.fixture(autouse=True)
def _fresh_breakers() -> Iterator[None]:
    reset_breakers()
    yield
    reset_breakers()


# --- OpenAI Images -----------------------------------------------------------------------------------------


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAIImages]:
    with FakeOpenAIImages() as fake:
        yield fake


@pytest.fixture
def openai(fake_openai: FakeOpenAIImages) -> Iterator[OpenAIImages]:
    provider = OpenAIImages(fake_openai.base_url, "sk-test", "gpt-image-1", models=("dall-e-3", "dall-e-2"),
                            http=FAST)
    yield provider
    provider.close()


def test_openai_gpt_image_success_sends_the_documented_body(openai, fake_openai):
    handle = openai.submit(ask(width=1024, height=1536, n=2, seed=99))
    assert settle(openai, handle).state == "succeeded"
    images = openai.result(handle)

    assert [size_of(i.data) for i in images] == [(1024, 1536)] * 2
    assert all(i.mime == "image/png" and i.seed is None and i.extras["model"] == "gpt-image-1" for i in images)
    [sent] = fake_openai.requests
    assert sent.path == "/v1/images/generations" and sent.headers["authorization"] == "Bearer sk-test"
    assert sent.json == {"model": "gpt-image-1", "prompt": "a red bicycle against a brick wall", "n": 2,
                         "size": "1024x1536"}  # GPT image models refuse response_format; no seed exists


def test_openai_dalle3_makes_one_call_per_image_and_keeps_the_revised_prompt(openai, fake_openai):
    images = openai.generate(ask(model="dall-e-3", width=1792, height=1024, n=2))

    assert [size_of(i.data) for i in images] == [(1792, 1024)] * 2
    assert images[0].extras["revised_prompt"] == "A detailed picture of a red bicycle against a brick wall"
    assert [r.json["n"] for r in fake_openai.requests] == [1, 1]
    assert all(r.json["response_format"] == "b64_json" and r.json["model"] == "dall-e-3" for r in fake_openai.requests)


def test_openai_downloads_url_answers_from_its_own_server(openai, fake_openai):
    fake_openai.answer_with_urls = True
    [image] = openai.generate(ask(model="dall-e-2", width=256, height=256))
    assert size_of(image.data) == (256, 256)
    assert [r.method for r in fake_openai.requests] == ["POST", "GET"]


def test_openai_capabilities_follow_the_model():
    assert capabilities_for("dall-e-3").sizes == ("1024x1024", "1792x1024", "1024x1792")
    assert capabilities_for("gpt-image-1").sizes == ("1024x1024", "1536x1024", "1024x1536")
    assert capabilities_for("dall-e-2").max_side == 1024
    compatible = capabilities_for("flux-schnell")  # another server's model: any size it takes
    assert compatible.sizes == () and not compatible.seed and not compatible.negative_prompt


def test_image_adapters_never_keep_the_small_vision_body_cap():
    assert image_http_options(HttpOptions(), read_timeout=9).max_response_bytes == IMAGE_RESPONSE_BYTES
    assert image_http_options(None, read_timeout=9).read_timeout == 9


@pytest.mark.parametrize("changes, words", [
    ({"model": "dall-e-3", "width": 512, "height": 512}, "1024x1024"),
    ({"width": 1024, "height": 1024, "n": 5}, "1 to 4"),
    ({"negative_prompt": "blurry"}, "negative prompt"),
    ({"model": "dall-e-2", "width": 256, "height": 256, "prompt": "x" * 1001}, "1000"),
    ({"model": "midjourney"}, "model"),
])
def test_openai_refuses_what_the_model_cannot_do_before_sending(openai, fake_openai, changes, words):
    error = fails(openai.submit, ask(**changes))
    assert error.code == "bad_request" and words in str(error)
    assert fake_openai.requests == []


def test_openai_rate_limit_is_retried_after_the_servers_pause(openai, fake_openai):
    fake_openai.retry_after = "0.2"
    fake_openai.queue("rate_limited")
    assert len(openai.generate(ask())) == 1
    first, second = fake_openai.requests
    assert second.at - first.at >= 0.18


def test_openai_server_errors_are_not_resent_and_open_the_breaker(openai, fake_openai):
    fake_openai.mode = "server_error"
    for _ in range(FAST.breaker_fail_max):
        status = settle(openai, openai.submit(ask()))
        assert status.state == "failed" and status.error_code == "provider_error"
    # A 5xx may come after OpenAI made and billed the images: never sent twice.
    assert len(fake_openai.requests) == FAST.breaker_fail_max
    assert fails(openai.generate, ask()).code == "provider_unavailable"
    assert len(fake_openai.requests) == FAST.breaker_fail_max  # failed fast, nothing sent


def test_openai_timeout_is_reported_not_resent(fake_openai):
    provider = OpenAIImages(fake_openai.base_url, "sk-test", "gpt-image-1", http=SLOW_SERVER)
    fake_openai.mode = "timeout"
    error = fails(provider.generate, ask())
    assert error.code == "timeout" and len(fake_openai.requests) == 1
    provider.close()


def test_openai_wrong_key_is_auth_failed_without_retry(fake_openai):
    provider = OpenAIImages(fake_openai.base_url, "sk-wrong", "gpt-image-1", http=FAST)
    status = settle(provider, provider.submit(ask()))
    assert (status.state, status.error_code) == ("failed", "auth_failed")
    assert len(fake_openai.requests) == 1
    provider.close()


@pytest.mark.parametrize("mode", ["malformed_body", "wrong_shape", "bad_base64", "not_image", "too_few"])
def test_openai_bad_answers_are_bad_response(openai, fake_openai, mode):
    fake_openai.mode = mode
    error = fails(openai.generate, ask(n=2))
    assert error.code == "bad_response"
    assert len(fake_openai.requests) == 1


def test_openai_safety_refusal_is_content_filtered(openai, fake_openai):
    fake_openai.mode = "content_policy"
    assert fails(openai.generate, ask()).code == "content_filtered"


def test_openai_cancel_is_honest_and_skips_the_calls_not_yet_made(openai, fake_openai):
    fake_openai.delay = 0.2
    handle = openai.submit(ask(model="dall-e-3", n=3))
    assert wait_until(lambda: fake_openai.requests)  # the first call is on the wire
    assert openai.cancel(handle) is False  # OpenAI cannot stop it (and bills it)
    assert openai.status(handle).state == "canceled"
    assert fails(openai.result, handle).code == "canceled"
    time.sleep(0.3)
    assert len(fake_openai.requests) == 1  # the second and third images were never asked for


def test_openai_result_asked_too_early_is_refused_and_the_call_kept(openai, fake_openai):
    fake_openai.delay = 0.15
    handle = openai.submit(ask())
    assert fails(openai.result, handle).code == "bad_request"
    assert settle(openai, handle).state == "succeeded"
    assert len(openai.result(handle)) == 1


# --- AUTOMATIC1111 -----------------------------------------------------------------------------------------


@pytest.fixture
def fake_a1111() -> Iterator[FakeA1111]:
    with FakeA1111() as fake:
        yield fake


@pytest.fixture
def a1111(fake_a1111: FakeA1111) -> Iterator[A1111]:
    provider = A1111(fake_a1111.origin, steps=5, http=FAST)
    yield provider
    provider.close()


def test_a1111_success_sends_the_documented_parameters(a1111, fake_a1111):
    handle = a1111.submit(ask(width=512, height=384, n=2, seed=1234, negative_prompt="blurry, text"))
    assert settle(a1111, handle).state == "succeeded"
    images = a1111.result(handle)

    assert [size_of(i.data) for i in images] == [(512, 384)] * 2
    assert [i.seed for i in images] == [1234, 1235]  # from info.all_seeds
    [sent] = fake_a1111.sent("POST", "/sdapi/v1/txt2img")
    body = sent.json
    assert {k: body[k] for k in ("prompt", "negative_prompt", "seed", "width", "height", "steps", "batch_size")} == {
        "prompt": "a red bicycle against a brick wall", "negative_prompt": "blurry, text", "seed": 1234,
        "width": 512, "height": 384, "steps": 5, "batch_size": 2}
    assert body["cfg_scale"] == 7.0 and body["sampler_name"] == "DPM++ 2M"
    assert body["force_task_id"] == task_id_for(handle["call"])


def test_a1111_skips_the_grid_it_puts_first(a1111, fake_a1111):
    fake_a1111.return_grid = True
    images = a1111.generate(ask(width=256, height=256, n=2, seed=5))
    assert [size_of(i.data) for i in images] == [(256, 256)] * 2 and [i.seed for i in images] == [5, 6]


def test_a1111_switches_checkpoint_per_request(fake_a1111):
    provider = A1111(fake_a1111.origin, model="sdxl_base", http=FAST)
    [image] = provider.generate(ask(width=256, height=256))
    body = fake_a1111.sent("POST", "/sdapi/v1/txt2img")[0].json
    assert body["override_settings"] == {"sd_model_checkpoint": "sdxl_base"}
    assert image.extras["model"] == "sdxl_base"
    provider.close()


def test_a1111_reports_sampling_steps_while_generating(fake_a1111):
    fake_a1111.step_seconds = 0.02
    provider = A1111(fake_a1111.origin, steps=20, http=FAST)
    handle = provider.submit(ask(width=256, height=256))
    seen: list[GenerationStatus] = []
    while (status := provider.status(handle)).state in ("queued", "running"):
        seen.append(status)
        time.sleep(0.03)
    assert status.state == "succeeded"
    steps = [s.step for s in seen if s.step is not None]
    assert len(steps) >= 3 and steps == sorted(steps) and steps[-1] > steps[0]
    assert {s.steps for s in seen if s.step is not None} == {20}
    assert any(s.message == f"step {s.step} of 20" for s in seen if s.step)
    provider.close()


def _someone_elses_job(fake: FakeA1111, steps: int) -> threading.Thread:
    def post() -> None:
        httpx.post(fake.origin + "/sdapi/v1/txt2img", json={"prompt": "theirs", "steps": steps, "width": 64,
                                                             "height": 64, "force_task_id": "task(theirs)"},
                   timeout=5)
    thread = threading.Thread(target=post)
    thread.start()
    deadline = time.monotonic() + 3
    while fake.current_task != "task(theirs)" and time.monotonic() < deadline:
        time.sleep(0.005)
    return thread


def test_a1111_waits_honestly_behind_another_clients_job(fake_a1111):
    fake_a1111.step_seconds = 0.02
    other = _someone_elses_job(fake_a1111, steps=200)  # 4 s unless interrupted
    provider = A1111(fake_a1111.origin, steps=3, http=FAST)
    handle = provider.submit(ask(width=256, height=256))
    time.sleep(0.05)  # our txt2img is now waiting for A1111's lock
    status = provider.status(handle)
    assert status.state == "queued" and "another job" in status.message, status
    assert provider.cancel(handle) is False  # an interrupt now would stop their job, not ours
    assert fake_a1111.sent("POST", "/sdapi/v1/interrupt") == []

    httpx.post(fake_a1111.origin + "/sdapi/v1/interrupt", timeout=5)  # their own client stops their job
    other.join()
    assert settle(provider, handle).state == "canceled"  # its images will be discarded…
    assert wait_until(lambda: len(fake_a1111.jobs) == 2)
    assert fake_a1111.jobs[1]["task"] == task_id_for(handle["call"])  # …but, as cancel said, it did run
    assert fake_a1111.jobs[1]["interrupted"] is False
    provider.close()


def test_a1111_interrupt_mid_generation_cancels_and_refuses_the_result(fake_a1111):
    fake_a1111.step_seconds = 0.02
    provider = A1111(fake_a1111.origin, steps=50, http=FAST)
    handle = provider.submit(ask(width=256, height=256))
    assert wait_until(lambda: (provider.status(handle).step or 0) >= 2)

    assert provider.cancel(handle) is True
    assert len(fake_a1111.sent("POST", "/sdapi/v1/interrupt")) == 1
    assert settle(provider, handle).state == "canceled"
    time.sleep(0.1)
    [job] = fake_a1111.jobs
    assert job["interrupted"] and job["steps_run"] < 50  # the GPU really stopped early
    assert fails(provider.result, handle).code == "canceled"  # half-made images are not handed out
    provider.close()


def test_a1111_cancel_of_a_request_still_waiting_in_our_pool(fake_a1111):
    fake_a1111.step_seconds = 0.02
    provider = A1111(fake_a1111.origin, steps=10, http=FAST)  # one generation at a time
    first, second = provider.submit(ask(width=256, height=256)), provider.submit(ask(width=256, height=256))
    assert provider.status(second).state == "queued"
    assert provider.cancel(second) is True
    assert settle(provider, first).state == "succeeded"
    assert len(fake_a1111.sent("POST", "/sdapi/v1/txt2img")) == 1  # A1111 never saw the second
    provider.close()


def test_a1111_rate_limit_then_success(a1111, fake_a1111):
    fake_a1111.retry_after = "0.1"
    fake_a1111.queue("rate_limited")
    assert len(a1111.generate(ask(width=256, height=256))) == 1
    assert len(fake_a1111.sent("POST", "/sdapi/v1/txt2img")) == 2


def test_a1111_server_errors_open_the_breaker(a1111, fake_a1111):
    fake_a1111.mode = "server_error"
    for _ in range(FAST.breaker_fail_max):
        assert fails(a1111.generate, ask(width=256, height=256)).code == "provider_error"
    assert fails(a1111.generate, ask(width=256, height=256)).code == "provider_unavailable"
    assert len(fake_a1111.requests) == FAST.breaker_fail_max  # no retries of the GPU work, nothing after opening


def test_a1111_timeout_is_not_resent(fake_a1111):
    provider = A1111(fake_a1111.origin, http=SLOW_SERVER)
    fake_a1111.mode = "timeout"
    assert fails(provider.generate, ask(width=256, height=256)).code == "timeout"
    assert len(fake_a1111.requests) == 1
    provider.close()


def test_a1111_basic_auth(fake_a1111):
    fake_a1111.auth = ("ann", "s3cret")
    good = A1111(fake_a1111.origin, "ann:s3cret", steps=2, http=FAST)
    assert len(good.generate(ask(width=256, height=256))) == 1
    bad = A1111(fake_a1111.origin, "ann:wrong", http=FAST)
    assert fails(bad.generate, ask(width=256, height=256)).code == "auth_failed"
    assert len(fake_a1111.requests) == 2  # the refused call was not retried
    with pytest.raises(ValueError, match="user:password"):
        A1111(fake_a1111.origin, "just-a-token")
    good.close(), bad.close()


@pytest.mark.parametrize("mode", ["malformed_body", "wrong_shape", "bad_base64", "not_image"])
def test_a1111_bad_answers_are_bad_response(a1111, fake_a1111, mode):
    fake_a1111.mode = mode
    assert fails(a1111.generate, ask(width=256, height=256)).code == "bad_response"


def test_a1111_refuses_sizes_it_cannot_make(a1111, fake_a1111):
    assert fails(a1111.submit, ask(width=500, height=512)).code == "bad_request"
    assert fails(a1111.submit, ask(width=4096, height=512)).code == "bad_request"
    assert fake_a1111.requests == []
