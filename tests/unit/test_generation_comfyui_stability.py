"""ComfyUI and Stability AI adapters against fake APIs on real loopback HTTP servers."""

from __future__ import annotations

import copy
import io
import json
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from PIL import Image

from app.providers.http import HttpOptions, reset_breakers
from app.services.generation.adapters.checks import nearest_aspect_ratio
from app.services.generation.adapters.comfyui import ComfyUI
from app.services.generation.adapters.comfyui_workflow import (
    DEFAULT_WORKFLOW_PATH,
    WorkflowError,
    load_workflow,
    parse_workflow,
)
from app.services.generation.adapters.stability import ASPECT_RATIOS, StabilityImages
from app.services.generation.base import GenerationRequest, GenerationStatus, ProviderError
from tests.fake_comfyui import FakeComfyUI
from tests.fake_image_providers import FakeStability, form_fields

FAST = HttpOptions(connect_timeout=0.5, read_timeout=2.0, retries=2, backoff=0.01, backoff_max=0.05,
                   retry_after_cap=2.0, breaker_fail_max=2, breaker_reset_seconds=30.0,
                   max_response_bytes=64 * 1024 * 1024)
SLOW_SERVER = replace(FAST, read_timeout=0.3)
CHECKPOINT = "v1-5-pruned-emaonly.safetensors"


def ask(**changes) -> GenerationRequest:
    fields = {"prompt": "a lighthouse at dusk, oil painting", "width": 512, "height": 512}
    return GenerationRequest(**{**fields, **changes})


def settle(provider, handle: dict, timeout: float = 3.0) -> GenerationStatus:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = provider.status(handle)
        if status.state in ("succeeded", "failed", "canceled"):
            return status
        time.sleep(0.01)
    raise AssertionError(f"still {status.state} after {timeout} s")


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


# --- ComfyUI -----------------------------------------------------------------------------------------------


@pytest.fixture
def fake_comfy() -> Iterator[FakeComfyUI]:
    with FakeComfyUI() as fake:
        yield fake


@pytest.fixture
def comfy(fake_comfy: FakeComfyUI) -> Iterator[ComfyUI]:
    provider = ComfyUI(fake_comfy.origin, model=CHECKPOINT, http=FAST)
    yield provider
    provider.close()


def test_comfyui_success_fills_the_workflow_and_fetches_the_images(comfy, fake_comfy):
    handle = comfy.submit(ask(width=512, height=768, n=2, seed=42, negative_prompt="blurry"))
    assert settle(comfy, handle).state == "succeeded"
    images = comfy.result(handle)

    assert [size_of(i.data) for i in images] == [(512, 768)] * 2
    assert [i.extras["batch_index"] for i in images] == [0, 1] and images[0].extras["batch_seed"] == 42
    [sent] = fake_comfy.sent("POST", "/prompt")
    graph = sent.json["prompt"]
    assert graph["6"]["inputs"]["text"] == "a lighthouse at dusk, oil painting"
    assert graph["7"]["inputs"]["text"] == "blurry"
    assert graph["3"]["inputs"]["seed"] == 42
    assert graph["5"]["inputs"] == {"width": 512, "height": 768, "batch_size": 2}
    assert graph["4"]["inputs"]["ckpt_name"] == CHECKPOINT
    assert sent.json["prompt_id"] == handle["prompt_id"] and sent.json["client_id"] == comfy.client_id
    assert [r.query["type"] for r in fake_comfy.sent("GET", "/view")] == [["output"], ["output"]]


def test_comfyui_single_image_carries_its_seed(comfy):
    handle = comfy.submit(ask(seed=7))
    assert settle(comfy, handle).state == "succeeded"
    [image] = comfy.result(handle)
    assert image.seed == 7 and "batch_seed" not in image.extras


def test_comfyui_reports_queue_positions(comfy, fake_comfy):
    fake_comfy.hold()
    handles = [comfy.submit(ask(seed=s)) for s in range(3)]
    statuses = [comfy.status(h) for h in handles]
    assert [s.state for s in statuses] == ["queued"] * 3
    assert [s.queue_position for s in statuses] == [1, 2, 3]  # sorted by number, not in the server's heap order
    assert statuses[2].message == "2 prompt(s) ahead in ComfyUI's queue"
    fake_comfy.release()
    assert [settle(comfy, h).state for h in handles] == ["succeeded"] * 3


