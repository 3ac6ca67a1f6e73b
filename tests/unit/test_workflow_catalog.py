"""The operation catalog: well-formed schemas for the UI, defaults filled, every error naming its field."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from app.services.workflows import (
    OPERATIONS,
    ParamsInvalid,
    UnknownOperation,
    catalog,
    get_operation,
    validate_params,
)
from app.services.workflows.schema import fill_defaults

EXPECTED = {"resize", "social_preset", "upscale", "remove_background", "convert", "strip_metadata", "watermark",
            "adjust", "blur_faces", "palette", "rotate_flip"}


def errors_of(op_id: str, params) -> list[dict]:
    with pytest.raises(ParamsInvalid) as caught:
        validate_params(op_id, params)
    assert caught.value.status == 422 and caught.value.code == "invalid_params"
    return caught.value.errors


def test_catalog_lists_every_operation_with_a_schema_the_ui_can_build_a_form_from():
    entries = catalog()
    assert {e["id"] for e in entries} == EXPECTED and len(entries) == len(EXPECTED)
    for entry in entries:
        schema = entry["schema"]
        Draft202012Validator.check_schema(schema)
        assert entry["name"] and entry["description"] and entry["category"]
        assert schema["type"] == "object" and schema["additionalProperties"] is False
        orders = [p["x-order"] for p in schema["properties"].values()]
        assert len(set(orders)) == len(orders), entry["id"]
        for name, prop in schema["properties"].items():
            assert prop["title"], (entry["id"], name)
            if "enum" in prop:
                assert len(prop["x-enumNames"]) == len(prop["enum"]) and prop["default"] in prop["enum"]
            if prop.get("format") == "color":
                assert "pattern" in prop
            if "minimum" in prop and "default" in prop:
                assert prop["minimum"] <= prop["default"] <= prop["maximum"], (entry["id"], name)
        # The defaults alone are valid settings for every operation that has no required field.
        filled = fill_defaults(schema, {})
        required = set(schema.get("required", []))
        if not required and "allOf" not in schema:
            assert list(Draft202012Validator(schema).iter_errors(filled)) == [], entry["id"]


def test_remote_options_are_marked_by_availability():
    entries = {e["id"]: e for e in catalog(remote_available={"upscale"})}
    assert entries["upscale"]["remote"] == {"capability": "upscale", "available": True}
    assert "x-enumDisabled" not in entries["upscale"]["schema"]["properties"]["engine"]
    assert entries["remove_background"]["remote"] == {"capability": "remove_background", "available": False}
    assert entries["remove_background"]["schema"]["properties"]["engine"]["x-enumDisabled"] == ["remote"]
    assert entries["resize"]["remote"] is None
    assert "x-enumDisabled" not in OPERATIONS["remove_background"].schema["properties"]["engine"]  # not mutated


def test_defaults_are_filled():
    params = validate_params("resize", {"width": 1080, "height": 1350})
    assert params == {"width": 1080, "height": 1350, "fit": "cover", "crop": "center", "pad_color": "#ffffff",
                      "allow_upscale": True}
    assert validate_params("convert", {"format": "avif"})["quality"] == 85
    assert "target_kb" not in validate_params("convert", {})  # optional, no default
    assert validate_params("convert", {"target_kb": None})["target_kb"] is None  # an empty form field
    assert validate_params("resize", {"width": 1080.0, "height": 10})["width"] == 1080
    assert isinstance(validate_params("resize", {"width": 1080.0, "height": 10})["width"], int)


@pytest.mark.parametrize("op_id, params, field, words", [
    ("resize", {"width": 0, "height": 100}, "width", "at least 1"),
    ("resize", {"width": 100, "height": 20000}, "height", "at most 16384"),
    ("resize", {"width": 100, "height": 100, "fit": "fill"}, "fit", "one of: cover, contain, pad, stretch"),
    ("resize", {"width": 100, "height": 100, "colour": "red"}, "colour", "not a known setting"),
    ("resize", {"width": "100", "height": 100}, "width", "a whole number"),
    ("resize", {"height": 100}, "width", "is required"),
    ("resize", {"width": 10, "height": 10, "pad_color": "red"}, "pad_color", "color like #ff8800"),
    ("upscale", {"factor": 3}, "factor", "one of: 2, 4"),
    ("convert", {"quality": 101}, "quality", "at most 100"),
    ("convert", {"target_kb": 0}, "target_kb", "at least 1"),
    ("convert", {"target_kb": "big"}, "target_kb", "must be a whole number or empty"),
    ("watermark", {"kind": "logo"}, "logo", "is required"),
    ("watermark", {"kind": "text", "text": ""}, "text", "at least 1 characters"),
    ("watermark", {}, "text", "is required"),
    ("adjust", {"brightness": -1}, "brightness", "at least 0"),
    ("social_preset", {"preset": "myspace"}, "preset", "one of"),
    ("rotate_flip", {"flip": True}, "flip", "text"),
])
def test_each_error_names_its_field(op_id, params, field, words):
    errors = errors_of(op_id, params)
    assert [e["field"] for e in errors] == [field]
    assert words in errors[0]["message"]


def test_every_error_is_listed_at_once():
    errors = errors_of("resize", {"width": 0, "height": 99999, "fit": "x", "extra": 1})
    assert {e["field"] for e in errors} == {"width", "height", "fit", "extra"}
    exc = ParamsInvalid(errors)
    assert exc.field == errors[0]["field"] and "width: must be at least 1" in exc.message


def test_settings_must_be_an_object():
    assert errors_of("adjust", ["brightness"])[0]["message"] == "must be an object of settings"


def test_unknown_operation_has_its_own_error():
    with pytest.raises(UnknownOperation, match="no operation “sharpen”") as caught:
        validate_params("sharpen", {})
    assert caught.value.status == 404
    with pytest.raises(UnknownOperation):
        get_operation("__init__")


def test_remote_engine_without_a_provider_is_a_field_error():
    with pytest.raises(ParamsInvalid) as caught:
        validate_params("upscale", {"engine": "remote"}, remote_available=set())
    assert caught.value.field == "engine" and "no remote provider" in caught.value.errors[0]["message"]
    assert validate_params("upscale", {"engine": "remote"}, remote_available={"upscale"})["engine"] == "remote"
    assert validate_params("upscale", {"engine": "remote"})["engine"] == "remote"  # checked at run time instead
