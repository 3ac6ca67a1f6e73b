"""pydantic's validation errors as sentences a page's form can show.

pydantic names fields by attribute ("max_length") and says what failed in its own words ("Input should be
greater than or equal to 10"); a form needs the field as it is labelled there and what it accepts, with both
ends of a range ("Max length must be a whole number from 10 to 120."). The ranges come from the model's own
field constraints, so the sentence cannot drift from the rule.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from pydantic import BaseModel, ValidationError

# Error types that mean "not a number in the range": out of range, or not a number at all.
_NUMBER_ERRORS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal", "int_parsing", "int_type",
                  "int_from_float", "float_parsing", "float_type", "finite_number"}


# Each constraint pydantic keeps in a field's metadata: (its class, our name for it, its attribute).
_RULES = ((Ge, "ge", "ge"), (Gt, "gt", "gt"), (Le, "le", "le"), (Lt, "lt", "lt"), (MinLen, "min_len", "min_length"),
          (MaxLen, "max_len", "max_length"))


def _limits(model: type[BaseModel], field: str) -> dict[str, Any]:
    info = model.model_fields.get(field)
    return {name: getattr(rule, attr) for rule in (info.metadata if info else ())
            for kind, name, attr in _RULES if isinstance(rule, kind)}


def _whole(model: type[BaseModel], field: str) -> bool:
    info = model.model_fields.get(field)
    annotation = info.annotation if info else None
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return int in typing.get_args(annotation)
    return annotation is int


def _number(label: str, whole: bool, limits: dict[str, Any]) -> str:
    ge, gt, le, lt = (limits.get(k) for k in ("ge", "gt", "le", "lt"))
    if whole:  # in whole numbers "more than 0" is "from 1"
        ge, gt = (gt + 1 if gt is not None else ge), None
        le, lt = (lt - 1 if lt is not None else le), None
    kind = "a whole number" if whole else "a number"
    if ge is not None and le is not None:
        return f"{label} must be {kind} from {ge} to {le}."
    low = f"of at least {ge}" if ge is not None else f"above {gt}" if gt is not None else ""
    high = f"at most {le}" if le is not None else f"below {lt}" if lt is not None else ""
    rule = " and ".join(part for part in (low, high) if part)
    return f"{label} must be {kind}{' ' + rule if rule else ''}."


def _sentence(error: dict, label: str, model: type[BaseModel], field: str) -> str:
    kind, limits = error["type"], _limits(model, field)
    if kind == "missing":
        return f"{label} is required."
    if kind in _NUMBER_ERRORS:
        return _number(label, _whole(model, field), limits)
    if kind == "string_too_short":
        minimum = limits.get("min_len", 1)
        return f"{label} cannot be empty." if minimum <= 1 else f"{label} needs at least {minimum} characters."
    if kind == "string_too_long":
        return f"{label} can be at most {limits.get('max_len')} characters long."
    if kind == "too_long":
        return f"{label} can have at most {limits.get('max_len')} entries."
    if kind == "too_short":
        return f"{label} needs at least {limits.get('min_len')} entries."
    if kind in ("literal_error", "enum"):
        return f"{label} must be one of {error.get('ctx', {}).get('expected', 'the choices offered')}."
    if kind == "value_error":  # the model's own validator: its message is already written for people
        text = str(error.get("ctx", {}).get("error", "")).strip() or f"{label} is not valid"
        return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
    return f"{label} is not valid."


def form_message(exc: ValidationError, model: type[BaseModel], labels: dict[str, str], *, limit: int = 3) -> str:
    """The first `limit` problems (one per field), each a sentence naming the field by `labels` (its label on
    the form; a field without one is named from its attribute)."""
    sentences: dict[str, str] = {}
    for error in exc.errors():
        field = str(error["loc"][0]) if error.get("loc") else ""
        if field in sentences:
            continue
        label = labels.get(field) or field.replace("_", " ").capitalize() or "This form"
        sentences[field] = _sentence(error, label, model, field)
        if len(sentences) == limit:
            break
    return " ".join(sentences.values()) or "Check the form."
