"""A fake ComfyUI server on loopback: `/prompt`, `/queue`, `/history/{id}`, `/view`, `/interrupt`, with a real queue.

A worker thread takes the pending prompt with the lowest number, runs it (each KSampler step takes
`step_seconds`; `/interrupt` stops it between steps) and files it in the history with its saved images,
as ComfyUI's PromptQueue does. `hold()` keeps prompts pending, to test queue positions and deletes.
Workflows are validated like ComfyUI does for the node types of a standard text-to-image graph and of the
workflow steps' graphs: `/upload/image` stores a picture in the input folder, and a graph that loads one
(LoadImage) is evaluated node by node on real pixels — an upscale model enlarges by its own factor
(`upscale_models`), ImageScaleBy scales, the WAS rembg node cuts out (`cutout`, see `cut_out`).

Modes (see `tests/fake_providers.py`): timeout, rate_limited, server_error, unauthorized (a proxy in front),
malformed_body, wrong_shape, not_image (for `/view`), slow_answer (`/prompt` queues at once, answers late).
"""

from __future__ import annotations

import io
import threading
import time
import uuid
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from PIL import Image

from tests.fake_image_providers import NOT_AN_IMAGE, FakeImageServer, cut_out, png, png_of
from tests.fake_providers import Recorded, Reply, json_reply

REMBG_NODE = "Image Rembg (Remove Background)"  # WAS Node Suite
NODE_TYPES = {"CheckpointLoaderSimple", "CLIPTextEncode", "EmptyLatentImage", "KSampler", "VAEDecode", "SaveImage",
              "PreviewImage", "LoadImage", "UpscaleModelLoader", "ImageUpscaleWithModel", "ImageScaleBy", REMBG_NODE}
OUTPUT_NODES = {"SaveImage": "output", "PreviewImage": "temp"}
EMPTY_200: Reply = (200, {"Content-Type": "text/plain; charset=utf-8"}, b"")


def _error(kind: str, message: str, node_errors: Any = None, details: str = "") -> Reply:
    return json_reply(400, {"error": {"type": kind, "message": message, "details": details, "extra_info": {}},
                            "node_errors": {} if node_errors is None else node_errors})


