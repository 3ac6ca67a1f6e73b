"""Workflow steps (upscale, remove background) on local AI servers: A1111 / Forge and ComfyUI, against fakes on
real loopback HTTP servers that do real pixel work, through the operations (size and matte checks included)."""

from __future__ import annotations

import base64
import io
import json
import socket
from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from app.errors import ValidationFailed
from app.providers.http import HttpOptions, reset_breakers
from app.services.generation.adapters.comfyui_workflow import WorkflowError, load_workflow
from app.services.workflows import OpContext, OperationFailed, run_operation
from app.services.workflows.step_engines import hook_from_engines
from app.services.workflows.steps_a1111 import A1111Steps
from app.services.workflows.steps_comfyui import DEFAULT_FILES, ComfyUISteps, load_step_workflow
from tests import workflow_pictures as pictures
from tests.fake_comfyui import FakeComfyUI
from tests.fake_image_providers import FakeA1111

FAST = HttpOptions(connect_timeout=0.5, read_timeout=5.0, retries=1, backoff=0.01, backoff_max=0.05,
                   retry_after_cap=2.0, breaker_fail_max=5, breaker_reset_seconds=30.0,
                   max_response_bytes=64 * 1024 * 1024)


@pytest.fixture(autouse=True)
def fresh_breakers() -> Iterator[None]:
    reset_breakers()
    yield
    reset_breakers()


@pytest.fixture
def a1111() -> Iterator[FakeA1111]:
    with FakeA1111() as server:
        yield server


@pytest.fixture
def comfy() -> Iterator[FakeComfyUI]:
    server = FakeComfyUI().start()
    yield server
    server.stop()


def on(engine, op_id: str, data: bytes, **params):
    """The step run by `engine` through its operation, as a workflow item runs it."""
    ctx = OpContext(remote=hook_from_engines({op_id: engine}))
    return run_operation(op_id=op_id, image=data, params={"engine": "remote", **params}, ctx=ctx)[0]


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def alpha_in(image: Image.Image, box: tuple[int, int, int, int]) -> np.ndarray:
    return np.asarray(image.getchannel("A").crop(box)).astype(int)


def assert_clean_cut(image: Image.Image) -> None:
    """The product shot cut out: the bottle and its label kept, the studio backdrop clear."""
    assert image.mode == "RGBA" and image.size == (640, 480)
    assert alpha_in(image, pictures.BOTTLE).min() == 255 and alpha_in(image, pictures.LABEL).min() == 255
    for box in pictures.BACKDROP:
        assert alpha_in(image, box).max() <= 8, box


def down_url() -> str:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# --- AUTOMATIC1111 / Forge --------------------------------------------------------------------------------


def test_a1111_upscale_2x_gives_the_exact_size_and_asks_for_the_configured_upscaler(a1111):
    out = on(A1111Steps(a1111.origin, http=FAST), "upscale", pictures.product_on_white(), factor=2)
    assert (out.width, out.height) == (1280, 960) and decoded(out.data).size == (1280, 960)
    assert "resized_from" not in out.info
    body = a1111.sent("POST", "/sdapi/v1/extra-single-image")[0].json
    assert body["upscaler_1"] == "R-ESRGAN 4x+" and body["upscaling_resize"] == 2 and body["resize_mode"] == 0
    assert decoded(base64.b64decode(body["image"])).size == (640, 480)


def test_a1111_upscaler_that_answers_at_its_own_4x_is_brought_to_the_2x_asked(a1111):
    a1111.native_only = True
    engine = A1111Steps(a1111.origin, upscaler="ESRGAN_4x", http=FAST)
    result = engine.run("upscale", pictures.logo(), {"factor": 2})
    assert decoded(result).size == (1200, 600)  # the server made 2400×1200
    assert on(engine, "upscale", pictures.logo(), factor=4).width == 2400


