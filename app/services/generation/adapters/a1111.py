"""Image generation through the AUTOMATIC1111 (or Forge) web UI API.

`POST /sdapi/v1/txt2img` blocks until the images are made, so it runs on a thread (`CallAwareProvider`).
It carries `force_task_id`, so `GET /sdapi/v1/progress` tells whether the job running on the server is ours
(`current_task`) and at which sampling step. Cancel is real: `POST /sdapi/v1/interrupt` stops the current
generation; A1111 then answers the txt2img call with the half-made images, which we refuse.

A1111 runs one job at a time behind a lock, so requests wait in our own pool (default one at a time)
rather than on the server, where the wait would count against the read timeout and could not be canceled.

Retries: txt2img is retried only after a 429 (a proxy in front refused it). After a timeout or a 5xx the GPU
may still be working on it, and a retry would queue the same work again; those go back to the caller.
"""

from __future__ import annotations

import base64
import json
import threading
from typing import TYPE_CHECKING, Any

from app.providers.files import decode_base64_image
from app.providers.http import HttpOptions, RemoteClient, image_options
from app.providers.submit import send_submit
from app.services.generation.adapters.checks import check_request
from app.services.generation.adapters.common import (
    PROMPT_MAX,
    CallAwareProvider,
    as_generated,
    image_http_options,
)
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


def task_id_for(call_id: str) -> str:
    """The A1111 task id of one of our calls (A1111 names its own tasks "task(...)")."""
    return f"task(atelier-{call_id})"


