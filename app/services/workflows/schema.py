"""Small builders for operation schemas (JSON Schema 2020-12 plus UI hints) and their validation.

UI hints: `x-order` (form order), `x-enumNames` (labels for `enum` values, same order), `x-visibleIf`
({"field": [values]}: show the field only then), `format: "color"` (a colour picker; `#rrggbb` or
`#rrggbbaa`), `x-unit` (shown after the input).
"""

from __future__ import annotations

import re
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from app.services.workflows.base import FieldError, ParamsInvalid

COLOR_PATTERN = "^#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$"


def _prop(kind: str, title: str, order: int, description: str, extra: dict[str, Any]) -> dict[str, Any]:
    prop: dict[str, Any] = {"type": kind, "title": title, "x-order": order}
    if description:
        prop["description"] = description
    prop.update({k: v for k, v in extra.items() if v is not None})
    return prop


def integer(title: str, *, order: int, minimum: int, maximum: int, default: int | None = None,
            description: str = "", unit: str | None = None, visible_if: dict | None = None,
            optional: bool = False) -> dict[str, Any]:
    """A whole number; `optional` ones may also be null (an empty form field)."""
    prop = _prop("integer", title, order, description, {"minimum": minimum, "maximum": maximum, "default": default,
                                                        "x-unit": unit, "x-visibleIf": visible_if})
    if optional:
        prop["type"] = ["integer", "null"]
    return prop


def number(title: str, *, order: int, minimum: float, maximum: float, default: float | None = None,
           description: str = "", unit: str | None = None, visible_if: dict | None = None) -> dict[str, Any]:
    return _prop("number", title, order, description, {"minimum": minimum, "maximum": maximum, "default": default,
                                                       "x-unit": unit, "x-visibleIf": visible_if})


def choice(title: str, options: list[tuple[Any, str]], *, order: int, default: Any = None, description: str = "",
           visible_if: dict | None = None) -> dict[str, Any]:
    """An enum with a label per value: [(value, label), …]."""
    values = [v for v, _ in options]
    kind = "integer" if all(isinstance(v, int) for v in values) else "string"
    return _prop(kind, title, order, description, {"enum": values, "x-enumNames": [label for _, label in options],
                                                   "default": default, "x-visibleIf": visible_if})


def color(title: str, *, order: int, default: str, description: str = "",
          visible_if: dict | None = None) -> dict[str, Any]:
    return _prop("string", title, order, description, {"format": "color", "pattern": COLOR_PATTERN,
                                                       "default": default, "x-visibleIf": visible_if})


def boolean(title: str, *, order: int, default: bool, description: str = "",
            visible_if: dict | None = None) -> dict[str, Any]:
    return _prop("boolean", title, order, description, {"default": default, "x-visibleIf": visible_if})


def text(title: str, *, order: int, max_length: int, default: str | None = None, min_length: int = 0,
         description: str = "", visible_if: dict | None = None) -> dict[str, Any]:
    return _prop("string", title, order, description, {"minLength": min_length or None, "maxLength": max_length,
                                                       "default": default, "x-visibleIf": visible_if})


def obj(properties: dict[str, Any], *, required: tuple[str, ...] = (),
        when: tuple[tuple[str, Any, tuple[str, ...]], ...] = ()) -> dict[str, Any]:
    """An operation's schema; `when` = ((field, value, required fields), …) for conditional requirements."""
    schema: dict[str, Any] = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
                              "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    if when:
        schema["allOf"] = [{"if": {"properties": {f: {"const": v}}, "required": [f]}, "then": {"required": list(req)}}
                           for f, v, req in when]
    Draft202012Validator.check_schema(schema)  # a broken schema fails at import, not in a user's request
    return schema


def parse_color(value: str) -> tuple[int, int, int, int]:
    """'#rrggbb' or '#rrggbbaa' (already validated) → an RGBA tuple."""
    digits = value.lstrip("#")
    rgba = [int(digits[i:i + 2], 16) for i in range(0, len(digits), 2)]
    return (*rgba, 255)[:4] if len(rgba) == 3 else tuple(rgba)  # type: ignore[return-value]