def test_comfyui_cancel_deletes_a_pending_prompt(comfy, fake_comfy):
    fake_comfy.hold()
    first, second = comfy.submit(ask(seed=1)), comfy.submit(ask(seed=2))
    assert comfy.cancel(second) is True
    assert fake_comfy.sent("POST", "/queue")[0].json == {"delete": [second["prompt_id"]]}
    assert comfy.status(second).state == "canceled"
    fake_comfy.release()
    assert settle(comfy, first).state == "succeeded"
    assert second["prompt_id"] not in fake_comfy.history  # it never ran
    assert fails(comfy.result, second).code == "not_found"


def test_comfyui_cancel_interrupts_a_running_prompt(fake_comfy):
    fake_comfy.step_seconds = 0.02
    provider = ComfyUI(fake_comfy.origin, model=CHECKPOINT, steps=50, http=FAST)
    handle = provider.submit(ask())
    assert fake_comfy.wait_for(lambda: fake_comfy.running is not None)
    assert provider.status(handle).state == "running"

    assert provider.cancel(handle) is True
    assert fake_comfy.sent("POST", "/interrupt")[0].json == {"prompt_id": handle["prompt_id"]}
    status = settle(provider, handle)
    assert status.state == "canceled" and "interrupted" in status.message
    assert fails(provider.result, handle).code == "canceled"
    assert provider.cancel(handle) is False  # nothing left to stop
    provider.close()


def test_comfyui_execution_error_is_reported_with_the_node(comfy, fake_comfy):
    fake_comfy.fail_with = "CUDA out of memory"
    handle = comfy.submit(ask())
    status = settle(comfy, handle)
    assert (status.state, status.error_code) == ("failed", "provider_error")
    assert "KSampler" in status.message and "CUDA out of memory" in status.message
    assert fails(comfy.result, handle).code == "provider_error"


def test_comfyui_workflow_the_server_refuses_names_the_node(fake_comfy):
    provider = ComfyUI(fake_comfy.origin, model="no-such-model.safetensors", http=FAST)
    error = fails(provider.submit, ask())
    assert error.code == "bad_request"
    assert "node 4 (CheckpointLoaderSimple)" in str(error) and "no-such-model" in str(error)
    provider.close()


def test_comfyui_slow_answer_is_found_in_the_queue_not_sent_twice(fake_comfy):
    provider = ComfyUI(fake_comfy.origin, model=CHECKPOINT, http=SLOW_SERVER)
    fake_comfy.hang_seconds = 1.0
    fake_comfy.queue("slow_answer")
    handle = provider.submit(ask())
    assert len(fake_comfy.sent("POST", "/prompt")) == 1
    assert settle(provider, handle).state == "succeeded"
    provider.close()


def test_comfyui_timeout_of_a_prompt_that_never_arrived(fake_comfy):
    provider = ComfyUI(fake_comfy.origin, model=CHECKPOINT, http=SLOW_SERVER)
    fake_comfy.queue("timeout")
    assert fails(provider.submit, ask()).code == "timeout"
    assert len(fake_comfy.sent("POST", "/prompt")) == 1
    provider.close()


def test_comfyui_rate_limit_then_success(comfy, fake_comfy):
    fake_comfy.retry_after = "0.05"
    fake_comfy.queue("rate_limited")
    handle = comfy.submit(ask())
    assert len(fake_comfy.sent("POST", "/prompt")) == 2
    assert settle(comfy, handle).state == "succeeded"


def test_comfyui_server_errors_open_the_breaker(comfy, fake_comfy):
    fake_comfy.mode = "server_error"
    for _ in range(FAST.breaker_fail_max):
        assert fails(comfy.submit, ask()).code == "provider_error"
    assert fails(comfy.submit, ask()).code == "provider_unavailable"
    assert len(fake_comfy.requests) == FAST.breaker_fail_max


def test_comfyui_auth_failure_is_final(comfy, fake_comfy):
    fake_comfy.mode = "unauthorized"
    assert fails(comfy.submit, ask()).code == "auth_failed"
    assert len(fake_comfy.requests) == 1


@pytest.mark.parametrize("mode", ["malformed_body", "wrong_shape"])
def test_comfyui_bad_answers(comfy, fake_comfy, mode):
    fake_comfy.mode = mode
    assert fails(comfy.submit, ask()).code == "bad_response"


def test_comfyui_image_that_is_not_an_image(comfy, fake_comfy):
    handle = comfy.submit(ask())
    settle(comfy, handle)
    fake_comfy.mode = "not_image"
    assert fails(comfy.result, handle).code == "bad_response"


