"""Image generation through a ComfyUI server: queue a workflow, follow it, fetch its images.

`POST /prompt` queues the workflow graph (with our own `prompt_id`, which ComfyUI keeps); `GET /queue`
says whether it is running or how many prompts are ahead; `GET /history/{id}` holds the outcome and the
saved images, fetched with `GET /view`. Cancel is real: a pending prompt is deleted from the queue
(`POST /queue {"delete": [...]}`), a running one interrupted (`POST /interrupt {"prompt_id": ...}`).
Everything lives on the server, so a handle works from any process.

Retries: `POST /prompt` is retried only after a 429. After a timeout we look our prompt id up in the queue
and history instead of sending it again, so a slow answer never queues the same work twice.
"""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

from app.errors import ValidationFailed
from app.providers.http import HttpOptions, RemoteClient, image_options
from app.providers.submit import send_submit
from app.services.generation.adapters.checks import check_request
from app.services.generation.adapters.comfyui_workflow import ComfyWorkflow, WorkflowError, load_workflow
from app.services.generation.adapters.common import PROMPT_MAX, generated_image, image_http_options
from app.services.generation.base import (
    Capabilities,
    GeneratedImage,
    GenerationRequest,
    GenerationStatus,
    ProviderError,
)
from app.settings import get_settings

if TYPE_CHECKING:
    from app.services.ai.builders import Snapshot
    from app.settings import Settings

MAX_N = 8
MAX_IMAGES = 16  # images taken from one finished workflow (a workflow may save more than it was asked for)
_PROMPT_ID = re.compile(r"[A-Za-z0-9-]{1,64}")


def _node_errors_message(status: int, message: str, data: Any) -> ProviderError | None:
    """ComfyUI's 400 for a workflow it cannot run, with the failing nodes spelled out for the admin."""
    if status != 400 or not isinstance(data, dict):
        return None
    parts = [message] if message else []
    node_errors = data.get("node_errors")
    for node_id, node in (node_errors.items() if isinstance(node_errors, dict) else []):
        errors = node.get("errors") if isinstance(node, dict) else None
        for error in errors if isinstance(errors, list) else []:
            if isinstance(error, dict):
                parts.append(f"node {node_id} ({node.get('class_type', '?')}): {error.get('message', '')} "
                             f"{error.get('details', '')}".strip())
    if not parts:
        return None  # not ComfyUI's validation answer: the shared mapping says bad_request
    return ProviderError("ComfyUI refused the workflow: " + "; ".join(parts)[:600], code="bad_request")


