"""Email templates: MJML source with Jinja2 variables, checked before it is saved and rendered in a sandbox.

A template declares its variables as a JSON Schema (name, type, required, a fallback as `default`): the same
schema gives the sample-data form and checks the data a render gets. Rendering is Jinja2's sandbox first
(variables HTML-escaped, no attribute access to Python internals, bounded loops and output), then MJML
(`mjml-python`, the Rust port of MJML) to HTML, then a plain-text part made from that HTML. Every refusal
names the line or the variable.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass

import jsonschema
import mjml
from jinja2 import TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from app.errors import ValidationFailed
from app.services.templates.plain_text import html_to_text

MAX_SOURCE = 256 * 1024  # characters: a real email is a few tens of KB
MAX_OUTPUT = 2 * 1024 * 1024  # rendered HTML; a template that loops past this is refused
MAX_DEPTH = 24  # nested MJML/HTML-in-MJML elements
MAX_VARIABLES = 100
MAX_RANGE = 1000  # items range() may make in a template
GMAIL_CLIP_BYTES = 102 * 1024  # Gmail clips a message whose HTML is larger
TYPES = {"string", "number", "integer", "boolean", "array"}
_TAG = re.compile(r"<(/?)(mjml|mj-[a-z-]+)\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(/?)>", re.IGNORECASE)
# Elements whose content MJML passes through as HTML (their inner tags are not MJML's business).
_ENDING = {"mj-text", "mj-button", "mj-raw", "mj-table", "mj-navbar-link", "mj-accordion-title",
           "mj-accordion-text", "mj-social-element", "mj-style", "mj-title", "mj-preview"}


@dataclass(frozen=True)
class Rendered:
    html: str
    text: str
    size_bytes: int  # of the HTML, as sent

    @property
    def clipped_by_gmail(self) -> bool:
        return self.size_bytes > GMAIL_CLIP_BYTES


class _Sandbox(SandboxedEnvironment):
    """Jinja's sandbox (no `__class__`, no `mro`, no unsafe callables) with a smaller range()."""

    def __init__(self) -> None:
        super().__init__(autoescape=True, trim_blocks=True, lstrip_blocks=True)
        self.globals = {"range": self._range}

    @staticmethod
    def _range(*args: int) -> range:
        made = range(*args)
        if len(made) > MAX_RANGE:
            raise SecurityError(f"range() may make at most {MAX_RANGE} items.")
        return made


_ENV = _Sandbox()


def _line_of(source: str, needle: str) -> int:
    at = re.search(r"\b" + re.escape(needle) + r"\b", source)
    return source.count("\n", 0, at.start()) + 1 if at else 1


def check_schema(schema: dict) -> dict[str, dict]:
    """The declared variables ({name: property schema}), or ValidationFailed naming the bad one."""
    _check_schema_json(json.dumps(schema, sort_keys=True))
    return schema.get("properties") or {}


@functools.lru_cache(maxsize=64)
def _check_schema_json(text: str) -> None:
    # Checking a schema against the metaschema costs ~10 ms; the editor sends the same schema on every edit.
    schema = json.loads(text)
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise ValidationFailed(f"The variables are not a valid JSON Schema: {exc.message}",
                               code="template_variables_invalid") from None
    if schema.get("type", "object") != "object":
        raise ValidationFailed("The variables must be an object schema.", code="template_variables_invalid")
    properties = schema.get("properties") or {}
    if len(properties) > MAX_VARIABLES:
        raise ValidationFailed(f"At most {MAX_VARIABLES} variables.", code="template_variables_invalid")
    for name, spec in properties.items():
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,39}", name):
            raise ValidationFailed(f"Variable “{name}”: use lower-case letters, digits and _ (at most 40).",
                                   code="template_variables_invalid")
        if spec.get("type") not in TYPES:
            raise ValidationFailed(f"Variable “{name}” needs a type: one of {', '.join(sorted(TYPES))}.",
                                   code="template_variables_invalid")
    for name in schema.get("required") or []:
        if name not in properties:
            raise ValidationFailed(f"“{name}” is required but not declared.", code="template_variables_invalid")


def check_tags(source: str) -> None:
    """MJML elements opened and closed in order, not nested too deep; the error names the line."""
    stack: list[tuple[str, int]] = []
    for match in _TAG.finditer(source):
        closing, name, _, self_closing = match.group(1), match.group(2).lower(), match.group(3), match.group(4)
        line = source.count("\n", 0, match.start()) + 1
        inside = stack[-1][0] if stack else ""
        if inside in _ENDING and not (closing and name == inside):
            continue  # HTML content of an ending tag
        if self_closing:
            continue
        if not closing:
            stack.append((name, line))
            if len(stack) > MAX_DEPTH:
                raise ValidationFailed(f"Line {line}: elements nested deeper than {MAX_DEPTH}.",
                                       code="template_too_deep")
            continue
        if not stack:
            raise ValidationFailed(f"Line {line}: </{name}> closes nothing.", code="template_unbalanced")
        opened, opened_at = stack.pop()
        if opened != name:
            raise ValidationFailed(f"Line {line}: </{name}> closes <{opened}> opened on line {opened_at}.",
                                   code="template_unbalanced")
    if stack:
        name, line = stack[-1]
        raise ValidationFailed(f"Line {line}: <{name}> is never closed.", code="template_unbalanced")


def _check_attributes(tree: nodes.Template, where: str = "") -> None:
    """Refuse attribute names the sandbox would hide: `{{ x.__class__ }}` would otherwise print nothing,
    silently, instead of telling the author it is not allowed."""
    bad = []
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        name = node.attr if isinstance(node, nodes.Getattr) else getattr(node.arg, "value", None)
        if isinstance(name, str) and name.startswith("_"):
            bad.append((node.lineno, name))
    if bad:  # the first in the text: in `x.__class__.__mro__` the walk meets the outer `__mro__` first
        line, name = min(reversed(bad), key=lambda b: b[0])
        raise ValidationFailed(f"Line {line}{where}: “{name}” is not allowed in a template (the sandbox refuses "
                               "names starting with _).", code="template_unsafe")


