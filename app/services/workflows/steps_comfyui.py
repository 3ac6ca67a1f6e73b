"""Workflow steps on a ComfyUI server: a workflow (API format) with a parameter map, as generation does it.

The picture is uploaded with `POST /upload/image`, the workflow (the bundled one or an admin's own, with the
uploaded file's name at its "image" input) queued with `POST /prompt`, followed through `/queue` and
`/history/{id}` and its saved image fetched from `/view` — by the generation adapter (`comfyui.ComfyUI`),
so retries, the prompt-id checks and ComfyUI's node errors read the same.

Bundled workflows (comfyui_workflows/): `upscale_model.json` needs only built-in nodes and an upscale model
file; `remove_background_rembg.json` needs the WAS Node Suite's "Image Rembg (Remove Background)" node.
"""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from app.providers.errors import ProviderError
from app.providers.http import HttpOptions
from app.services.generation.adapters.comfyui import ComfyUI
from app.services.generation.adapters.comfyui_workflow import ComfyWorkflow, load_workflow
from app.services.workflows.base import OperationFailed
from app.services.workflows.step_engines import exact_upscale, failure

WORKFLOWS = Path(__file__).parent / "comfyui_workflows"
# Each step's parameters → the kind of value at the mapped node input; "image" is required.
STEP_PARAMS: dict[str, dict[str, str]] = {
    "upscale": {"image": "text", "model": "text", "scale": "number"},
    "remove_background": {"image": "text", "model": "text"},
}
DEFAULT_FILES = {"upscale": WORKFLOWS / "upscale_model.json",
                 "remove_background": WORKFLOWS / "remove_background_rembg.json"}
_NATIVE_SCALE = re.compile(r"(?i)(?:^|[^0-9a-z])x?([1-8])x?(?:plus|[^0-9a-z]|$)")
POLL_FIRST, POLL_MAX = 0.05, 1.0


def load_step_workflow(op_id: str, path: str | Path | None = None) -> ComfyWorkflow:
    """The workflow for a step: the admin's file at `path`, or the bundled one; its map is checked against
    the step's parameters (WorkflowError names the parameter that is wrong)."""
    return load_workflow(path, default=DEFAULT_FILES[op_id], known=STEP_PARAMS[op_id], required=("image",))


def native_scale(model: str) -> int | None:
    """The enlargement an upscale model's file name announces (RealESRGAN_x4plus.pth, 4x-UltraSharp.pth)."""
    match = _NATIVE_SCALE.search(Path(model).stem)
    return int(match.group(1)) if match else None


def _mapped(workflow: ComfyWorkflow, param: str) -> str:
    """The value the workflow itself holds at a parameter's input ("" when unmapped or not text)."""
    target: Any = workflow.graph
    for key in workflow.params.get(param, ()):
        target = target.get(key) if isinstance(target, dict) else None
    return target if isinstance(target, str) else ""


class ComfyUISteps:
    """Upscale and background removal on one ComfyUI server; plain values, no Settings.

    A workflow left as None is the bundled one. `upscale_model` goes to the upscale workflow's "model" input
    ("" = the workflow's own); `background_model` likewise for the background workflow. `deadline_seconds`
    bounds one step, queue wait included; past it the prompt is removed from ComfyUI's queue.
    """

    name = "comfyui"

    def __init__(self, base_url: str, *, upscale_workflow: ComfyWorkflow | None = None,
                 background_workflow: ComfyWorkflow | None = None, upscale_model: str = "RealESRGAN_x4plus.pth",
                 background_model: str = "", api_key: str = "", http: HttpOptions | None = None,
                 deadline_seconds: float = 600.0, max_concurrency: int = 2):
        self.workflows = {"upscale": upscale_workflow or load_step_workflow("upscale"),
                          "remove_background": background_workflow or load_step_workflow("remove_background")}
        self.upscale_model, self.background_model = upscale_model, background_model
        self.deadline = deadline_seconds
        self.server = ComfyUI(base_url, api_key, workflow=self.workflows["upscale"], http=http,
                              max_concurrency=max_concurrency)
        self.base = self.server.base
        self.label = f"ComfyUI at {urlsplit(self.base).netloc}"

    def close(self) -> None:
        self.server.close()

    def supports(self, op_id: str) -> bool:
        return op_id in self.workflows

    def run(self, op_id: str, image: bytes, params: dict[str, Any]) -> bytes:
        workflow = self.workflows.get(op_id)
        if workflow is None:
            raise OperationFailed(f"{self.label} has no workflow for the “{op_id}” step.",
                                  code="remote_not_configured")
        values: dict[str, Any] = {}
        factor = params.get("factor", 2)
        if op_id == "upscale":
            if self.upscale_model:
                values["model"] = self.upscale_model
            native = native_scale(self.upscale_model or _mapped(workflow, "model"))
            values["scale"] = float(factor / native) if native else 1.0  # unknown: resized below instead
        elif self.background_model:
            values["model"] = self.background_model
        try:
            values["image"] = self._upload(image)
            result = self._execute(workflow.fill(values))
        except ProviderError as exc:
            raise failure(self.label, exc) from exc
        return exact_upscale(result, image, factor, label=self.label) if op_id == "upscale" else result

    def _upload(self, image: bytes) -> str:
        """Upload to ComfyUI's input folder under a fresh name; the name LoadImage reads it by."""
        ext, mime = ("png", "image/png") if image[:8] == b"\x89PNG\r\n\x1a\n" else ("jpg", "image/jpeg")
        answer = self.server.client.send("POST", f"{self.base}/upload/image",
                                         files={"image": (f"atelier-{uuid.uuid4().hex}.{ext}", image, mime)},
                                         data={"type": "input", "overwrite": "true"})
        name = answer.get("name") if isinstance(answer, dict) else None
        if not isinstance(name, str) or not name:
            raise ProviderError("ComfyUI answered the upload without the file's name", code="bad_response")
        subfolder = answer.get("subfolder")
        return f"{subfolder}/{name}" if isinstance(subfolder, str) and subfolder else name

    def _execute(self, graph: dict[str, Any]) -> bytes:
        """Queue the graph, wait for it within the deadline, and return its first saved image."""
        server, prompt_id = self.server, str(uuid.uuid4())
        handle = {"prompt_id": prompt_id, "n": 1, "seed": None}
        body = {"prompt": graph, "client_id": server.client_id, "prompt_id": prompt_id}
        deadline = time.monotonic() + self.deadline
        try:
            server.client.send("POST", f"{self.base}/prompt", json=body, retry=False)
        except ProviderError as exc:  # a slow answer may still have queued it: look before giving up
            if exc.code != "timeout" or server.status(handle).error_code == "not_found":
                raise
        wait = POLL_FIRST
        while (state := server.status(handle)).state in ("queued", "running"):
            if time.monotonic() + wait > deadline:
                try:
                    server.cancel(handle)
                except ProviderError:
                    pass  # the deadline is the failure to report; the prompt is ComfyUI's to finish
                raise OperationFailed(f"{self.label} did not finish the step within {self.deadline:g} s "
                                      f"({state.message}).", code="remote_timeout")
            time.sleep(wait)
            wait = min(wait * 1.5, POLL_MAX)
        return server.result(handle)[0].data
