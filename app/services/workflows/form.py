"""An operation's JSON Schema as form fields for the UI, and the form's strings back as typed settings.

The UI holds every value as a string (that is what inputs give); `form_fields` says how to draw each
field and whether it is shown now (`x-visibleIf`), `typed_params` turns the strings into the JSON the
schema validates. Validation itself stays with the schema (`catalog.validate_params`).
"""

from __future__ import annotations

from typing import Any


def _kind(prop: dict[str, Any]) -> str:
    types = prop.get("type")
    types = types if isinstance(types, list) else [types]
    if "enum" in prop:
        return "choice"
    if prop.get("format") == "color":
        return "color"
    if "boolean" in types:
        return "boolean"
    if "integer" in types:
        return "integer"
    if "number" in types:
        return "number"
    return "text"


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def defaults(schema: dict[str, Any]) -> dict[str, str]:
    """Every field's default as the form shows it ("" where there is none)."""
    return {name: _as_text(prop.get("default")) for name, prop in schema.get("properties", {}).items()}


def _visible(prop: dict[str, Any], values: dict[str, str]) -> bool:
    rule = prop.get("x-visibleIf") or {}
    return all(values.get(field, "") in {_as_text(v) for v in allowed} for field, allowed in rule.items())


def form_fields(schema: dict[str, Any], values: dict[str, str]) -> list[dict[str, Any]]:
    """The fields in form order; strings and lists of strings only (what the page renders)."""
    required = set(schema.get("required", []))
    rows = []
    props = sorted(schema.get("properties", {}).items(), key=lambda item: item[1].get("x-order", 999))
    for name, prop in props:
        kind = _kind(prop)
        disabled = {_as_text(v) for v in prop.get("x-enumDisabled", [])}
        labels = prop.get("x-enumNames") or [_as_text(v) for v in prop.get("enum", [])]
        options = [{"value": _as_text(v), "label": label + (" (not configured)" if _as_text(v) in disabled else "")}
                   for v, label in zip(prop.get("enum", []), labels, strict=False)]
        rows.append({
            "name": name, "title": prop.get("title", name), "kind": kind, "value": values.get(name, ""),
            "description": prop.get("description", ""), "unit": prop.get("x-unit", ""),
            "min": _as_text(prop.get("minimum")), "max": _as_text(prop.get("maximum")),
            "step": "1" if kind == "integer" else "any", "options": options,
            "required": "yes" if name in required else "", "visible": "yes" if _visible(prop, values) else "",
        })
    return rows


def typed_params(schema: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """The form's strings as typed settings. Hidden and empty fields are left out (defaults apply);
    text that is not a number is passed on as text so the schema names the field in its error."""
    params: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        raw = values.get(name, "").strip()
        if raw == "" or not _visible(prop, values):
            continue
        kind = _kind(prop)
        if kind == "choice":
            params[name] = next((v for v in prop["enum"] if _as_text(v) == raw), raw)
        elif kind == "boolean":
            params[name] = raw == "true"
        elif kind == "integer":
            params[name] = int(raw) if raw.lstrip("-").isdigit() else raw
        elif kind == "number":
            try:
                params[name] = float(raw)
            except ValueError:
                params[name] = raw
        else:
            params[name] = raw
    return params


def _range(prop: dict[str, Any]) -> str:
    kind = "a whole number" if _kind(prop) == "integer" else "a number"
    low, high, unit = prop.get("minimum"), prop.get("maximum"), prop.get("x-unit", "")
    if low is None or high is None:
        return kind
    return f"{kind} from {_as_text(low)} to {_as_text(high)}{' ' + unit if unit else ''}"


def form_message(schema: dict[str, Any], errors: list[dict[str, str]]) -> str:
    """The schema's errors (`FieldError`s of the operation's own fields) as sentences naming each field by its
    title on the form, with the range a number field accepts: "Width is required: a whole number from 1 to
    16384 px." A field the form does not show (a recipe step's) keeps its path."""
    props = schema.get("properties", {})
    sentences = []
    # In the form's order, top to bottom (the schema reports them sorted by name).
    for error in sorted(errors, key=lambda e: props.get(e["field"], {}).get("x-order", 999)):
        prop = props.get(error["field"])
        if prop is None:
            sentences.append(f"{error['field'] or 'The settings'} {error['message']}.")
            continue
        title, numeric = prop.get("title", error["field"]), _kind(prop) in ("integer", "number")
        if error["message"] == "is required":
            sentences.append(f"{title} is required" + (f": {_range(prop)}." if numeric else "."))
        elif numeric and error["message"].startswith("must be"):  # the wrong type, or out of range
            sentences.append(f"{title} must be {_range(prop)}.")
        else:
            sentences.append(f"{title} {error['message']}.")
    return " ".join(sentences)