def check_source(source: str, schema: dict) -> None:
    """Everything a save must refuse: size, Jinja syntax, variables used but not declared, unbalanced or too
    deep tags, and what MJML itself cannot compile (rendered with the fallbacks)."""
    if len(source) > MAX_SOURCE:
        raise ValidationFailed(f"The source is {len(source) // 1024} KB; at most {MAX_SOURCE // 1024} KB.",
                               code="template_too_large")
    declared = check_schema(schema)
    try:
        tree = _ENV.parse(source)
    except TemplateSyntaxError as exc:
        raise ValidationFailed(f"Line {exc.lineno}: {exc.message}", code="template_syntax") from None
    _check_attributes(tree)
    loop_names = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    unknown = sorted(meta.find_undeclared_variables(tree) - set(declared) - loop_names - set(_ENV.globals))
    if unknown:
        raise ValidationFailed(f"Line {_line_of(source, unknown[0])}: “{unknown[0]}” is used but not declared.",
                               code="template_undeclared_variable")
    check_tags(source)
    _render(source, _placeholders(schema), text=False)  # with fallbacks, or a value of each type, it must compile


_EMPTY = {"string": "", "number": 0, "integer": 0, "boolean": False, "array": []}


def _placeholders(schema: dict) -> dict:
    """A value for every variable: its fallback, else an empty one of its type (for the save-time compile)."""
    return {name: spec.get("default", _EMPTY.get(spec.get("type"), ""))
            for name, spec in (schema.get("properties") or {}).items()}


def _sample(schema: dict, data: dict) -> dict:
    """Data with fallbacks filled in, checked against the schema; the error names the variable."""
    properties = schema.get("properties") or {}
    values = {name: spec["default"] for name, spec in properties.items() if "default" in spec}
    values.update({k: v for k, v in data.items() if v is not None})
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(values), key=lambda e: list(e.path))
    if errors:
        error = errors[0]
        where = ".".join(str(p) for p in error.path) or (error.message.split("'")[1] if "'" in error.message
                                                          else "data")
        raise ValidationFailed(f"Variable “{where}”: {error.message}", code="template_variable_invalid")
    for name, spec in properties.items():  # optional ones without a fallback render as empty
        values.setdefault(name, _EMPTY.get(spec.get("type"), ""))
    return values


def render(source: str, schema: dict, data: dict) -> Rendered:
    """HTML and text of the template with `data` (validated, fallbacks applied)."""
    return _render(source, _sample(schema, data))


@functools.lru_cache(maxsize=32)
def _compiled(source: str):
    # The editor re-renders the same source with other sample data, and saving checks then renders it.
    return _ENV.from_string(source)


def check_text(source: str, schema: dict, *, limit: int, label: str = "text") -> None:
    """A plain text with {{variables}} (an image style's prompt): size, Jinja syntax, declared variables."""
    if len(source) > limit:
        raise ValidationFailed(f"The {label} is {len(source)} characters; at most {limit}.",
                               code="template_too_large")
    declared = check_schema(schema)
    try:
        tree = _ENV.parse(source)
    except TemplateSyntaxError as exc:
        raise ValidationFailed(f"Line {exc.lineno} of the {label}: {exc.message}", code="template_syntax") from None
    _check_attributes(tree, f" of the {label}")
    loop_names = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    unknown = sorted(meta.find_undeclared_variables(tree) - set(declared) - loop_names - set(_ENV.globals))
    if unknown:
        raise ValidationFailed(f"Line {_line_of(source, unknown[0])} of the {label}: “{unknown[0]}” is used but "
                               "not declared.", code="template_undeclared_variable")


def render_text(source: str, schema: dict, data: dict) -> str:
    """A plain text with {{variables}} filled in (validated, fallbacks applied), through the same sandbox but
    without HTML escaping: a prompt is not HTML, and "&amp;" in a prompt would change what is drawn."""
    return _generate(source, _sample(schema, data), autoescape=False)


def _generate(source: str, values: dict, *, autoescape: bool = True) -> str:
    try:
        template = _compiled(source) if autoescape else _compiled_text(source)
        parts, size = [], 0
        for chunk in template.generate(values):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise ValidationFailed(f"The template makes more than {MAX_OUTPUT // (1024 * 1024)} MB of output.",
                                       code="template_output_too_large")
            parts.append(chunk)
    except TemplateSyntaxError as exc:
        raise ValidationFailed(f"Line {exc.lineno}: {exc.message}", code="template_syntax") from None
    except SecurityError as exc:
        raise ValidationFailed(f"Refused by the template sandbox: {exc}", code="template_unsafe") from None
    except UndefinedError as exc:
        raise ValidationFailed(f"{exc.message}", code="template_undeclared_variable") from None
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise ValidationFailed(f"The template failed with these values: {exc}", code="template_error") from None
    return "".join(parts)


_TEXT_ENV = _Sandbox()
_TEXT_ENV.autoescape = False


@functools.lru_cache(maxsize=32)
def _compiled_text(source: str):
    return _TEXT_ENV.from_string(source)


def _render(source: str, values: dict, *, text: bool = True) -> Rendered:
    output = _generate(source, values)
    try:
        html = mjml.mjml2html(output)
    except ValueError as exc:
        raise ValidationFailed(f"MJML could not compile it: {exc}", code="template_mjml") from None
    return Rendered(html=html, text=html_to_text(html) if text else "", size_bytes=len(html.encode()))