def test_a1111_unknown_upscaler_is_a_clear_setting_error(a1111):
    engine = A1111Steps(a1111.origin, upscaler="4x-Nonexistent", http=FAST)
    with pytest.raises(OperationFailed) as caught:
        engine.run("upscale", pictures.logo(), {"factor": 2})
    assert caught.value.code == "remote_bad_request"
    assert "could not find upscaler named 4x-Nonexistent" in caught.value.message
    assert len(a1111.sent("POST", "/sdapi/v1/extra-single-image")) == 1  # a setting error is not retried


def test_a1111_rembg_cut_out_passes_the_matte_check(a1111):
    out = on(A1111Steps(a1111.origin, rembg_model="isnet-general-use", http=FAST), "remove_background",
             pictures.product_on_white())
    assert_clean_cut(decoded(out.data))
    body = a1111.sent("POST", "/rembg")[0].json
    assert body["model"] == "isnet-general-use" and body["return_mask"] is False and body["alpha_matting"] is False
    assert decoded(base64.b64decode(body["input_image"])).size == (640, 480)


def test_a1111_without_the_rembg_extension_says_so(a1111):
    a1111.rembg_installed = False
    engine = A1111Steps(a1111.origin, http=FAST)
    assert engine.probe() == {"upscalers": ["None", "Lanczos", "Nearest", "R-ESRGAN 4x+", "ESRGAN_4x"],
                              "rembg": False}
    with pytest.raises(OperationFailed) as caught:
        on(engine, "remove_background", pictures.product_on_white())
    assert caught.value.code == "remote_extension_missing"
    assert "has no /rembg endpoint: install the stable-diffusion-webui-rembg extension" in caught.value.message
    a1111.rembg_installed = True
    assert engine.probe()["rembg"] is True


@pytest.mark.parametrize("cutout, reason", [
    ("wrecked", "scattered specks, not a subject"),
    ("unchanged", "it kept the whole picture: the background was not removed"),
])
def test_a1111_wrecked_or_missing_matte_fails_the_item(a1111, cutout, reason):
    a1111.cutout = cutout
    with pytest.raises(OperationFailed) as caught:
        on(A1111Steps(a1111.origin, http=FAST), "remove_background", pictures.product_on_white())
    assert caught.value.code == "remote_bad_result"
    assert caught.value.message.startswith("The remote background remover's cut-out is not usable") \
        and reason in caught.value.message


def test_a1111_saving_jpeg_loses_the_alpha_and_says_which_setting(a1111):
    a1111.samples_format = "jpg"
    with pytest.raises(OperationFailed) as caught:
        on(A1111Steps(a1111.origin, http=FAST), "remove_background", pictures.product_on_white())
    assert caught.value.code == "remote_bad_result" and "set the web UI's image file format to png" in \
        caught.value.message
    assert on(A1111Steps(a1111.origin, http=FAST), "upscale", pictures.logo()).width == 1200  # no alpha needed


def test_a1111_with_auth_sends_basic_credentials(a1111):
    a1111.auth = ("ada", "s3cret")
    with pytest.raises(OperationFailed) as caught:
        A1111Steps(a1111.origin, http=FAST).run("upscale", pictures.logo(), {"factor": 2})
    assert caught.value.code == "remote_auth_failed"
    result = A1111Steps(a1111.origin, auth="ada:s3cret", http=FAST).run("upscale", pictures.logo(), {"factor": 2})
    assert decoded(result).size == (1200, 600)


def test_a1111_down_is_a_specific_failure():
    url = down_url()
    with pytest.raises(OperationFailed) as caught:
        on(A1111Steps(url, http=FAST), "upscale", pictures.logo(), factor=2)
    assert caught.value.code == "remote_provider_unavailable"
    assert caught.value.message.startswith(f"AUTOMATIC1111 at {url[7:]} failed: cannot reach AUTOMATIC1111 at")


# --- ComfyUI ------------------------------------------------------------------------------------------------


