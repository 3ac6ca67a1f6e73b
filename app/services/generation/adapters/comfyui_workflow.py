"""ComfyUI workflows: an API-format node graph plus a map saying which node input each parameter goes to.

An admin can bring their own workflow (ComfyUI's "Save (API Format)") by writing a JSON file
`{"workflow": {...graph...}, "params": {"prompt": ["6", "inputs", "text"], ...}}`; `load_workflow` checks
that every mapped path exists in the graph and holds the kind of value the parameter needs, so a typo
fails at start-up with a message naming the parameter, not later as a confusing ComfyUI error.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_WORKFLOW_PATH = Path(__file__).parent / "comfyui_workflows" / "sd_txt2img.json"
WORKFLOW_FILE_MAX_BYTES = 1024 * 1024
MAX_NODES = 1000
# Parameter → the kind of value its node input holds ("text", "int" or "number").
PARAMS: dict[str, str] = {"prompt": "text", "negative_prompt": "text", "seed": "int", "width": "int",
                          "height": "int", "n": "int", "model": "text", "steps": "int", "cfg": "number",
                          "sampler": "text"}


class WorkflowError(ValueError):
    """A workflow file or parameter map that cannot work; the message says what to fix."""


def _kind_of(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        return "text"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "number"
    return None


@dataclass(frozen=True)
class ComfyWorkflow:
    graph: dict[str, Any]
    params: dict[str, tuple[str, ...]]

    def has(self, param: str) -> bool:
        return param in self.params

    def fill(self, values: dict[str, Any]) -> dict[str, Any]:
        """A copy of the graph with each mapped parameter set (parameters the map lacks are skipped)."""
        graph = copy.deepcopy(self.graph)
        for param, value in values.items():
            path = self.params.get(param)
            if path is None:
                continue
            target = graph
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value
        return graph


def parse_workflow(document: Any, *, source: str = "the workflow", known: Mapping[str, str] = PARAMS,
                   required: Sequence[str] = ("prompt",)) -> ComfyWorkflow:
    """Check a `{"workflow": graph, "params": map}` document and return it as a ComfyWorkflow.

    `known` maps each parameter the caller fills to its kind (text-to-image's PARAMS by default; workflow
    steps pass their own); `required` are the parameters the map must place.
    """
    if not isinstance(document, dict) or not isinstance(document.get("workflow"), dict):
        raise WorkflowError(f"{source}: expected a JSON object with a \"workflow\" object (the API-format graph) "
                            "and a \"params\" object")
    graph, params = document["workflow"], document.get("params")
    if not graph or len(graph) > MAX_NODES:
        raise WorkflowError(f"{source}: the workflow must have between 1 and {MAX_NODES} nodes")
    for node_id, node in graph.items():
        if not isinstance(node, dict) or not isinstance(node.get("class_type"), str) \
                or not isinstance(node.get("inputs"), dict):
            raise WorkflowError(f"{source}: node {node_id!r} needs a \"class_type\" and an \"inputs\" object; "
                                "export the workflow with ComfyUI's \"Save (API Format)\", not \"Save\"")
    if not isinstance(params, dict):
        raise WorkflowError(f"{source}: \"params\" must map parameters to node inputs, "
                            "e.g. {\"prompt\": [\"6\", \"inputs\", \"text\"]}")
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise WorkflowError(f"{source}: unknown parameter(s) {', '.join(unknown)}; "
                            f"known: {', '.join(known)}")
    for param in required:
        if param not in params:
            raise WorkflowError(f"{source}: \"params\" must say where the {param} goes")
    checked = {param: _check_path(graph, param, path, source, known[param]) for param, path in params.items()}
    return ComfyWorkflow(graph=graph, params=checked)


def _check_path(graph: dict[str, Any], param: str, path: Any, source: str, need: str) -> tuple[str, ...]:
    where = f"{source}: params.{param}"
    if not isinstance(path, list) or len(path) < 2 or not all(isinstance(key, str) and key for key in path):
        raise WorkflowError(f"{where} must be a list of names such as [\"6\", \"inputs\", \"text\"]")
    target: Any = graph
    for depth, key in enumerate(path):
        if not isinstance(target, dict) or key not in target:
            known = ", ".join(sorted(map(str, target))) if isinstance(target, dict) else "nothing"
            at = "the workflow" if depth == 0 else "/".join(path[:depth])
            raise WorkflowError(f"{where}: {at} has no {key!r} (it has: {known})")
        target = target[key]
    if isinstance(target, list):
        raise WorkflowError(f"{where}: {'/'.join(path)} is a link to another node, not a value to set")
    kind = _kind_of(target)
    if kind != need and not (need == "number" and kind == "int"):
        raise WorkflowError(f"{where}: {'/'.join(path)} holds {target!r}, but {param} needs "
                            f"{'a text' if need == 'text' else 'a number'}")
    return tuple(path)


def load_workflow(path: str | Path | None = None, *, default: Path = DEFAULT_WORKFLOW_PATH,
                  known: Mapping[str, str] = PARAMS, required: Sequence[str] = ("prompt",)) -> ComfyWorkflow:
    """Read and check a workflow file (`None` = `default`, the bundled Stable Diffusion text-to-image workflow
    unless the caller names another); `known` and `required` as in `parse_workflow`."""
    file = Path(path) if path else default
    try:
        if file.stat().st_size > WORKFLOW_FILE_MAX_BYTES:
            raise WorkflowError(f"{file}: larger than {WORKFLOW_FILE_MAX_BYTES // 1024} KB")
        document = json.loads(file.read_text(encoding="utf-8"))
    except WorkflowError:
        raise
    except OSError as exc:
        raise WorkflowError(f"cannot read the ComfyUI workflow {file}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise WorkflowError(f"{file} is not valid JSON: {exc}") from exc
    return parse_workflow(document, source=str(file), known=known, required=required)
