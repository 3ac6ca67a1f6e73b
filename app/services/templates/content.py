"""What a version of each kind holds, checked before it is saved (TemplateVersion.content, per kind).

- email: {"source": MJML with {{variables}}, "schema": JSON Schema of the variables} (+ optional "brand_kit_key",
  "brand_kit_name": a stored brand kit whose fonts and colors the checklist holds the source to)
- slide: {"spec", "outline", "theme", "brand_kit_key", "brand_kit_name"} — a deck made reusable
- image_style: {"prompt" with {{variables}}, "negative_prompt", "settings": generation settings, "schema"}

Each refusal names the field, the line or the variable (ValidationFailed with a stable code), and keeps the
`line`/`variable` in `details` so the REST layer passes it through.
"""

from __future__ import annotations

import hashlib
import json
import re

from pydantic import ValidationError

from app.errors import ValidationFailed
from app.services.slides.engine.model import DeckSpec, Outline
from app.services.templates import email

MAX_CONTENT = 1024 * 1024  # bytes of JSON per version: a 60-slide outline is ~200 KB
MAX_PROMPT = 2000  # as GenerationInput.prompt
SETTING_KEYS = ("style", "size", "n", "seed", "provider", "model")
EMPTY_SCHEMA = {"type": "object", "properties": {}}
_LINE = re.compile(r"\bLine (\d+)\b")
_VARIABLE = re.compile(r"[Vv]ariable “([^”]+)”|“([a-z_][a-z0-9_]*)” is (?:used|required)")

STARTERS = {
    "email": {
        "source": ("<mjml>\n  <mj-body>\n    <mj-section>\n      <mj-column>\n"
                   "        <mj-text>Hello {{ first_name }},</mj-text>\n"
                   "      </mj-column>\n    </mj-section>\n  </mj-body>\n</mjml>\n"),
        "schema": {"type": "object", "properties": {"first_name": {"type": "string", "default": "there"}}},
    },
    "image_style": {"prompt": "{{ subject }}, soft light, pastel palette", "negative_prompt": "",
                    "settings": {"size": "1024x1024"},
                    "schema": {"type": "object", "properties": {"subject": {"type": "string",
                                                                            "default": "a mountain lake"}}}},
}


def with_location(exc: ValidationFailed) -> ValidationFailed:
    """The same error with the line and variable it names in `details` (for the API and the editor)."""
    details = dict(exc.details)
    if (line := _LINE.search(exc.message)) and "line" not in details:
        details["line"] = int(line.group(1))
    if (variable := _VARIABLE.search(exc.message)) and "variable" not in details:
        details["variable"] = variable.group(1) or variable.group(2)
    exc.details = details
    return exc


def _text(content: dict, key: str, limit: int, *, required: bool = False) -> str:
    value = content.get(key, "")
    if not isinstance(value, str):
        raise ValidationFailed(f"“{key}” must be text.", code="template_content_invalid", details={"field": key})
    if required and not value.strip():
        raise ValidationFailed(f"“{key}” is empty.", code="template_content_invalid", details={"field": key})
    if len(value) > limit:
        raise ValidationFailed(f"“{key}” is {len(value)} characters; at most {limit}.", code="template_too_large",
                               details={"field": key})
    return value


def _schema(content: dict) -> dict:
    schema = content.get("schema", EMPTY_SCHEMA)
    if not isinstance(schema, dict):
        raise ValidationFailed("“schema” must be a JSON Schema object.", code="template_variables_invalid",
                               details={"field": "schema"})
    email.check_schema(schema)
    return schema


def _email(content: dict) -> dict:
    source = content.get("source", "")
    if not isinstance(source, str) or not source.strip():
        raise ValidationFailed("The email has no MJML source.", code="template_content_invalid",
                               details={"field": "source"})
    schema = _schema(content)
    email.check_source(source, schema)
    kit = {"brand_kit_key": _text(content, "brand_kit_key", 300), "brand_kit_name": _text(content, "brand_kit_name",
                                                                                         200)}
    # A brand kit is optional on an email: when set, the checklist holds the fonts and colors to it.
    return {"source": source, "schema": schema, **(kit if kit["brand_kit_key"] else {})}


def check_settings(settings: object) -> dict:
    """Generation settings an image style carries (style, size, n, seed, provider, model), as the Generate
    page validates them; the provider is checked again when the style is used."""
    from app.services.generation.service import GenerationInput

    if not isinstance(settings, dict):
        raise ValidationFailed("“settings” must be an object.", code="template_content_invalid",
                               details={"field": "settings"})
    unknown = sorted(set(settings) - set(SETTING_KEYS))
    if unknown:
        raise ValidationFailed(f"Unknown setting “{unknown[0][:40]}”: use {', '.join(SETTING_KEYS)}.",
                               code="template_content_invalid", details={"field": f"settings.{unknown[0][:40]}"})
    try:
        checked = GenerationInput(prompt="x", **settings)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        raise ValidationFailed(f"Setting “{where}”: {error['msg']}", code="template_content_invalid",
                               details={"field": f"settings.{where}"}) from None
    return checked.model_dump(include=set(settings))


def _image_style(content: dict) -> dict:
    schema = _schema(content)
    prompt = _text(content, "prompt", MAX_PROMPT, required=True)
    negative = _text(content, "negative_prompt", MAX_PROMPT)
    email.check_text(prompt, schema, limit=MAX_PROMPT, label="prompt")
    email.check_text(negative, schema, limit=MAX_PROMPT, label="negative prompt")
    return {"prompt": prompt, "negative_prompt": negative, "settings": check_settings(content.get("settings", {})),
            "schema": schema}


def _slide(content: dict) -> dict:
    try:
        outline = Outline.model_validate(content.get("outline"))
        spec = DeckSpec.model_validate(content.get("spec") or {"topic": outline.title or "Deck"})
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        raise ValidationFailed(f"The deck is not valid at {where or 'its root'}: {error['msg']}",
                               code="template_content_invalid", details={"field": where}) from None
    theme = _text(content, "theme", 60)
    if theme:
        from app.services.slides.decks import check_theme

        theme = check_theme(theme)
    return {"spec": spec.model_dump(), "outline": outline.model_dump(), "theme": theme,
            "brand_kit_key": _text(content, "brand_kit_key", 300), "brand_kit_name": _text(content, "brand_kit_name",
                                                                                          200)}


_CHECKS = {"email": _email, "slide": _slide, "image_style": _image_style}


def check_content(kind: str, content: object) -> dict:
    """The content as it will be stored, or ValidationFailed naming the field, line or variable."""
    if not isinstance(content, dict):
        raise ValidationFailed("The content must be an object.", code="template_content_invalid")
    if len(json.dumps(content)) > MAX_CONTENT:
        raise ValidationFailed(f"The content is larger than {MAX_CONTENT // 1024} KB.", code="template_too_large")
    try:
        return _CHECKS[kind](content)
    except ValidationFailed as exc:
        raise with_location(exc) from None


def content_hash(content: dict) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
