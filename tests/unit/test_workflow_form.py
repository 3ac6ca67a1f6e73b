"""The form an operation's schema generates, and the form's strings back as settings the schema accepts."""

import pytest

from app.services.workflows.base import ParamsInvalid
from app.services.workflows.catalog import catalog, validate_params
from app.services.workflows.form import defaults, form_fields, typed_params

SCHEMAS = {op["id"]: op["schema"] for op in catalog()}


def test_fields_follow_the_schema_order_kinds_and_visibility():
    values = defaults(SCHEMAS["resize"])
    fields = form_fields(SCHEMAS["resize"], values)
    assert [f["name"] for f in fields] == ["width", "height", "fit", "crop", "pad_color", "allow_upscale"]
    kinds = {f["name"]: f["kind"] for f in fields}
    assert kinds == {"width": "integer", "height": "integer", "fit": "choice", "crop": "choice", "pad_color": "color",
                     "allow_upscale": "boolean"}
    visible = {f["name"] for f in fields if f["visible"]}
    assert visible == {"width", "height", "fit", "crop", "allow_upscale"}  # padding colour only with fit = pad
    fields = form_fields(SCHEMAS["resize"], {**values, "fit": "pad"})
    assert {f["name"] for f in fields if f["visible"]} == {"width", "height", "fit", "pad_color", "allow_upscale"}
    fit = next(f for f in fields if f["name"] == "fit")
    assert fit["options"][0]["value"] == "cover" and fit["options"][0]["label"].startswith("Cover")


def test_remote_choice_is_marked_when_not_configured():
    upscale = next(op for op in catalog() if op["id"] == "upscale")["schema"]
    engine = next(f for f in form_fields(upscale, defaults(upscale)) if f["name"] == "engine")
    assert [o["label"].endswith("(not configured)") for o in engine["options"]] == [False, True]


@pytest.mark.parametrize("op_id", sorted(SCHEMAS))
def test_defaults_round_trip_through_the_schema(op_id):
    schema = SCHEMAS[op_id]
    values = defaults(schema)
    extra = {"resize": {"width": "640", "height": "480"}, "watermark": {"text": "© Atelier"}}.get(op_id, {})
    params = typed_params(schema, {**values, **extra})
    validate_params(op_id, params)  # raises if the form's own defaults did not fit the schema


def test_typed_values_and_errors_still_name_the_field():
    schema = SCHEMAS["upscale"]
    assert typed_params(schema, {"factor": "4", "engine": "local", "sharpen": "40", "radius": "2.5"}) == {
        "factor": 4, "engine": "local", "sharpen": 40, "radius": 2.5}
    params = typed_params(SCHEMAS["resize"], {"width": "12px", "height": "100", "fit": "cover"})
    assert params["width"] == "12px"  # passed on as text so validation names the field
    with pytest.raises(ParamsInvalid) as caught:
        validate_params("resize", params)
    assert caught.value.errors[0]["field"] == "width"
