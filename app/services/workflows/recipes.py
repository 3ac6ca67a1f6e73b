"""Recipes: named chains of operations, validated as a whole and run on one image at a time.

A recipe is JSON:
    {"name": "Instagram portrait", "steps": [
        {"id": "crop", "op": "resize", "params": {"width": 1080, "height": 1350}},
        {"id": "tone", "op": "adjust", "params": {"contrast": 1.1}, "input": "crop"},
        {"id": "web", "op": "convert", "params": {"format": "webp", "quality": 80}, "input": "tone"}],
     "outputs": ["web"]}
A step's `input` is "source" (the image the recipe runs on, the default) or the id of an earlier step,
so references only point backwards and no cycle can exist. Steps pass decoded pixels to each other:
only the outputs are encoded, and a JPEG source decodes at reduced scale when every step reading it
shrinks it. Validate once with `prepare_recipe`, then run the prepared recipe on every image of a batch.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from app.errors import AppError
from app.services.workflows.base import (
    FieldError,
    Frame,
    OpContext,
    Operation,
    OpOutput,
    ParamsInvalid,
    UnknownOperation,
)
from app.services.workflows.catalog import OPERATIONS, get_operation, validate_params
from app.services.workflows.codec import encode_frame, load_frame, open_source, upright_size
from app.services.workflows.schema import schema_errors

MAX_STEPS = 20
SOURCE = "source"
STEP_ID = "^[A-Za-z][A-Za-z0-9_-]{0,39}$"

RECIPE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 120},
        "description": {"type": "string", "maxLength": 2000},
        "version": {"const": 1},
        "steps": {"type": "array", "minItems": 1, "maxItems": MAX_STEPS, "items": {
            "type": "object",
            "properties": {
                "id": {"type": "string", "pattern": STEP_ID, "not": {"const": SOURCE}},
                "op": {"type": "string", "maxLength": 64},
                "label": {"type": "string", "maxLength": 120},
                "params": {"type": "object"},
                "input": {"type": "string", "maxLength": 40},
            },
            "required": ["id", "op"],
            "additionalProperties": False,
        }},
        "outputs": {"type": "array", "minItems": 1, "maxItems": MAX_STEPS, "uniqueItems": True,
                    "items": {"type": "string", "maxLength": 40}},
    },
    "required": ["name", "steps"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class PreparedStep:
    id: str
    op: Operation
    params: dict[str, Any]  # validated, defaults filled
    input: str


@dataclass(frozen=True)
class PreparedRecipe:
    name: str
    steps: tuple[PreparedStep, ...]
    outputs: tuple[str, ...]

    @property
    def asset_refs(self) -> set[str]:
        """Asset references (watermark logos) whose bytes the caller must put in `OpContext.assets`."""
        return {ref for step in self.steps if step.op.asset_refs for ref in step.op.asset_refs(step.params)}

    @property
    def remote_needs(self) -> set[str]:
        """The remote capabilities the recipe's steps use."""
        return {step.op.remote for step in self.steps if step.op.remote and step.params.get("engine") == "remote"}

    def run(self, image: bytes | Frame, ctx: OpContext | None = None) -> dict[str, list[OpOutput]]:
        """Run on one image: {output step id: [its file, then any extra files]}, in the recipe's output order.

        A failing step raises its own AppError (ImageRejected, OperationFailed, RemoteNotConfigured…) with
        `.step` set to the step's id and, in recipes of several steps, the step named in the message.
        """
        ctx = ctx or OpContext()
        needed = self._needed()
        frames: dict[str, Frame] = {SOURCE: image if isinstance(image, Frame) else self._load(image, needed, ctx)}
        uses = Counter(step.input for step in needed)
        results: dict[str, list[OpOutput]] = {}
        for step in needed:
            try:
                result = step.op.apply(frames[step.input], step.params, ctx)
                if step.id in self.outputs:
                    results[step.id] = [encode_frame(result.frame, info=result.info), *result.extras]
            except AppError as exc:  # same error type and code; the message and `step` say which step
                exc.step = step.id  # type: ignore[attr-defined]
                if len(self.steps) > 1:
                    exc.message = f"Step “{step.id}” ({step.op.name}): {exc.message}"
                    exc.args = (exc.message,)
                raise
            uses[step.input] -= 1
            if not uses[step.input]:
                del frames[step.input]  # a batch of big images should not hold every intermediate in memory
            frames[step.id] = result.frame
        return {out: results[out] for out in self.outputs}

    def _needed(self) -> list[PreparedStep]:
        """The steps an output depends on, in order; the others are not run."""
        by_id = {step.id: step for step in self.steps}
        wanted, todo = set(), list(self.outputs)
        while todo:
            step_id = todo.pop()
            if step_id != SOURCE and step_id not in wanted:
                wanted.add(step_id)
                todo.append(by_id[step_id].input)
        return [step for step in self.steps if step.id in wanted]

    def _load(self, data: bytes, needed: list[PreparedStep], ctx: OpContext) -> Frame:
        opened = open_source(data, max_pixels=ctx.max_input_pixels)
        size = upright_size(opened)
        hints = [step.op.decode_size(step.params, size) if step.op.decode_size else None
                 for step in needed if step.input == SOURCE]
        decode_at = None
        if hints and all(hints):
            decode_at = (max(h[0] for h in hints), max(h[1] for h in hints))  # type: ignore[index]
        return load_frame(data, max_pixels=ctx.max_input_pixels, decode_at=decode_at, opened=opened)