def test_comfyui_forgotten_prompt_is_not_found(comfy):
    status = comfy.status({"prompt_id": "3f0c5a4e-0000-4000-8000-000000000000"})
    assert (status.state, status.error_code) == ("failed", "not_found")
    assert fails(comfy.status, {"prompt_id": "../../etc/passwd"}).code == "not_found"


# --- ComfyUI workflows -------------------------------------------------------------------------------------


def _document() -> dict:
    return json.loads(DEFAULT_WORKFLOW_PATH.read_text())


def test_the_bundled_workflow_maps_every_parameter():
    workflow = load_workflow()
    assert set(workflow.params) == {"prompt", "negative_prompt", "seed", "steps", "cfg", "sampler", "width",
                                    "height", "n", "model"}
    filled = workflow.fill({"prompt": "cat", "seed": 9})
    assert filled["6"]["inputs"]["text"] == "cat" and filled["3"]["inputs"]["seed"] == 9
    assert workflow.graph["6"]["inputs"]["text"] == ""  # the template itself is untouched


@pytest.mark.parametrize("change, words", [
    (lambda d: d["params"].update(prompt=["66", "inputs", "text"]), "params.prompt: the workflow has no '66'"),
    (lambda d: d["params"].update(seed=["3", "inputs", "noise_seed"]), "3/inputs has no 'noise_seed' (it has: cfg"),
    (lambda d: d["params"].update(width=["5", "inputs", "text"]), "5/inputs has no 'text'"),
    (lambda d: d["params"].update(seed=["6", "inputs", "text"]), "seed needs a number"),
    (lambda d: d["params"].update(prompt=["3", "inputs", "model"]), "is a link to another node"),
    (lambda d: d["params"].pop("prompt"), "must say where the prompt goes"),
    (lambda d: d["params"].update(guidance=["3", "inputs", "cfg"]), "unknown parameter(s) guidance"),
    (lambda d: d["workflow"]["9"].pop("class_type"), "Save (API Format)"),
    (lambda d: d.pop("params"), "\"params\" must map"),
])
def test_workflow_maps_are_checked_with_clear_errors(change, words):
    document = _document()
    change(document)
    with pytest.raises(WorkflowError) as caught:
        parse_workflow(document, source="my.json")
    assert words in str(caught.value) and str(caught.value).startswith("my.json")


def test_admin_workflow_files_are_loaded_and_limits_follow_the_map(tmp_path, fake_comfy):
    document = _document()
    del document["params"]["negative_prompt"], document["params"]["n"]
    path = tmp_path / "flux.json"
    path.write_text(json.dumps(document))
    provider = ComfyUI(fake_comfy.origin, model=CHECKPOINT, workflow=load_workflow(path), http=FAST)
    assert not provider.capabilities.negative_prompt and provider.capabilities.max_n == 1
    assert fails(provider.submit, ask(negative_prompt="blurry")).code == "bad_request"
    assert fails(provider.submit, ask(n=2)).code == "bad_request"
    provider.close()

    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(WorkflowError, match="not valid JSON"):
        load_workflow(tmp_path / "broken.json")
    with pytest.raises(WorkflowError, match="cannot read"):
        load_workflow(tmp_path / "missing.json")


def test_fill_does_not_share_state_between_requests():
    workflow = load_workflow()
    before = copy.deepcopy(workflow.graph)
    workflow.fill({"prompt": "one", "width": 640})
    assert workflow.graph == before


# --- Stability AI ------------------------------------------------------------------------------------------


@pytest.fixture
def fake_stability() -> Iterator[FakeStability]:
    with FakeStability() as fake:
        yield fake


@pytest.fixture
def stability(fake_stability: FakeStability) -> Iterator[StabilityImages]:
    provider = StabilityImages(fake_stability.origin, "sk-stab", "core", http=FAST)
    yield provider
    provider.close()


def test_stability_success_sends_one_multipart_call_per_image(stability, fake_stability):
    handle = stability.submit(ask(width=1920, height=1080, n=2, seed=7, negative_prompt="blurry"))
    assert settle(stability, handle).state == "succeeded"
    images = stability.result(handle)

    assert [size_of(i.data) for i in images] == [(1344, 768)] * 2  # Stability's size for 16:9
    assert [i.seed for i in images] == [7, 8] and images[0].extras["aspect_ratio"] == "16:9"
    calls = fake_stability.sent("POST", "/v2beta/stable-image/generate/core")
    assert len(calls) == 2
    for call, seed in zip(calls, ("7", "8"), strict=True):
        assert call.headers["content-type"].startswith("multipart/form-data")
        assert call.headers["accept"] == "application/json" and call.headers["authorization"] == "Bearer sk-stab"
        assert form_fields(call) == {"prompt": "a lighthouse at dusk, oil painting", "negative_prompt": "blurry",
                                     "aspect_ratio": "16:9", "output_format": "png", "seed": seed}