# --- validation -----------------------------------------------------------------------------------

def json_path(parts: Any, prefix: str = "") -> str:
    """['steps', 1, 'params', 'width'] → 'steps[1].params.width' (after `prefix`)."""
    out = prefix
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _message(error: ValidationError) -> str:
    kind, value = error.validator, error.validator_value
    if kind == "minimum":
        return f"must be at least {value}"
    if kind == "maximum":
        return f"must be at most {value}"
    if kind == "enum":
        return "must be one of: " + ", ".join(str(v) for v in value)
    if kind == "const":
        return f"must be {value!r}"
    if kind == "type":
        names = {"integer": "a whole number", "number": "a number", "string": "text", "boolean": "true or false",
                 "object": "an object", "array": "a list", "null": "empty"}
        return "must be " + " or ".join(names.get(v, v) for v in ([value] if isinstance(value, str) else value))
    if kind == "not" and isinstance(value, dict) and "const" in value:
        return f"must not be {value['const']!r} (a reserved name)"
    if kind == "pattern" and value == COLOR_PATTERN:
        return "must be a color like #ff8800 (or #ff880080 with opacity)"
    if kind == "pattern":
        return f"must match {value}"
    if kind in ("minLength", "maxLength"):
        return f"must be {'at least' if kind == 'minLength' else 'at most'} {value} characters long"
    if kind in ("minItems", "maxItems"):
        return f"must have {'at least' if kind == 'minItems' else 'at most'} {value} items"
    if kind == "uniqueItems":
        return "must not repeat an item"
    return error.message


def schema_errors(schema: dict[str, Any], instance: Any, *, prefix: str = "") -> list[FieldError]:
    """Every error of `instance` against `schema`, each naming its field by JSON path."""
    errors: list[FieldError] = []
    validator = Draft202012Validator(schema)
    # A wrong type also fails the field's enum or range: the type error, sorted first, is the one kept.
    ordered = sorted(validator.iter_errors(instance),
                     key=lambda e: (list(map(str, e.absolute_path)), e.validator != "type", e.message))
    for error in ordered:
        path = list(error.absolute_path)
        if error.validator == "required":
            for name in error.validator_value:
                if isinstance(error.instance, dict) and name not in error.instance:
                    errors.append(FieldError(json_path([*path, name], prefix), "is required"))
        elif error.validator == "additionalProperties":
            known = set(error.schema.get("properties", {}))
            patterns = list(error.schema.get("patternProperties", {}))
            for name in sorted(error.instance):
                if name not in known and not any(re.search(p, name) for p in patterns):
                    errors.append(FieldError(json_path([*path, name], prefix), "is not a known setting"))
        else:
            errors.append(FieldError(json_path(path, prefix), _message(error)))
    unique: dict[str, FieldError] = {}
    for e in errors:  # one message per field (an if/then and a plain "required" can both report one)
        unique.setdefault(e["field"], e)
    return list(unique.values())


def fill_defaults(schema: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """A copy with every missing property that has a default set to it; integer-valued floats become ints."""
    out = dict(params)
    for name, prop in schema.get("properties", {}).items():
        if name not in out and "default" in prop:
            out[name] = prop["default"]
        integer = prop.get("type") in ("integer", ["integer", "null"])
        if integer and isinstance(out.get(name), float) and out[name].is_integer():
            out[name] = int(out[name])
    return out


def validated(schema: dict[str, Any], params: Any, *, prefix: str = "") -> dict[str, Any]:
    """`params` with defaults filled, or ParamsInvalid listing every error."""
    if not isinstance(params, dict):
        raise ParamsInvalid([FieldError(prefix, "must be an object of settings")])
    filled = fill_defaults(schema, params)
    errors = schema_errors(schema, filled, prefix=prefix)
    if errors:
        raise ParamsInvalid(errors)
    return filled