class ComfyUI:
    """A ComfyUI server running a text-to-image workflow (the bundled one or an admin's own)."""

    name = "comfyui"
    label = "ComfyUI"

    def __init__(self, base_url: str, api_key: str = "", model: str = "", *, workflow: ComfyWorkflow | None = None,
                 steps: int | None = None, cfg: float | None = None, sampler: str = "",
                 http: HttpOptions | None = None, max_concurrency: int = 2):
        """`api_key` is sent as a Bearer token for a ComfyUI behind an authenticating proxy ("" = none);
        `model` is the checkpoint file put at the workflow's "model" input ("" = the workflow's own);
        `steps`, `cfg` and `sampler` override the workflow's own values when its map has them."""
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("the ComfyUI URL must start with http:// or https://")
        self.base = base_url.rstrip("/")
        if steps is not None and not 1 <= steps <= 200:
            raise ValueError("ComfyUI steps must be between 1 and 200")
        self.model = model
        # Fixed per server, not per request: only the map's entries are used.
        self._settings = {k: v for k, v in {"steps": steps, "cfg": cfg, "sampler": sampler}.items() if v}
        self.workflow = workflow or load_workflow()
        self.max_concurrency = max(1, max_concurrency)
        has = self.workflow.has
        self.capabilities = Capabilities(negative_prompt=has("negative_prompt"), seed=has("seed"),
                                         max_n=MAX_N if has("n") else 1, min_side=64, max_side=2048,
                                         size_multiple=8, steps=False, queue_position=True, cancel=True,
                                         models=(model,) if model and has("model") else ())
        self.client_id = uuid.uuid4().hex  # ComfyUI groups websocket events by client; we only poll
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else None
        self.client = RemoteClient(self.name, options=image_http_options(http, read_timeout=60.0),
                                   headers=headers, max_connections=self.max_concurrency + 2,
                                   classify=_node_errors_message)
        # Prompts we removed from the queue (ComfyUI then forgets them), newest last, a bounded number.
        self._deleted: dict[str, None] = {}

    def close(self) -> None:
        self.client.close()

    # --- submit --------------------------------------------------------------------------------------------

    def submit(self, request: GenerationRequest) -> dict[str, Any]:
        check_request(request, self.capabilities, label=self.label, max_prompt_chars=PROMPT_MAX)
        values: dict[str, Any] = {"prompt": request.prompt, "negative_prompt": request.negative_prompt,
                                  "seed": request.seed, "width": request.width, "height": request.height,
                                  "n": request.n, **self._settings}
        if request.model or self.model:
            values["model"] = request.model or self.model
        prompt_id = str(uuid.uuid4())
        body = {"prompt": self.workflow.fill(values), "client_id": self.client_id, "prompt_id": prompt_id}
        try:
            answer = send_submit(self.client, "POST", f"{self.base}/prompt", json=body)
        except ProviderError as exc:
            if exc.code != "timeout" or not self._known(prompt_id):
                raise
            answer = {"prompt_id": prompt_id, "number": None}  # it was queued; the answer was just slow
        if not isinstance(answer, dict) or not isinstance(answer.get("prompt_id"), str) \
                or not _PROMPT_ID.fullmatch(answer["prompt_id"]):
            raise ProviderError("ComfyUI answered the prompt without a usable prompt_id", code="bad_response")
        return {"prompt_id": answer["prompt_id"], "n": request.n, "seed": request.seed}

    def _known(self, prompt_id: str) -> bool:
        try:
            running, pending = self._queue()
            return prompt_id in running or prompt_id in pending or self._history(prompt_id) is not None
        except ProviderError:
            return False

    # --- what the server knows -----------------------------------------------------------------------------

    @staticmethod
    def _prompt_id(handle: dict[str, Any]) -> str:
        prompt_id = handle.get("prompt_id")
        if not isinstance(prompt_id, str) or not _PROMPT_ID.fullmatch(prompt_id):
            raise ProviderError(f"not a ComfyUI handle: {handle!r}"[:200], code="not_found")
        return prompt_id

    def _queue(self) -> tuple[list[str], list[str]]:
        """(running prompt ids, pending prompt ids in the order ComfyUI will run them)."""
        answer = self.client.send("GET", f"{self.base}/queue")
        if not isinstance(answer, dict) or not isinstance(answer.get("queue_running"), list) \
                or not isinstance(answer.get("queue_pending"), list):
            raise ProviderError("ComfyUI answered /queue without queue_running and queue_pending",
                                code="bad_response")

        def entries(items: list[Any]) -> list[tuple[float, str]]:
            out = []
            for item in items:
                if not isinstance(item, list) or len(item) < 2 or not isinstance(item[1], str) \
                        or not isinstance(item[0], int | float):
                    raise ProviderError("ComfyUI sent a queue entry that is not [number, prompt_id, ...]",
                                        code="bad_response")
                out.append((float(item[0]), item[1]))
            return out

        # The pending list is ComfyUI's heap, not sorted: the lowest number runs first.
        pending = sorted(entries(answer["queue_pending"]))
        return [pid for _n, pid in entries(answer["queue_running"])], [pid for _n, pid in pending]

    def _history(self, prompt_id: str) -> dict[str, Any] | None:
        answer = self.client.send("GET", f"{self.base}/history/{prompt_id}")
        if not isinstance(answer, dict):
            raise ProviderError("ComfyUI answered /history with something that is not an object",
                                code="bad_response")
        entry = answer.get(prompt_id)
        if entry is not None and not isinstance(entry, dict):
            raise ProviderError("ComfyUI sent a history entry that is not an object", code="bad_response")
        return entry

    @staticmethod
    def _outcome(entry: dict[str, Any]) -> GenerationStatus:
        status = entry.get("status")
        if not isinstance(status, dict):  # ComfyUI before mid-2023 kept no status: a history entry meant done
            return GenerationStatus("succeeded")
        events = {m[0]: m[1] for m in status.get("messages") or []
                  if isinstance(m, list) and len(m) == 2 and isinstance(m[1], dict)}
        if status.get("status_str") == "success" and status.get("completed", True):
            return GenerationStatus("succeeded")
        if "execution_interrupted" in events:
            return GenerationStatus("canceled", "interrupted on ComfyUI")
        error = events.get("execution_error", {})
        where = f"{error.get('node_type', '?')} (node {error.get('node_id', '?')}): " if error else ""
        text = str(error.get("exception_message") or status.get("status_str") or "the workflow failed")
        return GenerationStatus("failed", f"ComfyUI: {where}{text.strip()}"[:500], error_code="provider_error")

    # --- the ImageProvider methods -------------------------------------------------------------------------

    def status(self, handle: dict[str, Any]) -> GenerationStatus:
        prompt_id = self._prompt_id(handle)
        running, pending = self._queue()  # queue first, then history: a prompt moves from one to the other
        if prompt_id in running:
            return GenerationStatus("running", "ComfyUI is running the workflow")
        if prompt_id in pending:
            position = pending.index(prompt_id) + 1
            ahead = position - 1 + len(running)
            return GenerationStatus("queued", f"{ahead} prompt(s) ahead in ComfyUI's queue", queue_position=position)
        entry = self._history(prompt_id)
        if entry is not None:
            return self._outcome(entry)
        if prompt_id in self._deleted:
            return GenerationStatus("canceled", "removed from ComfyUI's queue")
        return GenerationStatus("failed", "ComfyUI no longer knows this prompt (restarted, or its history was "
                                "cleared)", error_code="not_found")

    def result(self, handle: dict[str, Any]) -> list[GeneratedImage]:
        prompt_id = self._prompt_id(handle)
        entry = self._history(prompt_id)
        if entry is None:
            raise ProviderError("ComfyUI has no finished prompt with this id (still queued, canceled or "
                                "forgotten)", code="not_found")
        outcome = self._outcome(entry)
        if outcome.state == "canceled":
            raise ProviderError("this prompt was interrupted on ComfyUI; its images are discarded", code="canceled")
        if outcome.state != "succeeded":
            raise ProviderError(outcome.message, code=outcome.error_code or "provider_error")
        files = self._saved_files(entry)
        seed, n = handle.get("seed"), handle.get("n", 1)
        images = []
        for index, (node_id, file) in enumerate(files):
            raw, _type = self.client.send("GET", f"{self.base}/view", expect="bytes", params=file)
            extras = {"node": node_id, "filename": file["filename"]}
            if n != 1:  # a batch shares one seed; image i cannot be remade alone from it
                extras |= {"batch_seed": seed, "batch_index": index}
            images.append(generated_image(raw, provider=self.label, extras=extras,
                                          seed=seed if n == 1 and self.workflow.has("seed") else None))
        return images

    def _saved_files(self, entry: dict[str, Any]) -> list[tuple[str, dict[str, str]]]:
        outputs = entry.get("outputs")
        if not isinstance(outputs, dict):
            raise ProviderError("ComfyUI's history entry has no outputs", code="bad_response")
        found: list[tuple[str, dict[str, str]]] = []
        for node_id, output in outputs.items():
            images = output.get("images") if isinstance(output, dict) else None
            for image in images if isinstance(images, list) else []:
                if not isinstance(image, dict) or not isinstance(image.get("filename"), str) or not image["filename"]:
                    raise ProviderError("ComfyUI listed an output image without a filename", code="bad_response")
                found.append((str(node_id), {"filename": image["filename"],
                                             "subfolder": str(image.get("subfolder") or ""),
                                             "type": str(image.get("type") or "output")}))
        saved = [item for item in found if item[1]["type"] == "output"]  # previews ("temp") only if nothing saved
        files = (saved or found)[:MAX_IMAGES]
        if not files:
            raise ProviderError("the ComfyUI workflow finished without saving any image", code="bad_response")
        return files

    def cancel(self, handle: dict[str, Any]) -> bool:
        prompt_id = self._prompt_id(handle)
        running, pending = self._queue()
        if prompt_id in pending:
            self.client.send("POST", f"{self.base}/queue", json={"delete": [prompt_id]}, expect="bytes", retry=False)
            running, pending = self._queue()
            if prompt_id in pending:
                return False
            if prompt_id not in running:
                if self._history(prompt_id) is not None:
                    return False  # it ran to the end before the delete arrived
                self._deleted[prompt_id] = None
                while len(self._deleted) > 1000:
                    del self._deleted[next(iter(self._deleted))]
                return True
        if prompt_id in running:
            # With a prompt_id ComfyUI interrupts only if that prompt is the one running (older servers
            # ignore the body and interrupt whatever runs: we checked just before that it is ours).
            self.client.send("POST", f"{self.base}/interrupt", json={"prompt_id": prompt_id}, expect="bytes",
                             retry=False)
            return True
        return False