def test_comfyui_upscale_through_the_bundled_workflow(comfy):
    out = on(ComfyUISteps(comfy.origin, http=FAST, deadline_seconds=10), "upscale", pictures.product_on_white(),
             factor=2)
    assert (out.width, out.height) == (1280, 960) and "resized_from" not in out.info
    upload = comfy.sent("POST", "/upload/image")
    assert len(upload) == 1 and upload[0].headers["content-type"].startswith("multipart/form-data")
    graph = comfy.sent("POST", "/prompt")[0].json["prompt"]
    assert graph["2"]["inputs"]["model_name"] == "RealESRGAN_x4plus.pth"
    assert graph["4"]["inputs"]["scale_by"] == 0.5  # the 4× model's result taken down to the 2× asked
    assert ("input", "", graph["1"]["inputs"]["image"]) in comfy.files


def test_comfyui_upscale_with_a_2x_model_and_an_unnamed_scale(comfy):
    engine = ComfyUISteps(comfy.origin, upscale_model="RealESRGAN_x2plus.pth", http=FAST, deadline_seconds=10)
    assert decoded(engine.run("upscale", pictures.logo(), {"factor": 4})).size == (2400, 1200)
    assert comfy.sent("POST", "/prompt")[0].json["prompt"]["4"]["inputs"]["scale_by"] == 2.0
    comfy.upscale_models["realesr-general-v3.pth"] = 4  # a name that does not say its scale: resized here
    engine = ComfyUISteps(comfy.origin, upscale_model="realesr-general-v3.pth", http=FAST, deadline_seconds=10)
    assert decoded(engine.run("upscale", pictures.logo(), {"factor": 2})).size == (1200, 600)


def test_comfyui_cut_out_through_the_bundled_workflow(comfy):
    engine = ComfyUISteps(comfy.origin, background_model="isnet-general-use", http=FAST, deadline_seconds=10)
    out = on(engine, "remove_background", pictures.product_on_white())
    assert_clean_cut(decoded(out.data))
    graph = comfy.sent("POST", "/prompt")[0].json["prompt"]
    assert graph["2"]["class_type"] == "Image Rembg (Remove Background)" and graph["2"]["inputs"]["model"] == \
        "isnet-general-use"


def test_comfyui_wrecked_matte_fails_the_item(comfy):
    comfy.cutout = "wrecked"
    with pytest.raises(OperationFailed, match="scattered specks"):
        on(ComfyUISteps(comfy.origin, http=FAST, deadline_seconds=10), "remove_background", pictures.logo())


def test_comfyui_without_the_custom_node_or_with_a_failing_node_says_which(comfy, tmp_path):
    document = json.loads(DEFAULT_FILES["remove_background"].read_text())
    document["workflow"]["2"] = {"class_type": "InspyrenetRembg", "inputs": {"image": ["1", 0],
                                                                             "torchscript_jit": "default"}}
    del document["params"]["model"]
    path = tmp_path / "inspyrenet.json"
    path.write_text(json.dumps(document))
    engine = ComfyUISteps(comfy.origin, background_workflow=load_step_workflow("remove_background", path),
                          http=FAST, deadline_seconds=10)
    with pytest.raises(OperationFailed) as caught:
        engine.run("remove_background", pictures.logo(), {})
    assert caught.value.code == "remote_bad_request" and "node InspyrenetRembg does not exist" in caught.value.message
    comfy.fail_with = "CUDA out of memory"
    with pytest.raises(OperationFailed) as caught:
        ComfyUISteps(comfy.origin, http=FAST, deadline_seconds=10).run("upscale", pictures.logo(), {"factor": 2})
    assert caught.value.code == "remote_provider_error" and "CUDA out of memory" in caught.value.message


