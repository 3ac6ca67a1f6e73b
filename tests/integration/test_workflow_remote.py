"""Remote workflow steps (upscale, remove background) through fal and Replicate, end to end on real parts.

The providers are the loopback fakes of `tests.fake_queue_providers`, taught here (by subclassing) the image
models the steps call: fal's `fal-ai/esrgan` and `fal-ai/imageutils/rembg` take `{"image_url", "scale"}`
and answer `{"image": {"url", ...}}`; Replicate's `nightmareai/real-esrgan` and `cjwbw/rembg` take
`{"image", "scale"}` and answer one file URL. The "models" do real pixel work on the image they were sent
(a Lanczos enlargement; an elliptic cut-out), so the outputs can be checked against the inputs.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterator

import pytest
from PIL import Image, ImageDraw

from app.providers.http import reset_breakers
from tests.conftest import clear_caches
from tests.fake_providers import Recorded, Reply, json_reply
from tests.fake_queue_providers import FakeFal, FakeReplicate, FalJob, Prediction
from tests.integration.test_api_auth import ORIGIN, assert_error, login, register
from tests.integration.test_workflows import run_jobs, upload

FAL_UPSCALE, FAL_REMBG = "fal-ai/esrgan", "fal-ai/imageutils/rembg"
# Community models on Replicate run by version (the models endpoint serves official models only).
REPLICATE_UPSCALE = "nightmareai/real-esrgan:42fed1c4974146d4d2414e2be2c5277c7fcf05fcc3a73abf41610695738c1d7b"
REPLICATE_REMBG = "cjwbw/rembg:34bd50c3cdcf667a839abdcdde7201d5b39bbebb54aa037da542ee6e670d9786"
MODEL_FAILURE = "CUDA out of memory while processing the image"
_DATA_URI = re.compile(r"^data:image/(png|jpeg);base64,(?P<data>.+)$", re.S)


def data_image(value: object) -> Image.Image | None:
    """The picture in a `data:` URI as a provider decodes it, or None when it is not one."""
    match = _DATA_URI.match(value) if isinstance(value, str) else None
    if match is None:
        return None
    try:
        image = Image.open(io.BytesIO(base64.b64decode(match["data"], validate=True)))
        image.load()
    except (OSError, ValueError):
        return None
    return image


def model_output(kind: str, image: Image.Image, scale: float) -> bytes:
    """What the model makes of the image: enlarged `scale`×, or cut out (opaque ellipse, clear corners)."""
    if kind == "upscale":
        result = image.convert("RGB").resize((round(image.width * scale), round(image.height * scale)),
                                             Image.Resampling.LANCZOS)
    else:
        result = image.convert("RGBA")
        matte = Image.new("L", image.size, 0)
        ImageDraw.Draw(matte).ellipse((image.width // 4, image.height // 4, 3 * image.width // 4,
                                       3 * image.height // 4), fill=255)
        result.putalpha(matte)
    out = io.BytesIO()
    result.save(out, format="PNG", compress_level=1)
    return out.getvalue()


class FalImageModels(FakeFal):
    """fal's queue serving the upscaler and background remover. Requests start running at once (a warm app),
    so the first status poll completes them and the client never sleeps between polls."""

    models = {FAL_UPSCALE: "upscale", FAL_REMBG: "remove_background"}

    def __init__(self) -> None:
        super().__init__()
        self.progress_polls = 0
        self.fail_sizes: set[tuple[int, int]] = set()  # inputs of these sizes make the model fail

    def _submit(self, request: Recorded, mode: str) -> Reply:
        model, body = request.path.strip("/"), request.json
        if model not in self.models:
            return self._error(404, f"Application '{model}' not found")
        image = data_image(body.get("image_url") if isinstance(body, dict) else None)
        if image is None:
            return self._error(422, [{"loc": ["body", "image_url"], "msg": "field required or not an image",
                                      "type": "value_error"}])
        app = "/".join(model.split("/")[:2])
        error = (500, MODEL_FAILURE, "runner_server_error") if image.size in self.fail_sizes else self.fail_with
        job = FalJob(f"{next(self._ids):04d}-fal-{len(self.jobs)}", model, app, body, 0, state="IN_PROGRESS",
                     error=error)
        self.jobs[job.id] = job
        base = f"{self.origin}/{app}/requests/{job.id}"
        return json_reply(200, {"request_id": job.id, "queue_position": 0, "response_url": base,
                                "status_url": base + "/status", "cancel_url": base + "/cancel"})

    def _finish(self, job: FalJob) -> None:
        job.state = "COMPLETED"
        if job.error:
            return
        image = data_image(job.input["image_url"])
        png = model_output(self.models[job.model], image, float(job.input.get("scale", 1)))
        url = self.store_file(f"{job.id}.png", png)
        with Image.open(io.BytesIO(png)) as result:
            size = result.size
        job.output = {"image": {"url": url, "content_type": "image/png", "file_name": f"{job.id}.png",
                                "file_size": len(png), "width": size[0], "height": size[1]}}


class ReplicateImageModels(FakeReplicate):
    """Replicate serving the two community models by version. A prediction is answered finished at
    creation (what `Prefer: wait` gives for a fast model), so the client does not poll."""

    versions = {REPLICATE_UPSCALE.split(":")[1]: "upscale", REPLICATE_REMBG.split(":")[1]: "remove_background"}

    def __init__(self) -> None:
        super().__init__()
        self.starting_polls = self.processing_polls = 0
        self.fail_sizes: set[tuple[int, int]] = set()

    def _create(self, request: Recorded, model: str) -> Reply:
        body = request.json if isinstance(request.json, dict) else {}
        kind = self.versions.get(body.get("version"))
        if model or kind is None:
            return self._problem(422, "Invalid version or not permitted", "The specified version does not exist "
                                 "(or perhaps you don't have permission to use it?)")
        model_input = body.get("input")
        if not isinstance(model_input, dict) or data_image(model_input.get("image")) is None:
            return self._problem(422, "Input validation failed", "- input: image is required")
        prediction = Prediction(f"p{next(self._ids):06d}fake", kind, body["version"], model_input)
        self.predictions[prediction.id] = prediction
        self._advance(prediction)
        return json_reply(201, self._as_json(prediction))

    def _advance(self, prediction: Prediction) -> None:
        if prediction.status not in ("starting", "processing"):
            return
        image = data_image(prediction.input["image"])
        if self.fail_with or image.size in self.fail_sizes:
            prediction.status, prediction.error = "failed", self.fail_with or MODEL_FAILURE
            return
        png = model_output(prediction.model, image, float(prediction.input.get("scale", 4)))
        prediction.status, prediction.output = "succeeded", self.store_file(f"{prediction.id}.png", png)


@pytest.fixture(autouse=True)
def _fresh_breakers() -> Iterator[None]:
    reset_breakers()  # provider breakers are per process: one test's failures must not open the next one's
    yield
    reset_breakers()


@pytest.fixture
def signed_in(api, any_db):
    register(api)
    login(api)
    return api


@pytest.fixture
def fal(monkeypatch) -> Iterator[FalImageModels]:
    with FalImageModels() as fake:
        monkeypatch.setenv("IMAGE_FAL_KEY", fake.api_key)
        monkeypatch.setenv("IMAGE_FAL_BASE_URL", fake.base_url)
        clear_caches()
        yield fake


@pytest.fixture
def replicate(monkeypatch) -> Iterator[ReplicateImageModels]:
    with ReplicateImageModels() as fake:
        monkeypatch.setenv("IMAGE_REPLICATE_API_TOKEN", fake.api_token)
        monkeypatch.setenv("IMAGE_REPLICATE_BASE_URL", fake.base_url)
        monkeypatch.setenv("WORKFLOW_REPLICATE_UPSCALE_MODEL", REPLICATE_UPSCALE)
        monkeypatch.setenv("WORKFLOW_REPLICATE_BACKGROUND_MODEL", REPLICATE_REMBG)
        clear_caches()
        yield fake


@pytest.fixture(params=["fal", "replicate"])
def provider(request) -> FalImageModels | ReplicateImageModels:
    return request.getfixturevalue(request.param)


def sent_images(fake: FalImageModels | ReplicateImageModels) -> list[tuple[str, Image.Image, dict]]:
    """(model, picture, the rest of the input) of every job the provider received."""
    if isinstance(fake, FalImageModels):
        return [(job.model, data_image(job.input["image_url"]), {k: v for k, v in job.input.items()
                                                                  if k != "image_url"}) for job in fake.jobs.values()]
    return [(p.model, data_image(p.input["image"]), {k: v for k, v in p.input.items() if k != "image"})
            for p in fake.predictions.values()]


def pixels_of(api, asset_id: int) -> Image.Image:
    response = api.get(f"/api/v1/assets/{asset_id}/download")
    assert response.status_code == 200, response.text
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return image


def get_run(api, run_id: int) -> dict:
    return api.get(f"/api/v1/workflow-runs/{run_id}").json()


def test_catalog_shows_remote_engines_only_when_configured(signed_in, monkeypatch):
    def remote(op_id: str) -> tuple[dict, list | None]:
        body = signed_in.get(f"/api/v1/workflows/{op_id}").json()
        return body["remote"], body["schema"]["properties"]["engine"].get("x-enumDisabled")

    for op_id in ("upscale", "remove_background"):
        assert remote(op_id) == ({"capability": op_id, "available": False}, ["remote"])
    monkeypatch.setenv("IMAGE_REPLICATE_API_TOKEN", "r8_test")
    monkeypatch.setenv("WORKFLOW_REPLICATE_BACKGROUND_MODEL", "")  # an empty model name turns that step off
    clear_caches()
    assert remote("upscale") == ({"capability": "upscale", "available": True}, None)
    assert remote("remove_background") == ({"capability": "remove_background", "available": False}, ["remote"])
    listed = {op["id"]: op["remote"] for op in signed_in.get("/api/v1/workflows").json()["workflows"]}
    assert listed["upscale"]["available"] and not listed["remove_background"]["available"]
    assert listed["resize"] is None  # operations without a remote engine say so


def test_with_both_engines_each_step_goes_where_its_model_is_set(signed_in, fal, replicate, monkeypatch):
    monkeypatch.setenv("WORKFLOW_FAL_BACKGROUND_MODEL", "")  # fal has no cut-out model here: Replicate does it
    clear_caches()
    sources = upload(signed_in, 1, width=320, height=240)
    for op_id in ("upscale", "remove_background"):
        started = signed_in.post(f"/api/v1/workflows/{op_id}/runs", headers=ORIGIN,
                                 json={"asset_ids": sources, "params": {"engine": "remote"}})
        assert started.status_code == 202, started.text
    run_jobs()
    assert [model for model, _, _ in sent_images(fal)] == [FAL_UPSCALE]
    assert [model for model, _, _ in sent_images(replicate)] == ["remove_background"]


def test_recipe_with_remote_upscale_stores_outputs_at_the_factor(signed_in, provider):
    sources = upload(signed_in, 2, width=320, height=240)
    recipe = {"name": "Print size", "steps": [
        {"id": "big", "op": "upscale", "params": {"factor": 2, "engine": "remote"}},
        {"id": "web", "op": "convert", "input": "big", "params": {"format": "webp", "quality": 90}}]}
    created = signed_in.post("/api/v1/recipes", json=recipe, headers=ORIGIN)
    assert created.status_code == 201, created.text
    run = signed_in.post(f"/api/v1/recipes/{created.json()['id']}/runs", json={"asset_ids": sources},
                         headers=ORIGIN).json()
    run_jobs()
    done = get_run(signed_in, run["id"])
    assert done["status"] == "succeeded" and done["counts"]["done"] == 2, done
    sent = sent_images(provider)
    assert len(sent) == 2
    for model, picture, rest in sent:
        assert model in (FAL_UPSCALE, "upscale") and picture.size == (320, 240) and rest == {"scale": 2}
    for item in done["items"]:
        (output,) = item["output_asset_ids"]
        asset = signed_in.get(f"/api/v1/assets/{output}").json()
        assert (asset["width"], asset["height"], asset["mime"]) == (640, 480, "image/webp")
        source = pixels_of(signed_in, item["source_asset_id"]).resize((640, 480), Image.Resampling.LANCZOS)
        result = pixels_of(signed_in, output).convert("RGB")
        # The same picture at twice the size: the provider's enlargement of what we sent, carried through.
        assert max(abs(a - b) for a, b in zip(source.resize((32, 24)).tobytes(), result.resize((32, 24)).tobytes(),
                                              strict=True)) < 24


def test_remote_background_removal_keeps_the_size_and_the_models_matte(signed_in, provider):
    sources = upload(signed_in, 1, width=400, height=300)
    run = signed_in.post("/api/v1/workflows/remove_background/runs", headers=ORIGIN,
                         json={"asset_ids": sources, "params": {"engine": "remote"}}).json()
    run_jobs()
    done = get_run(signed_in, run["id"])
    assert done["status"] == "succeeded", done
    (item,) = done["items"]
    assert item["info"]["remove_background"]["engine"] == "remote"
    asset = signed_in.get(f"/api/v1/assets/{item['output_asset_ids'][0]}").json()
    assert (asset["width"], asset["height"], asset["mime"]) == (400, 300, "image/png")
    alpha = pixels_of(signed_in, asset["id"]).getchannel("A")
    assert alpha.getpixel((200, 150)) == 255 and alpha.getpixel((5, 5)) == 0  # the fake's ellipse, not GrabCut
    ((model, picture, rest),) = sent_images(provider)
    assert model in (FAL_REMBG, "remove_background") and picture.size == (400, 300) and rest == {}


def test_big_photos_go_to_the_background_remover_smaller_and_are_refused_by_the_upscaler(signed_in, fal):
    # 2400×1800 at JPEG quality 95 is over 1 MB: more than a provider input may carry as a data: URI.
    sources = upload(signed_in, 1, width=2400, height=1800)
    cut = signed_in.post("/api/v1/workflows/remove_background/runs", headers=ORIGIN,
                         json={"asset_ids": sources, "params": {"engine": "remote"}}).json()
    enlarge = signed_in.post("/api/v1/workflows/upscale/runs", headers=ORIGIN,
                             json={"asset_ids": sources, "params": {"engine": "remote"}}).json()
    run_jobs()
    ((_, picture, _),) = sent_images(fal)  # only the background remover was called
    assert picture.width < 2400 and abs(picture.width / picture.height - 4 / 3) < 0.01
    (item,) = get_run(signed_in, cut["id"])["items"]
    asset = signed_in.get(f"/api/v1/assets/{item['output_asset_ids'][0]}").json()
    assert (asset["width"], asset["height"]) == (2400, 1800)  # the matte is scaled back to the photo
    (refused,) = get_run(signed_in, enlarge["id"])["items"]
    assert refused["status"] == "failed" and "too large to send" in refused["error"]


def test_a_remote_failure_fails_its_item_alone(signed_in, provider):
    provider.fail_sizes = {(240, 240)}
    sources = upload(signed_in, 1, width=320, height=240) + upload(signed_in, 1, width=240, height=240)
    remote = signed_in.post("/api/v1/workflows/upscale/runs", headers=ORIGIN,
                            json={"asset_ids": sources, "params": {"engine": "remote"}}).json()
    local = signed_in.post("/api/v1/workflows/upscale/runs", headers=ORIGIN,
                           json={"asset_ids": sources, "params": {"engine": "local"}}).json()
    run_jobs()
    done = get_run(signed_in, remote["id"])
    assert done["status"] == "partial" and [i["status"] for i in done["items"]] == ["done", "failed"]
    error = done["items"][1]["error"]
    assert error.startswith("The remote provider failed") and MODEL_FAILURE in error and not done["items"][1][
        "output_asset_ids"]
    untouched = get_run(signed_in, local["id"])
    assert untouched["status"] == "succeeded" and untouched["counts"]["done"] == 2
    sizes = [(a["width"], a["height"]) for a in (signed_in.get(f"/api/v1/assets/{i['output_asset_ids'][0]}").json()
                                                  for i in untouched["items"])]
    assert sizes == [(640, 480), (480, 480)]
    assert len(sent_images(provider)) == 2  # the local run never called the provider


def test_a_provider_outage_fails_the_remote_run_not_the_job(signed_in, fal):
    fal.mode = "server_error"  # every request answers 500
    sources = upload(signed_in, 2, width=320, height=240)
    remote = signed_in.post("/api/v1/workflows/remove_background/runs", headers=ORIGIN,
                            json={"asset_ids": sources, "params": {"engine": "remote"}}).json()
    local = signed_in.post("/api/v1/workflows/adjust/runs", headers=ORIGIN,
                           json={"asset_ids": sources, "params": {"contrast": 1.2}}).json()
    run_jobs()
    done = get_run(signed_in, remote["id"])
    assert done["status"] == "failed" and done["counts"]["failed"] == 2
    assert all(i["error"].startswith("The remote provider failed") and "500" in i["error"] for i in done["items"])
    job = signed_in.get(f"/api/v1/jobs/{done['job_id']}").json()
    assert job["status"] == "succeeded", job  # the items failed; the job ran to its end and is not retried
    assert get_run(signed_in, local["id"])["counts"]["done"] == 2


def test_remote_steps_are_refused_naming_engine_without_a_provider(signed_in, monkeypatch):
    sources = upload(signed_in, 1)
    for op_id in ("upscale", "remove_background"):
        response = signed_in.post(f"/api/v1/workflows/{op_id}/runs", headers=ORIGIN,
                                  json={"asset_ids": sources, "params": {"engine": "remote"}})
        assert_error(response, 422, "invalid_params")
        assert [f["field"] for f in response.json()["error"]["fields"]] == ["engine"]
        assert "engine" in response.json()["error"]["message"]
    recipe = {"name": "Cut-outs", "steps": [{"id": "cut", "op": "remove_background", "params": {"engine": "remote"}}]}
    refused = signed_in.post("/api/v1/recipes", json=recipe, headers=ORIGIN)
    assert_error(refused, 422, "invalid_params")
    assert refused.json()["error"]["fields"][0]["field"] == "steps[0].params.engine"
    # Saved while a provider was configured, run after it was removed: refused before anything is queued.
    monkeypatch.setenv("IMAGE_FAL_KEY", "fal-test")
    clear_caches()
    saved = signed_in.post("/api/v1/recipes", json=recipe, headers=ORIGIN)
    assert saved.status_code == 201, saved.text
    monkeypatch.delenv("IMAGE_FAL_KEY")
    clear_caches()
    again = signed_in.post(f"/api/v1/recipes/{saved.json()['id']}/runs", json={"asset_ids": sources}, headers=ORIGIN)
    assert_error(again, 422, "invalid_params")
    assert again.json()["error"]["fields"][0]["field"] == "steps[0].params.engine"
    assert signed_in.get("/api/v1/workflow-runs").json()["runs"] == []