class FakeComfyUI(FakeImageServer):
    def __init__(self) -> None:
        super().__init__()
        self.checkpoints = ["v1-5-pruned-emaonly.safetensors", "sd_xl_base_1.0.safetensors"]
        # file → its enlargement
        self.upscale_models = {"RealESRGAN_x4plus.pth": 4, "RealESRGAN_x2plus.pth": 2, "4x-UltraSharp.pth": 4}
        self.custom_nodes: list[str] = []  # extra node classes /object_info lists (e.g. "BiRefNet_Zho")
        self.rembg_models = ["u2net", "u2netp", "u2net_human_seg", "silueta", "isnet-general-use", "isnet-anime"]
        self.cutout = "good"  # what the rembg node makes: good, wrecked or unchanged
        self.step_seconds = 0.002
        self.fail_with = ""  # the next prompt to run fails in KSampler with this message
        self.pending: dict[str, list[Any]] = {}  # prompt_id → [number, prompt_id, prompt, extra_data, outputs]
        self.running: list[Any] | None = None
        self.history: dict[str, dict[str, Any]] = {}
        self.files: dict[tuple[str, str, str], bytes] = {}  # (type, subfolder, filename) → PNG
        self.number = 0
        self._held = False
        self._saved = 0
        self._cond = threading.Condition()
        self._interrupt = threading.Event()
        self._worker = threading.Thread(target=self._work, daemon=True)

    def start(self) -> FakeComfyUI:
        super().start()
        self._worker.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._stopping.set()
            self._cond.notify_all()
        super().stop()

    def hold(self) -> None:
        """Stop starting prompts: new ones stay pending."""
        with self._cond:
            self._held = True

    def release(self) -> None:
        with self._cond:
            self._held = False
            self._cond.notify_all()

    def wait_for(self, condition: Any, timeout: float = 3.0) -> bool:
        def locked() -> bool:  # read the queue as the worker leaves it, not halfway through a move
            with self._cond:
                return bool(condition())
        return super().wait_for(locked, timeout)

    def object_info(self) -> dict[str, Any]:
        """`GET /object_info`: every node class with its inputs; loaders list the files they can load."""
        def node(name: str, required: dict[str, Any], output: list[str], category: str) -> dict[str, Any]:
            return {"input": {"required": required}, "input_order": {"required": list(required)}, "output": output,
                    "output_is_list": [False] * len(output), "output_name": output, "name": name,
                    "display_name": name, "description": "", "python_module": "nodes", "category": category,
                    "output_node": name in OUTPUT_NODES}

        info = {name: node(name, {}, [], "fake") for name in sorted(NODE_TYPES)}
        info["CheckpointLoaderSimple"] = node("CheckpointLoaderSimple", {"ckpt_name": [list(self.checkpoints), {}]},
                                              ["MODEL", "CLIP", "VAE"], "loaders")
        info["UpscaleModelLoader"] = node("UpscaleModelLoader", {"model_name": [list(self.upscale_models), {}]},
                                          ["UPSCALE_MODEL"], "loaders")
        info["ImageUpscaleWithModel"] = node("ImageUpscaleWithModel", {
            "upscale_model": ["UPSCALE_MODEL"], "image": ["IMAGE"]}, ["IMAGE"], "image/upscaling")
        for name in self.custom_nodes:
            info[name] = node(name, {"image": ["IMAGE"]}, ["IMAGE", "MASK"], "image/background")
        return info

    # --- HTTP ----------------------------------------------------------------------------------------------

    def respond(self, request: Recorded, mode: str) -> Reply:
        replies = {
            "unauthorized": lambda: json_reply(401, {"error": "Unauthorized"}),  # an authenticating proxy
            "rate_limited": lambda: json_reply(429, {"error": "Too many requests"}, {"Retry-After": self.retry_after}),
            # aiohttp's own answer when a handler raises
            "server_error": lambda: (500, {"Content-Type": "text/plain"}, b"500 Internal Server Error\n\n"
                                     b"Server got itself in trouble"),
            "malformed_body": lambda: (200, {"Content-Type": "application/json"}, b'{"prompt_id": "12'),
            "wrong_shape": lambda: json_reply(200, {"unexpected": True}),
        }
        if mode in replies:
            return replies[mode]()
        method, path = request.method, request.path
        if (method, path) == ("POST", "/prompt"):
            answer = self._post_prompt(request)
            if mode == "slow_answer":  # queued at once, but the answer is late (a busy event loop)
                self._stopping.wait(self.hang_seconds)
            return answer
        if (method, path) == ("GET", "/object_info"):
            return json_reply(200, self.object_info())
        if (method, path) == ("POST", "/upload/image"):
            return self._upload(request)
        if (method, path) == ("GET", "/queue"):
            with self._cond:
                pending = sorted(self.pending.values(), key=lambda e: e[0], reverse=True)  # heap order: unsorted
                return json_reply(200, {"queue_running": [self.running] if self.running else [],
                                        "queue_pending": pending})
        if method == "GET" and path.startswith("/history/"):
            prompt_id = path.rsplit("/", 1)[-1]
            with self._cond:
                entry = self.history.get(prompt_id)
            return json_reply(200, {prompt_id: entry} if entry else {})
        if (method, path) == ("GET", "/view"):
            key = tuple(request.query.get(k, [d])[0] for k, d in (("type", "output"), ("subfolder", ""),
                                                                   ("filename", "")))
            data = self.files.get(key)  # type: ignore[arg-type]
            if data is None:
                return 404, {"Content-Type": "text/plain"}, b"404: Not Found"
            return 200, {"Content-Type": "image/png"}, NOT_AN_IMAGE if mode == "not_image" else data
        if (method, path) == ("POST", "/queue"):
            body = request.json if isinstance(request.json, dict) else {}
            with self._cond:
                for prompt_id in body.get("delete", []):
                    self.pending.pop(prompt_id, None)
                if body.get("clear"):
                    self.pending.clear()
            return EMPTY_200
        if (method, path) == ("POST", "/interrupt"):
            body = request.json if isinstance(request.json, dict) else {}
            with self._cond:
                # Newer ComfyUI: with a prompt_id, only that prompt is interrupted (if it is the one running).
                if self.running and body.get("prompt_id") in (None, self.running[1]):
                    self._interrupt.set()
            return EMPTY_200
        return 404, {"Content-Type": "text/plain"}, b"404: Not Found"

    def _upload(self, request: Recorded) -> Reply:
        """ComfyUI's image upload: multipart "image" file (+ "type", "subfolder", "overwrite")."""
        content_type = request.headers.get("content-type", "")
        message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + request.raw)
        parts = {part.get_param("name", header="content-disposition"): part
                 for part in (message.iter_parts() if message.is_multipart() else [])}
        if "image" not in parts or not parts["image"].get_filename():
            return 400, {"Content-Type": "text/plain"}, b"400: Bad Request"
        field = lambda name, default: str(parts[name].get_content()).strip() if name in parts else default  # noqa: E731
        kind, subfolder, name = field("type", "input"), field("subfolder", ""), parts["image"].get_filename()
        with self._cond:
            self.files[(kind, subfolder, name)] = parts["image"].get_payload(decode=True)
        return json_reply(200, {"name": name, "subfolder": subfolder, "type": kind})

    def _post_prompt(self, request: Recorded) -> Reply:
        body = request.json
        if not isinstance(body, dict) or "prompt" not in body:
            return _error("no_prompt", "No prompt provided", details="No prompt provided")
        graph = body["prompt"]
        if not isinstance(graph, dict) or not all(isinstance(n, dict) for n in graph.values()):
            return _error("invalid_prompt", "Invalid prompt: the prompt must be an object of nodes")
        for node_id, node in graph.items():
            if node.get("class_type") not in NODE_TYPES:
                return _error("invalid_prompt", f"Cannot execute because node {node.get('class_type')} does not "
                              "exist.", details=f"Node ID '#{node_id}'")
            for name, value in (node.get("inputs") or {}).items():
                if isinstance(value, list) and (len(value) != 2 or str(value[0]) not in graph):
                    return _error("invalid_prompt", "Bad linked input", details=f"node {node_id} input {name}")
        outputs = [node_id for node_id, node in graph.items() if node["class_type"] in OUTPUT_NODES]
        if not outputs:
            return _error("prompt_no_outputs", "Prompt has no outputs")
        node_errors = {node_id: {"errors": problems, "dependent_outputs": outputs, "class_type": node["class_type"]}
                       for node_id, node in graph.items() if (problems := self._check_node(node))}
        if node_errors:
            return _error("prompt_outputs_failed_validation", "Prompt outputs failed validation", node_errors)
        prompt_id = str(body.get("prompt_id") or uuid.uuid4())  # ComfyUI keeps a client-chosen prompt_id
        with self._cond:
            number = self.number
            self.number += 1
            self.pending[prompt_id] = [number, prompt_id, graph, {"client_id": body.get("client_id")}, outputs]
            self._cond.notify_all()
        return json_reply(200, {"prompt_id": prompt_id, "number": number, "node_errors": {}})

    def _check_node(self, node: dict[str, Any]) -> list[dict[str, Any]]:
        inputs, kind = node.get("inputs") or {}, node["class_type"]

        def bad(kind_: str, message: str, details: str) -> dict[str, Any]:
            return {"type": kind_, "message": message, "details": details, "extra_info": {}}

        problems = []
        if kind == "CheckpointLoaderSimple" and inputs.get("ckpt_name") not in self.checkpoints:
            problems.append(bad("value_not_in_list", "Value not in list",
                                f"ckpt_name: '{inputs.get('ckpt_name')}' not in {self.checkpoints}"))
        limits = {"EmptyLatentImage": {"width": (16, 16384), "height": (16, 16384), "batch_size": (1, 4096)},
                  "KSampler": {"seed": (0, 2**64 - 1), "steps": (1, 10000)}}.get(kind, {})
        for name, (low, high) in limits.items():
            value = inputs.get(name)
            if not isinstance(value, int) or isinstance(value, bool):
                problems.append(bad("invalid_input_type", "Failed to convert an input value to a INT value",
                                    f"{name}, {value!r}"))
            elif not low <= value <= high:
                problems.append(bad("value_bigger_than_max" if value > high else "value_smaller_than_min",
                                    "Value out of range", f"{name}: {value} not in [{low}, {high}]"))
        if kind == "LoadImage" and ("input", *str(inputs.get("image", "")).rpartition("/")[::2]) not in self.files:
            problems.append(bad("custom_validation_failed", "Custom validation failed for node",
                                f"image - Invalid image file: {inputs.get('image')}"))
        choices = {"UpscaleModelLoader": ("model_name", list(self.upscale_models)),
                   REMBG_NODE: ("model", self.rembg_models)}.get(kind)
        if choices and inputs.get(choices[0]) not in choices[1]:
            problems.append(bad("value_not_in_list", "Value not in list",
                                f"{choices[0]}: '{inputs.get(choices[0])}' not in {choices[1]}"))
        if kind == "ImageScaleBy" and not (isinstance(inputs.get("scale_by"), int | float)
                                           and 0.01 <= inputs["scale_by"] <= 8.0):
            problems.append(bad("value_not_in_range", "Value out of range", f"scale_by: {inputs.get('scale_by')!r}"))
        if kind == "CLIPTextEncode" and not isinstance(inputs.get("text"), str):
            problems.append(bad("invalid_input_type", "Failed to convert an input value to a STRING value", "text"))
        return problems

    # --- the worker ----------------------------------------------------------------------------------------

    def _work(self) -> None:
        while not self._stopping.is_set():
            with self._cond:
                while (self._held or not self.pending) and not self._stopping.is_set():
                    self._cond.wait(0.05)
                if self._stopping.is_set():
                    return
                entry = min(self.pending.values(), key=lambda e: e[0])
                del self.pending[entry[1]]
                self.running = entry
                self._interrupt.clear()
            outcome = self._execute(entry)
            with self._cond:  # one step, like PromptQueue.task_done: never in both the queue and the history
                self.history[entry[1]] = outcome
                self.running = None

    def _execute(self, entry: list[Any]) -> dict[str, Any]:
        prompt_id, graph = entry[1], entry[2]
        now = lambda: int(time.time() * 1000)  # noqa: E731
        messages: list[Any] = [["execution_start", {"prompt_id": prompt_id, "timestamp": now()}],
                               ["execution_cached", {"nodes": [], "prompt_id": prompt_id, "timestamp": now()}]]
        sampler_id, sampler = next(((i, n) for i, n in graph.items() if n["class_type"] == "KSampler"), ("", {}))
        inputs = sampler.get("inputs", {})

        def failed(event: str, **data: Any) -> dict[str, Any]:
            messages.append([event, {"prompt_id": prompt_id, "node_id": sampler_id, "node_type": "KSampler",
                                     "executed": [], "timestamp": now(), **data}])
            return {"prompt": entry, "outputs": {}, "meta": {},
                    "status": {"status_str": "error", "completed": False, "messages": messages}}

        for _step in range(int(inputs.get("steps", 1))):
            if self._interrupt.wait(self.step_seconds) or self._stopping.is_set():
                return failed("execution_interrupted")
        if self.fail_with:
            message, self.fail_with = self.fail_with, ""
            return failed("execution_error", exception_message=message, exception_type="torch.OutOfMemoryError",
                          traceback=[], current_inputs={}, current_outputs={})
        if any(node["class_type"] == "LoadImage" for node in graph.values()):
            return self._execute_image_graph(entry, messages, now)
        latent = next((n["inputs"] for n in graph.values() if n["class_type"] == "EmptyLatentImage"), {})
        width, height, batch = latent.get("width", 512), latent.get("height", 512), latent.get("batch_size", 1)
        outputs: dict[str, Any] = {}
        for node_id, node in graph.items():
            kind = OUTPUT_NODES.get(node["class_type"])
            if kind is None:
                continue
            images = []
            for index in range(batch):
                self._saved += 1
                name = f"{node['inputs'].get('filename_prefix', 'ComfyUI')}_{self._saved:05}_.png"
                self.files[(kind, "", name)] = png(width, height, int(inputs.get("seed", 0)) + index)
                images.append({"filename": name, "subfolder": "", "type": kind})
            outputs[node_id] = {"images": images}
        messages.append(["execution_success", {"prompt_id": prompt_id, "timestamp": now()}])
        return {"prompt": entry, "outputs": outputs, "meta": {},
                "status": {"status_str": "success", "completed": True, "messages": messages}}

    # --- graphs on an uploaded picture ---------------------------------------------------------------------

    def _execute_image_graph(self, entry: list[Any], messages: list[Any], now: Any) -> dict[str, Any]:
        prompt_id, graph = entry[1], entry[2]
        values: dict[str, Any] = {}

        def value(node_id: str) -> Any:
            if node_id not in values:
                node = graph[node_id]
                inputs = {k: value(str(v[0])) if isinstance(v, list) else v for k, v in node["inputs"].items()}
                values[node_id] = self._node(node["class_type"], inputs)
            return values[node_id]

        outputs: dict[str, Any] = {}
        for node_id, node in graph.items():
            kind = OUTPUT_NODES.get(node["class_type"])
            if kind is None:
                continue
            image = value(str(node["inputs"]["images"][0]))
            self._saved += 1
            name = f"{node['inputs'].get('filename_prefix', 'ComfyUI')}_{self._saved:05}_.png"
            self.files[(kind, "", name)] = png_of(image)
            outputs[node_id] = {"images": [{"filename": name, "subfolder": "", "type": kind}]}
        messages.append(["execution_success", {"prompt_id": prompt_id, "timestamp": now()}])
        return {"prompt": entry, "outputs": outputs, "meta": {},
                "status": {"status_str": "success", "completed": True, "messages": messages}}

    def _node(self, kind: str, inputs: dict[str, Any]) -> Any:
        if kind == "LoadImage":  # RGB; ComfyUI hands the alpha on as a separate MASK output
            subfolder, _, name = str(inputs["image"]).rpartition("/")
            return Image.open(io.BytesIO(self.files[("input", subfolder, name)])).convert("RGB")
        if kind == "UpscaleModelLoader":
            return self.upscale_models[inputs["model_name"]]
        if kind == "ImageUpscaleWithModel":
            image, factor = inputs["image"], inputs["upscale_model"]
            return image.resize((image.width * factor, image.height * factor), Image.Resampling.LANCZOS)
        if kind == "ImageScaleBy":
            image, scale = inputs["image"], inputs["scale_by"]
            return image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
        if kind == REMBG_NODE:
            return cut_out(inputs["images"], self.cutout)
        raise ValueError(f"the fake cannot run {kind} on a picture")