def test_comfyui_past_the_deadline_fails_and_leaves_the_queue(comfy):
    comfy.hold()
    engine = ComfyUISteps(comfy.origin, http=FAST, deadline_seconds=0.3)
    with pytest.raises(OperationFailed) as caught:
        engine.run("upscale", pictures.logo(), {"factor": 2})
    assert caught.value.code == "remote_timeout" and "did not finish the step within 0.3 s" in caught.value.message
    assert comfy.pending == {} and comfy.sent("POST", "/queue")[0].json["delete"]


def test_comfyui_down_is_a_specific_failure():
    url = down_url()
    with pytest.raises(OperationFailed) as caught:
        ComfyUISteps(url, http=FAST, deadline_seconds=5).run("remove_background", pictures.logo(), {})
    assert caught.value.code == "remote_provider_unavailable"
    assert caught.value.message.startswith(f"ComfyUI at {url[7:]} failed: cannot reach comfyui")


@pytest.mark.parametrize("change, message", [
    (lambda d: d["params"].update(scale=["4", "inputs", "upscale_method"]),
     "params.scale: 4/inputs/upscale_method holds 'lanczos', but scale needs a number"),
    (lambda d: d["params"].update(model=["9", "inputs", "model_name"]), "params.model: the workflow has no '9'"),
    (lambda d: d["params"].pop("image"), "\"params\" must say where the image goes"),
    (lambda d: d["params"].update(prompt=["1", "inputs", "image"]), "unknown parameter(s) prompt; known: image, "
                                                                    "model, scale"),
])
def test_a_bad_custom_workflow_map_is_refused_naming_the_parameter(tmp_path, change, message):
    document = json.loads(DEFAULT_FILES["upscale"].read_text())
    change(document)
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(document))
    with pytest.raises(WorkflowError) as caught:
        load_step_workflow("upscale", path)
    assert message in str(caught.value) and str(path) in str(caught.value)


def test_bundled_step_workflows_load_and_generation_keeps_its_own_parameters():
    assert set(load_step_workflow("upscale").params) == {"image", "model", "scale"}
    assert set(load_step_workflow("remove_background").params) == {"image", "model"}
    with pytest.raises(WorkflowError, match=r"unknown parameter\(s\) image, scale; known: prompt"):
        load_workflow(DEFAULT_FILES["upscale"])  # text-to-image's own map check is unchanged


# --- the hook ------------------------------------------------------------------------------------------------


def test_hook_sends_each_step_to_its_engine_and_refuses_what_an_engine_cannot_do(a1111, comfy):
    hook = hook_from_engines({"upscale": A1111Steps(a1111.origin, http=FAST),
                              "remove_background": ComfyUISteps(comfy.origin, http=FAST, deadline_seconds=10)})
    ctx = OpContext(remote=hook)
    run_operation(op_id="upscale", image=pictures.logo(), params={"engine": "remote"}, ctx=ctx)
    run_operation(op_id="remove_background", image=pictures.logo(), params={"engine": "remote"}, ctx=ctx)
    assert len(a1111.sent("POST", "/sdapi/v1/extra-single-image")) == 1 and not a1111.sent("POST", "/rembg")
    assert len(comfy.sent("POST", "/prompt")) == 1
    with pytest.raises(ValueError, match="the a1111 engine cannot run the “remove_background” step"):
        hook_from_engines({"remove_background": A1111Steps(a1111.origin, rembg_model="", http=FAST)})
    only_upscale = hook_from_engines({"upscale": A1111Steps(a1111.origin, http=FAST)})
    with pytest.raises(ValidationFailed) as caught:
        only_upscale("remove_background", pictures.logo(), {})
    assert caught.value.code == "remote_not_configured"


def test_engines_refuse_bad_connection_values():
    with pytest.raises(ValueError, match="must start with http"):
        A1111Steps("127.0.0.1:7860")
    with pytest.raises(ValueError, match="user:password"):
        A1111Steps("http://127.0.0.1:7860", auth="justapassword")
    with pytest.raises(ValueError, match="must start with http"):
        ComfyUISteps("ftp://example.com", http=replace(FAST), deadline_seconds=1)