def from_settings(settings: Settings) -> ComfyUI:
    """The registry's builder (app/providers/registry.py), from IMAGE_COMFYUI_*; a workflow file that
    cannot be used is a 422 `provider_misconfigured`."""
    try:
        workflow = load_workflow(settings.image_comfyui_workflow or None)
    except WorkflowError as exc:
        raise ValidationFailed(f"The ComfyUI workflow cannot be used: {exc}", code="provider_misconfigured") from exc
    return ComfyUI(settings.image_comfyui_url, model=settings.image_comfyui_checkpoint, workflow=workflow,
                   http=image_options(settings, "comfyui"))


def settings_connection(settings: Settings) -> tuple[str, str, str, dict[str, str]]:
    """(base URL, key, model, options) of the AI connection `make run` seeds from these settings once."""
    workflow = settings.image_comfyui_workflow
    return settings.image_comfyui_url, "", settings.image_comfyui_checkpoint, {"workflow": workflow} if workflow else {}

def from_connection(conn: Snapshot, model: str) -> ComfyUI:
    """The registry's builder for a stored AI connection (app/services/ai/builders.py) running `model`."""
    try:
        workflow = load_workflow(conn.options.get("workflow") or None)
    except WorkflowError as exc:
        raise ValidationFailed(f"The ComfyUI workflow of “{conn.name}” cannot be used: {exc}",
                               code="provider_misconfigured") from exc
    return ComfyUI(conn.base_url, model=model, workflow=workflow, http=image_options(get_settings(), "comfyui"))