@pytest.mark.parametrize("size, ratio", [((1024, 1024), "1:1"), ((1920, 1080), "16:9"), ((800, 1200), "2:3"),
                                         ((2048, 880), "21:9"), ((880, 2048), "9:21"), ((1000, 800), "5:4"),
                                         ((768, 1344), "9:16")])
def test_stability_picks_the_nearest_aspect_ratio(size, ratio):
    assert nearest_aspect_ratio(*size, ASPECT_RATIOS) == ratio


def test_stability_sd3_models_use_the_sd3_endpoint(fake_stability):
    provider = StabilityImages(fake_stability.origin, "sk-stab", "sd3.5-large", http=FAST)
    [image] = provider.generate(ask(width=832, height=1216))
    [call] = fake_stability.requests
    assert call.path == "/v2beta/stable-image/generate/sd3"
    fields = form_fields(call)
    assert fields["model"] == "sd3.5-large" and fields["mode"] == "text-to-image" and fields["aspect_ratio"] == "2:3"
    assert size_of(image.data) == (832, 1216)
    turbo = StabilityImages(fake_stability.origin, "sk-stab", "sd3.5-large-turbo", http=FAST)
    assert fails(turbo.submit, ask(negative_prompt="blurry")).code == "bad_request"  # turbo ignores them
    with pytest.raises(ValueError, match="cannot write 'webp'"):
        StabilityImages(fake_stability.origin, "sk-stab", "sd3.5-large", output_format="webp")
    provider.close(), turbo.close()


@pytest.mark.parametrize("mode, code", [("content_filtered", "content_filtered"), ("moderation", "content_filtered"),
                                        ("no_credits", "bad_request")])
def test_stability_refusals(stability, fake_stability, mode, code):
    fake_stability.mode = mode
    error = fails(stability.generate, ask())
    assert error.code == code and len(fake_stability.requests) == 1
    if mode == "no_credits":
        assert "out of credits" in str(error) and "sufficient credits" in str(error)


def test_stability_rate_limit_then_success(stability, fake_stability):
    fake_stability.retry_after = "0.1"
    fake_stability.queue("rate_limited")
    assert len(stability.generate(ask())) == 1
    first, second = fake_stability.requests
    assert second.at - first.at >= 0.09


def test_stability_server_errors_open_the_breaker(stability, fake_stability):
    fake_stability.mode = "server_error"
    for _ in range(FAST.breaker_fail_max):
        assert fails(stability.generate, ask()).code == "provider_error"
    assert fails(stability.generate, ask()).code == "provider_unavailable"
    assert len(fake_stability.requests) == FAST.breaker_fail_max  # a 5xx may have been billed: never resent


def test_stability_timeout_is_not_resent(fake_stability):
    provider = StabilityImages(fake_stability.origin, "sk-stab", http=SLOW_SERVER)
    fake_stability.mode = "timeout"
    assert fails(provider.generate, ask()).code == "timeout"
    assert len(fake_stability.requests) == 1
    provider.close()


def test_stability_wrong_key_is_auth_failed_without_retry(fake_stability):
    provider = StabilityImages(fake_stability.origin, "sk-wrong", http=FAST)
    status = settle(provider, provider.submit(ask()))
    assert (status.state, status.error_code) == ("failed", "auth_failed")
    assert len(fake_stability.requests) == 1
    provider.close()


@pytest.mark.parametrize("mode", ["malformed_body", "bad_base64", "not_image"])
def test_stability_bad_answers_are_bad_response(stability, fake_stability, mode):
    fake_stability.mode = mode
    assert fails(stability.generate, ask()).code == "bad_response"


def test_stability_cancel_is_honest_and_skips_the_calls_not_yet_made(stability, fake_stability):
    fake_stability.delay = 0.2
    handle = stability.submit(ask(n=3))
    assert fake_stability.wait_for(lambda: fake_stability.requests)  # the first call is on the wire
    assert stability.cancel(handle) is False  # the call on the wire cannot be stopped
    assert stability.status(handle).state == "canceled"
    assert fails(stability.result, handle).code == "canceled"
    time.sleep(0.3)
    assert len(fake_stability.requests) == 1
