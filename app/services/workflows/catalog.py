"""The catalog of workflow operations: lookup, the list the UI builds forms from, and settings validation."""

from __future__ import annotations

import copy
from typing import Any

from app.services.workflows.base import FieldError, Operation, ParamsInvalid, UnknownOperation
from app.services.workflows.ops import background as ops_background
from app.services.workflows.ops import format as ops_format
from app.services.workflows.ops import geometry as ops_geometry
from app.services.workflows.ops import pixels as ops_pixels
from app.services.workflows.ops import watermark as ops_watermark
from app.services.workflows.schema import json_path, validated

# Catalog order: what people reach for most first.
OPERATIONS: dict[str, Operation] = {op.id: op for op in (
    *ops_geometry.OPERATIONS[:2], ops_background.OPERATIONS[0], *ops_format.OPERATIONS, ops_geometry.OPERATIONS[2],
    *ops_watermark.OPERATIONS, *ops_pixels.OPERATIONS, ops_geometry.OPERATIONS[3],
)}
REMOTE_ENGINE = "remote"


def get_operation(op_id: str) -> Operation:
    """The operation, or UnknownOperation naming the ones that exist."""
    try:
        return OPERATIONS[op_id]
    except (KeyError, TypeError):
        raise UnknownOperation(f"There is no operation “{op_id}”. Known: {', '.join(OPERATIONS)}.") from None


def validate_params(op_id: str, params: Any, *, remote_available: set[str] | frozenset[str] | None = None,
                    prefix: str = "") -> dict[str, Any]:
    """The settings with defaults filled, or ParamsInvalid naming each bad field (`prefix` goes before names).

    With `remote_available` (the remote capabilities that are configured), choosing the remote engine
    of an operation whose provider is missing is an error on the `engine` field.
    """
    op = get_operation(op_id)
    filled = validated(op.schema, params, prefix=prefix)
    if (remote_available is not None and op.remote and filled.get("engine") == REMOTE_ENGINE
            and op.remote not in remote_available):
        raise ParamsInvalid([FieldError(json_path(["engine"], prefix),
                                        "no remote provider is configured for this operation; choose local")])
    return filled


def catalog(*, remote_available: set[str] | frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """Every operation for the UI and the API: id, name, description, category, schema, remote status.

    When an operation's remote provider is not configured, its schema's `engine` property lists
    "remote" under `x-enumDisabled` so the form can show it greyed out.
    """
    out = []
    for op in OPERATIONS.values():
        schema = copy.deepcopy(op.schema)
        remote = None
        if op.remote:
            available = op.remote in remote_available
            remote = {"capability": op.remote, "available": available}
            if not available:
                schema["properties"]["engine"]["x-enumDisabled"] = [REMOTE_ENGINE]
        out.append({"id": op.id, "name": op.name, "description": op.description, "category": op.category,
                    "schema": schema, "remote": remote})
    return out