def prepare_recipe(recipe: Any, *, remote_available: set[str] | frozenset[str] | None = None) -> PreparedRecipe:
    """Validate a whole recipe and return it ready to run, or ParamsInvalid listing every error by path
    (`steps[1].params.width`, `steps[2].input`, `outputs[0]`…). Outputs default to the last step."""
    errors = schema_errors(RECIPE_SCHEMA, recipe)
    if not isinstance(recipe, dict):
        raise ParamsInvalid(errors)
    raw_steps = recipe.get("steps") if isinstance(recipe.get("steps"), list) else []
    steps: list[PreparedStep] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(raw_steps[:MAX_STEPS]):
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not isinstance(raw.get("op"), str):
            continue  # the envelope errors above already name what is wrong with it
        step_id, where = raw["id"], f"steps[{i}]"
        if step_id in seen:
            errors.append(FieldError(f"{where}.id", f"is already the id of steps[{seen[step_id]}]"))
        source = raw.get("input", SOURCE)
        if source != SOURCE and source not in seen:
            later = any(isinstance(r, dict) and r.get("id") == source for r in raw_steps[i:])
            errors.append(FieldError(f"{where}.input", f"refers to “{source}”, which is "
                                     + ("not an earlier step (steps can only use earlier results)" if later
                                        else "neither “source” nor a step of this recipe")))
        seen.setdefault(step_id, i)
        try:
            op = get_operation(raw["op"])
            params = validate_params(op.id, raw.get("params", {}), remote_available=remote_available,
                                     prefix=f"{where}.params")
        except UnknownOperation:
            errors.append(FieldError(f"{where}.op", f"is not an operation; known: {', '.join(OPERATIONS)}"))
            continue
        except ParamsInvalid as exc:
            errors.extend(exc.errors)
            continue
        steps.append(PreparedStep(id=step_id, op=op, params=params, input=source))
    outputs = recipe.get("outputs")
    if outputs is None and raw_steps and isinstance(raw_steps[-1], dict):
        outputs = [raw_steps[-1].get("id")]
    for j, out in enumerate(outputs if isinstance(outputs, list) else []):
        if out not in seen:
            errors.append(FieldError(f"outputs[{j}]", f"“{out}” is not a step of this recipe"))
    unique = [e for k, e in enumerate(errors) if e not in errors[:k]]
    if unique:
        raise ParamsInvalid(unique)
    return PreparedRecipe(name=recipe["name"], steps=tuple(steps), outputs=tuple(outputs))


def run_recipe(*, recipe: Any, image: bytes | Frame, ctx: OpContext | None = None,
               remote_available: set[str] | frozenset[str] | None = None) -> dict[str, list[OpOutput]]:
    """Validate `recipe` and run it on one image: {output step id: [files]}. For batches, prepare once."""
    return prepare_recipe(recipe, remote_available=remote_available).run(image, ctx)


def run_operation(*, op_id: str, image: bytes | Frame, params: Any, ctx: OpContext | None = None,
                  remote_available: set[str] | frozenset[str] | None = None) -> list[OpOutput]:
    """One operation on one image: its file, then any extra files. Errors name fields without a prefix."""
    op = get_operation(op_id)
    filled = validate_params(op_id, params, remote_available=remote_available)
    single = PreparedRecipe(name=op.name, steps=(PreparedStep(id=op.id, op=op, params=filled, input=SOURCE),),
                            outputs=(op.id,))
    return single.run(image, ctx)[op.id]
