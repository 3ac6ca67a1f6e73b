"""Recipes: chained steps with references, whole-recipe validation by path, runs that honour every setting."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app.services.workflows import (
    Frame,
    OpContext,
    OperationFailed,
    ParamsInvalid,
    RemoteNotConfigured,
    prepare_recipe,
    run_recipe,
)
from app.services.workflows.recipes import MAX_STEPS
from tests import images

PORTRAIT_WEB = {
    "name": "Instagram portrait, web",
    "steps": [
        {"id": "crop", "op": "resize", "params": {"width": 1080, "height": 1350, "fit": "cover"}},
        {"id": "tone", "op": "adjust", "params": {"contrast": 1.1, "saturation": 1.2}, "input": "crop"},
        {"id": "web", "op": "convert", "params": {"format": "webp", "quality": 80}, "input": "tone"},
    ],
    "outputs": ["web"],
}


def decode(output) -> Image.Image:
    image = Image.open(io.BytesIO(output.data))
    image.load()
    return image


def recipe_errors(recipe, **options) -> list[dict]:
    with pytest.raises(ParamsInvalid) as caught:
        prepare_recipe(recipe, **options)
    return caught.value.errors


def test_three_steps_give_exactly_the_size_and_format():
    result = run_recipe(recipe=PORTRAIT_WEB, image=images.jpeg(1600, 1200, seed=1))
    (out,) = result["web"]
    image = decode(out)
    assert list(result) == ["web"] and image.format == "WEBP" and image.size == (1080, 1350)
    assert (out.mime, out.ext, out.width, out.height) == ("image/webp", "webp", 1080, 1350)
    assert out.info["quality"] == 80


def test_every_item_of_a_batch_gets_the_same_settings():
    recipe = {**PORTRAIT_WEB, "steps": [{**PORTRAIT_WEB["steps"][0], "params": {"width": 216, "height": 270}},
                                        *PORTRAIT_WEB["steps"][1:]]}
    prepared = prepare_recipe(recipe)
    batch = [images.jpeg(1600, 900, seed=2), images.jpeg(600, 1000, seed=3), images.png(100, 60, seed=4),
             images.jpeg(640, 480, exif=images.exif_with_orientation(8)),
             images.encode(images.photo(500, 500), "WEBP"), images.encode(images.photo(300, 200), "GIF")]
    for data in batch:
        (out,) = prepared.run(data)["web"]
        assert decode(out).size == (216, 270) and decode(out).format == "WEBP" and out.info["quality"] == 80


def test_branches_from_one_step_and_outputs_in_order():
    recipe = {"name": "Two sizes", "steps": [
        {"id": "upright", "op": "rotate_flip", "params": {"flip": "horizontal"}},
        {"id": "square", "op": "resize", "params": {"width": 200, "height": 200}, "input": "upright"},
        {"id": "banner", "op": "resize", "params": {"width": 600, "height": 150}, "input": "upright"},
        {"id": "thumb", "op": "convert", "params": {"format": "png"}, "input": "square"},
    ], "outputs": ["banner", "thumb"]}
    result = run_recipe(recipe=recipe, image=images.jpeg(800, 600))
    assert list(result) == ["banner", "thumb"]
    assert decode(result["banner"][0]).size == (600, 150) and decode(result["banner"][0]).format == "JPEG"
    assert decode(result["thumb"][0]).size == (200, 200) and decode(result["thumb"][0]).format == "PNG"


def test_outputs_default_to_the_last_step_and_extra_files_come_along():
    recipe = {"name": "Palette", "steps": [{"id": "colours", "op": "palette", "params": {"colors": 4}}]}
    prepared = prepare_recipe(recipe)
    assert prepared.outputs == ("colours",)
    swatch, document = prepared.run(images.jpeg(300, 200))["colours"]
    assert swatch.mime == "image/png" and document.mime == "application/json"


def test_steps_no_output_depends_on_are_not_run():
    recipe = {"name": "Unused remote step", "steps": [
        {"id": "big", "op": "upscale", "params": {"engine": "remote"}},
        {"id": "small", "op": "resize", "params": {"width": 50, "height": 50}},
    ], "outputs": ["small"]}
    assert decode(run_recipe(recipe=recipe, image=images.jpeg(200, 100))["small"][0]).size == (50, 50)


def test_a_convert_in_the_middle_feeds_its_encoded_pixels_on():
    recipe = {"name": "Crunch then resize", "steps": [
        {"id": "crunch", "op": "convert", "params": {"format": "jpeg", "quality": 5}},
        {"id": "size", "op": "resize", "params": {"width": 100, "height": 100}, "input": "crunch"},
    ]}
    out = run_recipe(recipe=recipe, image=images.png(300, 300))["size"][0]
    assert decode(out).format == "JPEG" and decode(out).size == (100, 100)


def test_runs_on_a_frame_passed_in():
    frame = Frame(format="PNG", _image=images.photo(120, 80).convert("RGBA"))
    recipe = {"name": "Flip", "steps": [{"id": "f", "op": "rotate_flip", "params": {"angle": 90}}]}
    assert decode(run_recipe(recipe=recipe, image=frame)["f"][0]).size == (80, 120)


@pytest.mark.parametrize("mutate, field, words", [
    (lambda r: r["steps"][1].update(input="web"), "steps[1].input", "not an earlier step"),
    (lambda r: r["steps"][1].update(input="nowhere"), "steps[1].input", "neither “source” nor a step"),
    (lambda r: r["steps"][1].update(input="tone"), "steps[1].input", "not an earlier step"),  # itself
    (lambda r: r["steps"][2].update(id="crop"), "steps[2].id", "already the id of steps[0]"),
    (lambda r: r["steps"][1]["params"].update(contrast=9), "steps[1].params.contrast", "at most 3"),
    (lambda r: r["steps"][0]["params"].pop("width"), "steps[0].params.width", "is required"),
    (lambda r: r["steps"][2].update(op="sharpen"), "steps[2].op", "not an operation"),
    (lambda r: r.update(outputs=["final"]), "outputs[0]", "not a step of this recipe"),
    (lambda r: r.update(outputs=[]), "outputs", "at least 1 items"),
    (lambda r: r["steps"][0].update(id="source"), "steps[0].id", "reserved name"),
    (lambda r: r["steps"][0].update(id="1st step"), "steps[0].id", "must match"),
    (lambda r: r.pop("name"), "name", "is required"),
    (lambda r: r.update(colour="red"), "colour", "not a known setting"),
    (lambda r: r["steps"][0].update(when="always"), "steps[0].when", "not a known setting"),
])
def test_invalid_recipes_name_the_field(mutate, field, words):
    recipe = {**PORTRAIT_WEB, "steps": [{**s, "params": dict(s["params"])} for s in PORTRAIT_WEB["steps"]]}
    mutate(recipe)
    errors = recipe_errors(recipe)
    assert field in [e["field"] for e in errors]
    assert words in next(e["message"] for e in errors if e["field"] == field)


def test_all_errors_of_a_recipe_come_at_once():
    recipe = {"name": "Broken", "steps": [
        {"id": "a", "op": "resize", "params": {"width": 0, "height": 10}},
        {"id": "b", "op": "blur", "input": "a"},
        {"id": "c", "op": "convert", "params": {"format": "gif"}, "input": "d"},
    ], "outputs": ["c", "z"]}
    fields = [e["field"] for e in recipe_errors(recipe)]
    assert fields == ["steps[0].params.width", "steps[1].op", "steps[2].input", "steps[2].params.format", "outputs[1]"]


def test_limits_on_recipe_size():
    steps = [{"id": f"s{i}", "op": "adjust", "params": {}} for i in range(MAX_STEPS + 1)]
    assert any(e["field"] == "steps" and "at most 20" in e["message"]
               for e in recipe_errors({"name": "Long", "steps": steps}))
    assert recipe_errors({"name": "x" * 121, "steps": steps[:1]})[0]["field"] == "name"
    assert recipe_errors("not a recipe")[0]["message"] == "must be an object"


def test_remote_steps_checked_against_configured_providers():
    recipe = {"name": "Cut out", "steps": [{"id": "cut", "op": "remove_background", "params": {"engine": "remote"}}]}
    errors = recipe_errors(recipe, remote_available={"upscale"})
    assert errors[0]["field"] == "steps[0].params.engine"
    prepared = prepare_recipe(recipe, remote_available={"remove_background"})
    assert prepared.remote_needs == {"remove_background"}
    with pytest.raises(RemoteNotConfigured, match="needs a remote provider; none is configured") as caught:
        prepared.run(images.jpeg(100, 100))
    assert caught.value.step == "cut"


def test_a_failing_step_is_named():
    recipe = {"name": "Too big", "steps": [
        {"id": "first", "op": "adjust", "params": {}},
        {"id": "huge", "op": "upscale", "params": {"factor": 4}, "input": "first"}]}
    with pytest.raises(OperationFailed, match="Step “huge” \\(Upscale\\): The result would be") as caught:
        run_recipe(recipe=recipe, image=images.jpeg(400, 300), ctx=OpContext(max_output_pixels=1_000_000))
    assert caught.value.step == "huge" and caught.value.code == "output_too_large"


def test_asset_references_for_the_caller_to_resolve():
    recipe = {"name": "Brand", "steps": [
        {"id": "logo", "op": "watermark", "params": {"kind": "logo", "logo": "asset-42"}},
        {"id": "text", "op": "watermark", "params": {"kind": "text", "text": "©", "logo": "ignored"}, "input": "logo"},
    ]}
    assert prepare_recipe(recipe).asset_refs == {"asset-42"}