class A1111(CallAwareProvider):
    """AUTOMATIC1111 / Forge `sdapi/v1`, optionally behind `--api-auth user:password`."""

    name = "a1111"
    label = "AUTOMATIC1111"

    def __init__(self, base_url: str, api_key: str = "", model: str = "", *, steps: int = 25,
                 cfg_scale: float = 7.0, sampler_name: str = "DPM++ 2M", scheduler: str = "",
                 http: HttpOptions | None = None, max_concurrency: int = 1):
        """`api_key` is "user:password" for an A1111 started with --api-auth ("" = no auth);
        `model` is a checkpoint title to switch to for each request ("" = whatever is loaded)."""
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("the A1111 URL must start with http:// or https://")
        if api_key and ":" not in api_key:
            raise ValueError("A1111 credentials must be written user:password")
        if not 1 <= steps <= 150:
            raise ValueError("A1111 steps must be between 1 and 150")
        self.max_concurrency = max(1, max_concurrency)
        super().__init__()
        self.base = base_url.rstrip("/")
        self.model, self.steps, self.cfg_scale = model, steps, cfg_scale
        self.sampler_name, self.scheduler = sampler_name, scheduler
        self.capabilities = Capabilities(negative_prompt=True, seed=True, max_n=MAX_N, min_side=64, max_side=2048,
                                         size_multiple=8, steps=True, cancel=True,
                                         models=(model,) if model else ())
        headers = {"Authorization": "Basic " + base64.b64encode(api_key.encode()).decode()} if api_key else None
        # Two connections more than generations: progress polls and interrupts must not wait behind a txt2img.
        self.client = RemoteClient(self.name, options=image_http_options(http, read_timeout=600.0),
                                   headers=headers, max_connections=self.max_concurrency + 2)
        self._interrupted: set[str] = set()
        self._seen_running: set[str] = set()
        self._state_lock = threading.Lock()

    def close(self) -> None:
        self.client.close()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def check(self, request: GenerationRequest) -> None:
        check_request(request, self.capabilities, label=self.label, max_prompt_chars=PROMPT_MAX)

    def run(self, request: GenerationRequest, call_id: str) -> list[GeneratedImage]:
        body: dict[str, Any] = {
            "prompt": request.prompt, "negative_prompt": request.negative_prompt, "seed": request.seed,
            "width": request.width, "height": request.height, "steps": self.steps, "cfg_scale": self.cfg_scale,
            "sampler_name": self.sampler_name, "batch_size": request.n, "n_iter": 1,
            "force_task_id": task_id_for(call_id), "send_images": True, "save_images": False,
        }
        if self.scheduler:
            body["scheduler"] = self.scheduler
        model = request.model or self.model
        if model:
            body["override_settings"] = {"sd_model_checkpoint": model}
            body["override_settings_restore_afterwards"] = True
        answer = send_submit(self.client, "POST", f"{self.base}/sdapi/v1/txt2img", json=body)
        return self._images(answer, request.n)

    def _images(self, answer: Any, n: int) -> list[GeneratedImage]:
        images = answer.get("images") if isinstance(answer, dict) else None
        if not isinstance(images, list):
            raise ProviderError(f"{self.label} answered without an images list", code="bad_response")
        try:
            info = json.loads(answer.get("info") or "")
        except (TypeError, ValueError) as exc:
            raise ProviderError(f"{self.label} sent an info field that is not JSON", code="bad_response") from exc
        if not isinstance(info, dict):
            raise ProviderError(f"{self.label} sent an info field that is not an object", code="bad_response")
        # With "return grid" on, A1111 puts a grid of the batch first; extensions may append images after.
        first = info.get("index_of_first_image", 0)
        first = first if isinstance(first, int) and 0 <= first < len(images) else 0
        wanted = images[first:first + n]
        if len(wanted) < n:
            raise ProviderError(f"{self.label} sent {len(wanted)} images for {n} asked", code="bad_response")
        seeds = info.get("all_seeds")
        seeds = seeds if isinstance(seeds, list) and len(seeds) >= n else [info.get("seed")] * n
        return [as_generated(decode_base64_image(text, source=self.label),
                             seed=seed if isinstance(seed, int) and seed >= 0 else None,
                             extras={"model": info.get("sd_model_name") or self.model})
                for text, seed in zip(wanted, seeds, strict=False)]

    # --- progress and cancel -------------------------------------------------------------------------------

    def _progress(self) -> dict[str, Any]:
        answer = self.client.send("GET", f"{self.base}/sdapi/v1/progress", params={"skip_current_image": "true"})
        if not isinstance(answer, dict) or not isinstance(answer.get("state"), dict):
            raise ProviderError(f"{self.label} answered the progress call without a state", code="bad_response")
        return answer

    @staticmethod
    def _ours(progress: dict[str, Any], task: str) -> bool | None:
        """True when our task is the one running, False when another is, None when A1111 does not say."""
        state = progress["state"]
        if not state.get("job_count"):
            return False
        if "current_task" not in progress:  # A1111 before 1.6 does not name the running task
            return None
        return progress.get("current_task") == task

    def status(self, handle: dict[str, Any]) -> GenerationStatus:
        future = self._future(handle)
        call_id = str(handle.get("call"))
        with self._state_lock:
            interrupted = call_id in self._interrupted
        if interrupted:
            return GenerationStatus("canceled", f"interrupted on {self.label}")
        if future.done() or not future.running() or self.cancel_requested(call_id):
            return super().status(handle)
        try:
            progress = self._progress()
        except ProviderError as exc:  # a failed poll says nothing about the generation itself
            return GenerationStatus("running", f"waiting for {self.label} (progress unavailable: {exc})")
        ours = self._ours(progress, task_id_for(call_id))
        state = progress["state"]
        if ours is False:
            with self._state_lock:
                seen = call_id in self._seen_running
            if seen:  # finished on the server; the images are on their way
                return GenerationStatus("running", f"{self.label} is sending the images")
            busy = "busy with another job" if state.get("job_count") else "starting"
            return GenerationStatus("queued", f"{self.label} is {busy}")
        with self._state_lock:
            self._seen_running.add(call_id)
        step, steps = state.get("sampling_step"), state.get("sampling_steps")
        if isinstance(step, int) and isinstance(steps, int) and steps > 0:
            return GenerationStatus("running", f"step {min(step, steps)} of {steps}", step=min(step, steps),
                                    steps=steps)
        return GenerationStatus("running", f"{self.label} is working")

    def cancel(self, handle: dict[str, Any]) -> bool:
        future = self._future(handle)
        call_id = str(handle.get("call"))
        if future.cancel():  # still waiting in our pool: A1111 never saw it
            self._forget(handle)
            return True
        if future.done():
            return False  # already made; nothing to stop
        ours = self._ours(self._progress(), task_id_for(call_id))
        if ours is False:
            # Waiting for A1111's lock or just finished: an interrupt would stop someone else's job.
            return super().cancel(handle)
        # ours is None (an old A1111 that does not name tasks): our request is in flight, so it is most
        # likely the running job; A1111 offers no finer way to stop it.
        self.client.send("POST", f"{self.base}/sdapi/v1/interrupt", expect="bytes", retry=False)
        with self._state_lock:
            self._interrupted.add(call_id)
        return True

    def result(self, handle: dict[str, Any]) -> list[GeneratedImage]:
        future = self._future(handle)
        with self._state_lock:
            interrupted = str(handle.get("call")) in self._interrupted
        if interrupted:
            future.add_done_callback(lambda _f: self._forget(handle))  # runs at once when already done
            raise ProviderError(f"this request was interrupted on {self.label}; its images are incomplete",
                                code="canceled")
        return super().result(handle)

    def _forget(self, handle: dict[str, Any]) -> None:
        super()._forget(handle)
        with self._state_lock:
            self._interrupted.discard(str(handle.get("call", "")))
            self._seen_running.discard(str(handle.get("call", "")))


def from_settings(settings: Settings) -> A1111:
    """The registry's builder (app/providers/registry.py), from IMAGE_A1111_*."""
    return A1111(settings.image_a1111_url, settings.image_a1111_auth, steps=settings.image_a1111_steps,
                 http=image_options(settings, "a1111"))


def settings_connection(settings: Settings) -> tuple[str, str, str, dict[str, str]]:
    """(base URL, key, model, options) of the AI connection `make run` seeds from these settings once."""
    return settings.image_a1111_url, settings.image_a1111_auth, "", {}

def from_connection(conn: Snapshot, model: str) -> A1111:
    """The registry's builder for a stored AI connection (app/services/ai/builders.py) running `model`."""
    settings = get_settings()
    return A1111(conn.base_url, conn.api_key, model, steps=settings.image_a1111_steps,
                 http=image_options(settings, "a1111"))
