"""Fake image-generation APIs on real loopback HTTP servers: OpenAI Images, AUTOMATIC1111, Stability
(ComfyUI, with its queue worker, is in `tests/fake_comfyui.py`).

Each speaks the provider's documented request and answer shapes, makes real PNGs (a seeded gradient at
the size the real API would make), and keeps the state machine the real API has: A1111's txt2img blocks
while `/sdapi/v1/progress` counts sampling steps and `/sdapi/v1/interrupt` ends it early.

Modes work as in `tests/fake_providers.py` (`mode`, one-off `queue(...)`, `delay`, `requests`), on every
request including GETs: timeout, rate_limited (429 + Retry-After), server_error, unauthorized,
malformed_body, wrong_shape, bad_base64, not_image; OpenAI also forbidden, unavailable, content_policy,
too_few; Stability also content_filtered, moderation (403), no_credits (402).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import random
import threading
import time
import uuid
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
from PIL import Image

from tests.fake_providers import FakeServer, Recorded, Reply, json_reply

NOT_AN_IMAGE = b"GIF89a? no, just text pretending to be a picture"


def png(width: int, height: int, seed: int = 0) -> bytes:
    """A real PNG: a two-colour gradient chosen by the seed (same seed, same bytes)."""
    rng = random.Random(seed)
    mask = Image.linear_gradient("L").rotate(rng.choice((0, 90, 180, 270))).resize((width, height))
    a, b = (Image.new("RGB", (width, height), tuple(rng.randrange(256) for _ in range(3))) for _ in range(2))
    out = io.BytesIO()
    Image.composite(a, b, mask).save(out, format="PNG", compress_level=1)
    return out.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def cut_out(image: Image.Image, mode: str = "good") -> Image.Image:
    """What a background remover makes of `image`, as an RGBA image of the same size.

    "good": alpha from each pixel's distance to the border's median colour (opaque 35 units away, clear
    within 10), which cuts the test subjects on plain backdrops cleanly. "wrecked": scattered specks.
    "unchanged": the picture, fully opaque (a server that did nothing).
    """
    rgb = np.asarray(image.convert("RGB")).astype(np.float32)
    if mode == "unchanged":
        alpha = np.full(rgb.shape[:2], 255, np.uint8)
    elif mode == "wrecked":
        rng = np.random.default_rng(7)
        cells = rng.random((rgb.shape[0] // 3 + 1, rgb.shape[1] // 3 + 1)) < 0.2
        alpha = np.kron(cells, np.ones((3, 3), bool))[:rgb.shape[0], :rgb.shape[1]].astype(np.uint8) * 255
    else:
        border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
        distance = np.linalg.norm(rgb - np.median(border, axis=0), axis=2)
        alpha = (np.clip((distance - 10) / 25, 0, 1) * 255).round().astype(np.uint8)
    result = image.convert("RGBA")
    result.putalpha(Image.fromarray(alpha, "L"))
    return result


def png_of(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


class FakeImageServer(FakeServer):
    """A FakeServer whose GET requests also go through modes, recording and `respond`."""

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake, base = self, super()._handler()

        class Handler(base):  # type: ignore[valid-type,misc]
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                request = Recorded("GET", parts.path, parse_qs(parts.query),
                                   {k.lower(): v for k, v in self.headers.items()}, b"")
                self._send(*fake._handle(request))

        return Handler

    def wait_for(self, condition: Any, timeout: float = 3.0) -> bool:
        """Poll until `condition()` holds (the server's threads move on by themselves); False on timeout."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.002)
        return True

    def sent(self, method: str, path: str) -> list[Recorded]:
        """The recorded requests to one endpoint."""
        return [r for r in self.requests if r.method == method and r.path == path]


# --- OpenAI Images -----------------------------------------------------------------------------------------

OPENAI_MODELS = {  # model → (sizes, largest n, accepts response_format)
    "gpt-image-1": ({"1024x1024", "1536x1024", "1024x1536", "auto"}, 10, False),
    "dall-e-3": ({"1024x1024", "1792x1024", "1024x1792"}, 1, True),
    "dall-e-2": ({"256x256", "512x512", "1024x1024"}, 10, True),
}


class FakeOpenAIImages(FakeImageServer):
    """`POST /v1/images/generations` as OpenAI documents it; `GET /v1/files/...` serves url-format answers."""

    def __init__(self, api_key: str = "sk-test") -> None:
        super().__init__()
        self.api_key = api_key
        self.files: dict[str, bytes] = {}
        self.made = 0
        self.answer_with_urls = False  # like servers that ignore response_format and always send URLs

    @property
    def base_url(self) -> str:
        return self.origin + "/v1"

    def respond(self, request: Recorded, mode: str) -> Reply:
        def error(status: int, message: str, kind: str, code: str | None = None, **headers: str) -> Reply:
            return json_reply(status, {"error": {"message": message, "type": kind, "param": None, "code": code}},
                              headers)

        if request.method == "GET" and request.path.startswith("/v1/files/"):
            data = self.files.get(request.path.rsplit("/", 1)[-1])
            return (200, {"Content-Type": "image/png"}, data) if data else error(404, "No such file", "not_found")
        if request.path != "/v1/images/generations":
            return error(404, f"Unknown request URL: {request.method} {request.path}.", "invalid_request_error")
        wrong_key = self.api_key and request.headers.get("authorization") != f"Bearer {self.api_key}"
        if mode == "unauthorized" or wrong_key:
            return error(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key")
        replies = {
            "forbidden": lambda: error(403, "You are not allowed to use this model.", "invalid_request_error"),
            "rate_limited": lambda: error(429, "Rate limit reached for images per minute.", "requests",
                                          "rate_limit_exceeded", **{"Retry-After": self.retry_after}),
            "server_error": lambda: error(500, "The server had an error processing your request.", "server_error"),
            "unavailable": lambda: error(503, "The engine is currently overloaded.", "server_error",
                                         **{"Retry-After": self.retry_after}),
            "content_policy": lambda: error(400, "Your request was rejected as a result of our safety system.",
                                            "image_generation_user_error", "content_policy_violation"),
            "malformed_body": lambda: (200, {"Content-Type": "application/json"}, b'{"created": 1, "data": [{"b6'),
            "wrong_shape": lambda: json_reply(200, {"created": 1, "images": []}),
        }
        if mode in replies:
            return replies[mode]()
        body = request.json if isinstance(request.json, dict) else {}
        model, size, n = body.get("model", "dall-e-2"), body.get("size", "1024x1024"), body.get("n", 1)
        sizes, max_n, takes_format = OPENAI_MODELS.get(model, (None, 4, True))
        if not isinstance(body.get("prompt"), str) or not body["prompt"]:
            return error(400, "Missing required parameter: 'prompt'.", "invalid_request_error")
        if "response_format" in body and not takes_format:
            return error(400, "Unknown parameter: 'response_format'.", "invalid_request_error", "unknown_parameter")
        if sizes is not None and size not in sizes:
            return error(400, f"Invalid value: '{size}'. Supported values are: {sorted(sizes)}.",
                         "invalid_request_error", "invalid_value")
        if not isinstance(n, int) or not 1 <= n <= max_n:
            return error(400, f"Invalid 'n': this model makes 1 to {max_n} images.", "invalid_request_error")
        width, height = (1024, 1024) if size == "auto" else map(int, size.split("x"))
        as_url = self.answer_with_urls or (takes_format and body.get("response_format", "url") == "url")
        data = []
        for _ in range(n):
            self.made += 1
            image = NOT_AN_IMAGE if mode == "not_image" else png(width, height, self.made)
            item: dict[str, Any] = {}
            if as_url:
                name = f"img-{uuid.uuid4().hex}.png"
                self.files[name] = image
                item["url"] = f"{self.base_url}/files/{name}"
            else:
                item["b64_json"] = "not base64 at all!" if mode == "bad_base64" else b64(image)
            if model == "dall-e-3":
                item["revised_prompt"] = f"A detailed picture of {body['prompt']}"
            data.append(item)
        return json_reply(200, {"created": int(time.time()), "data": data[:-1] if mode == "too_few" else data})


def _short_hash(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:10]


# --- AUTOMATIC1111 -----------------------------------------------------------------------------------------


class FakeA1111(FakeImageServer):
    """`/sdapi/v1/txt2img`, `/progress` and `/interrupt` of the AUTOMATIC1111 web UI API, plus what workflow
    steps use: `/sdapi/v1/extra-single-image` (a real Lanczos enlargement), `/sdapi/v1/upscalers`,
    `/sdapi/v1/sd-models`, `/openapi.json`, and the rembg extension's `/rembg` when `rembg_installed`.

    One job runs at a time (A1111's queue lock); each sampling step takes `step_seconds`.
    """

    def __init__(self, auth: tuple[str, str] | None = None) -> None:
        super().__init__()
        self.auth = auth
        self.step_seconds = 0.01
        self.return_grid = False  # A1111's "return grid" option: a grid of the batch comes first
        self.checkpoint = "v1-5-pruned-emaonly"
        # What GET /sdapi/v1/sd-models lists.
        self.checkpoints = ["v1-5-pruned-emaonly", "sd_xl_base_1.0"]
        self.jobs: list[dict[str, Any]] = []  # what each txt2img did: task, steps run, interrupted
        self.upscalers = {"None": None, "Lanczos": None, "Nearest": None, "R-ESRGAN 4x+": 4.0, "ESRGAN_4x": 4.0}
        self.native_only = False  # extras answer at the upscaler's own scale, ignoring upscaling_resize
        self.rembg_installed = True  # the stable-diffusion-webui-rembg extension
        self.rembg_models = ["u2net", "u2netp", "u2net_human_seg", "silueta", "isnet-general-use"]
        self.cutout = "good"  # what /rembg makes: good, wrecked or unchanged (see cut_out)
        self.samples_format = "png"  # A1111's image format setting; API answers are encoded in it
        self._gpu = threading.Lock()
        self._state_lock = threading.Lock()
        self._interrupt = threading.Event()
        self._state = self._idle()
        self._current_task: str | None = None

    @property
    def current_task(self) -> str | None:
        with self._state_lock:
            return self._current_task

    @staticmethod
    def _idle() -> dict[str, Any]:
        return {"skipped": False, "interrupted": False, "stopping_generation": False, "job": "", "job_count": 0,
                "job_timestamp": "0", "job_no": 0, "sampling_step": 0, "sampling_steps": 0}

    def _authorized(self, request: Recorded) -> bool:
        if not self.auth:
            return True
        wanted = "Basic " + b64(f"{self.auth[0]}:{self.auth[1]}".encode())
        return request.headers.get("authorization") == wanted

    def respond(self, request: Recorded, mode: str) -> Reply:
        if mode == "unauthorized" or not self._authorized(request):
            return json_reply(401, {"detail": "Incorrect username or password"}, {"WWW-Authenticate": "Basic"})
        replies = {
            "rate_limited": lambda: json_reply(429, {"detail": "Too many requests"}, {"Retry-After": self.retry_after}),
            # A1111's exception handler answers {"error", "detail", "body", "errors"}.
            "server_error": lambda: json_reply(500, {"error": "OutOfMemoryError", "detail": "", "body": "",
                                                     "errors": "CUDA out of memory."}),
            "malformed_body": lambda: (200, {"Content-Type": "application/json"}, b'{"images": ["iVBOR'),
            "wrong_shape": lambda: json_reply(200, {"parameters": {}, "info": "{}"}),
        }
        if mode in replies:
            return replies[mode]()
        route = (request.method, request.path)
        if route == ("GET", "/sdapi/v1/progress"):
            return json_reply(200, self._progress())
        if route == ("POST", "/sdapi/v1/interrupt"):
            with self._state_lock:
                self._state["interrupted"] = True
                self._interrupt.set()
            return json_reply(200, {})
        if route == ("POST", "/sdapi/v1/txt2img"):
            return self._txt2img(request, mode)
        if route == ("POST", "/sdapi/v1/extra-single-image"):
            return self._extras(request)
        if route == ("GET", "/sdapi/v1/upscalers"):
            return json_reply(200, [{"name": name, "model_name": None, "model_path": None, "model_url": None,
                                     "scale": scale or 4.0} for name, scale in self.upscalers.items()])
        if route == ("GET", "/sdapi/v1/sd-models"):
            return json_reply(200, [{"title": f"{name}.safetensors [{_short_hash(name)}]", "model_name": name,
                                     "hash": _short_hash(name), "sha256": None, "config": None,
                                     "filename": f"/app/models/Stable-diffusion/{name}.safetensors"}
                                    for name in self.checkpoints])
        if route == ("GET", "/openapi.json"):
            paths = ["/sdapi/v1/txt2img", "/sdapi/v1/extra-single-image", "/sdapi/v1/upscalers",
                     "/sdapi/v1/sd-models", "/sdapi/v1/progress", "/sdapi/v1/interrupt"]
            paths += ["/rembg"] if self.rembg_installed else []
            return json_reply(200, {"openapi": "3.1.0", "info": {"title": "FastAPI", "version": "0.1.0"},
                                    "paths": {path: {} for path in paths}})
        if route == ("POST", "/rembg") and self.rembg_installed:
            return self._rembg(request)
        return json_reply(404, {"detail": "Not Found"})

    @staticmethod
    def _decoded(text: Any) -> Image.Image | None:
        """A1111's decode_base64_to_image: bare base64 or a data: URI."""
        if not isinstance(text, str):
            return None
        try:
            image = Image.open(io.BytesIO(base64.b64decode(text.partition(",")[2] if text.startswith("data:")
                                                           else text, validate=True)))
            image.load()
        except (OSError, ValueError):
            return None
        return image

    def _extras(self, request: Recorded) -> Reply:
        body = request.json if isinstance(request.json, dict) else {}
        image = self._decoded(body.get("image"))
        if image is None:
            return json_reply(500, {"error": "OSError", "detail": "", "body": "", "errors": "Invalid encoded image"})
        name = body.get("upscaler_1", "None")
        if name not in self.upscalers:  # postprocessing_upscale's assert, through A1111's exception handler
            return json_reply(500, {"error": "AssertionError", "detail": "", "body": "",
                                    "errors": f"could not find upscaler named {name}"})
        factor = float(body.get("upscaling_resize", 2))
        if self.native_only and self.upscalers[name]:
            factor = self.upscalers[name]
        size = (int(image.width * factor), int(image.height * factor))
        self.jobs.append({"task": "extras", "body": {k: v for k, v in body.items() if k != "image"}})
        result = image.convert("RGB").resize(size, Image.Resampling.LANCZOS)
        return json_reply(200, {"html_info": "<p>Postprocess upscale</p>", "image": self._encoded(result)})

    def _encoded(self, image: Image.Image) -> str:
        """A1111's encode_pil_to_base64: PNG as it is, JPEG without the alpha."""
        if self.samples_format == "png":
            return b64(png_of(image))
        out = io.BytesIO()
        image.convert("RGB").save(out, format="JPEG", quality=90)
        return b64(out.getvalue())

    def _rembg(self, request: Recorded) -> Reply:
        body = request.json if isinstance(request.json, dict) else {}
        model = body.get("model", "u2net")
        if not model or model == "None":
            return json_reply(200, None)  # the extension returns nothing for model "None"
        if model not in self.rembg_models:
            return json_reply(500, {"error": "ValueError", "detail": "", "body": "",
                                    "errors": f"No session class found for model '{model}'"})
        image = self._decoded(body.get("input_image"))
        if image is None:
            return json_reply(500, {"error": "OSError", "detail": "", "body": "", "errors": "Invalid encoded image"})
        self.jobs.append({"task": "rembg", "body": {k: v for k, v in body.items() if k != "input_image"}})
        return json_reply(200, {"image": self._encoded(cut_out(image, self.cutout))})

    def _progress(self) -> dict[str, Any]:
        with self._state_lock:
            state = dict(self._state)
            task = self._current_task
        if not state["job_count"]:
            return {"progress": 0.0, "eta_relative": 0.0, "state": state, "current_image": None, "textinfo": None,
                    "current_task": None}
        done = state["sampling_step"] / max(1, state["sampling_steps"])
        eta = (state["sampling_steps"] - state["sampling_step"]) * self.step_seconds
        return {"progress": round(0.01 + done, 4), "eta_relative": eta, "state": state, "current_image": None,
                "textinfo": None, "current_task": task}

    def _txt2img(self, request: Recorded, mode: str) -> Reply:
        body = request.json
        if not isinstance(body, dict) or not isinstance(body.get("prompt", ""), str):
            return json_reply(422, {"detail": [{"loc": ["body"], "msg": "value is not a valid dict"}]})
        width, height = int(body.get("width", 512)), int(body.get("height", 512))
        steps, batch = int(body.get("steps", 20)), int(body.get("batch_size", 1)) * int(body.get("n_iter", 1))
        seed = int(body.get("seed", -1))
        seed = random.randrange(2**32) if seed == -1 else seed
        task = body.get("force_task_id") or f"task({uuid.uuid4().hex[:15]})"
        with self._gpu:  # A1111's queue_lock: one generation at a time
            with self._state_lock:
                self._interrupt.clear()  # shared.state.begin() resets the interrupt flag
                self._state = {**self._idle(), "job": "scripts_txt2img", "job_count": 1, "sampling_steps": steps,
                               "job_timestamp": time.strftime("%Y%m%d%H%M%S")}
                self._current_task = task
            done = 0
            for done in range(1, steps + 1):
                if self._interrupt.wait(self.step_seconds) or self._stopping.is_set():
                    done -= 1
                    break
                with self._state_lock:
                    self._state["sampling_step"] = done
            with self._state_lock:
                interrupted = self._state["interrupted"]
                self._state.update(job_count=0, job="")
                self._current_task = None
        self.jobs.append({"task": task, "steps_run": done, "interrupted": interrupted, "body": body})
        seeds = [seed + i for i in range(batch)]
        images = [NOT_AN_IMAGE if mode == "not_image" else png(width, height, s) for s in seeds]
        first = 0
        if self.return_grid and batch > 1:
            images.insert(0, png(width * 2, height, seed + 999))
            first = 1
        encoded = ["@@not-base64@@" if mode == "bad_base64" else b64(image) for image in images]
        info = {"prompt": body.get("prompt"), "all_prompts": [body.get("prompt")] * batch, "seed": seeds[0],
                "all_seeds": seeds, "width": width, "height": height, "steps": steps, "batch_size": batch,
                "sampler_name": body.get("sampler_name"), "cfg_scale": body.get("cfg_scale"),
                "sd_model_name": body.get("override_settings", {}).get("sd_model_checkpoint", self.checkpoint),
                "index_of_first_image": first, "infotexts": [""] * len(images)}
        return json_reply(200, {"images": encoded, "parameters": body, "info": json.dumps(info)})


# --- Stability AI ------------------------------------------------------------------------------------------

STABILITY_SIZES = {"1:1": (1024, 1024), "16:9": (1344, 768), "21:9": (1536, 640), "2:3": (832, 1216),
                   "3:2": (1216, 832), "4:5": (896, 1088), "5:4": (1088, 896), "9:16": (768, 1344),
                   "9:21": (640, 1536)}
STABILITY_SD3_MODELS = {"sd3.5-large", "sd3.5-large-turbo", "sd3.5-medium", "sd3.5-flash"}


def form_fields(request: Recorded) -> dict[str, str] | None:
    """The fields of a multipart/form-data body, or None when the body is not multipart."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        return None
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + request.raw)
    if not message.is_multipart():
        return None
    return {part.get_param("name", header="content-disposition"): part.get_content()
            for part in message.iter_parts()}


class FakeStability(FakeImageServer):
    """`POST /v2beta/stable-image/generate/{core,ultra,sd3}` as Stability documents it."""

    def __init__(self, api_key: str = "sk-stab") -> None:
        super().__init__()
        self.api_key = api_key

    def respond(self, request: Recorded, mode: str) -> Reply:
        def error(status: int, name: str, *errors: str, **headers: str) -> Reply:
            return json_reply(status, {"id": uuid.uuid4().hex, "name": name, "errors": list(errors)}, headers)

        if (request.method, request.path) == ("GET", "/v1/user/account"):
            return self._account(request, mode)
        endpoint = request.path.rsplit("/", 1)[-1]
        if not request.path.startswith("/v2beta/stable-image/generate/") or endpoint not in ("core", "ultra", "sd3"):
            return error(404, "not_found", f"{request.path} does not exist")
        if mode == "unauthorized" or request.headers.get("authorization") != f"Bearer {self.api_key}":
            return error(401, "unauthorized", "authorization: invalid or missing header value")
        replies = {
            "rate_limited": lambda: error(429, "rate_limit_exceeded", "You have exceeded the rate limit.",
                                          **{"Retry-After": self.retry_after}),
            "server_error": lambda: error(500, "internal_error", "An unexpected server error occurred."),
            "moderation": lambda: error(403, "content_moderation",
                                        "Your request was flagged by our content moderation system."),
            "no_credits": lambda: error(402, "payment_required", "You lack sufficient credits to make this request."),
            "malformed_body": lambda: (200, {"Content-Type": "application/json"}, b'{"image": "iVBORw0KGgo'),
        }
        if mode in replies:
            return replies[mode]()
        fields = form_fields(request)
        if fields is None:
            return error(400, "bad_request", "content-type: must be multipart/form-data")
        problems = []
        if not 1 <= len(fields.get("prompt", "")) <= 10_000:
            problems.append("prompt: is required and must be 1 to 10000 characters")
        ratio = fields.get("aspect_ratio", "1:1")
        if ratio not in STABILITY_SIZES:
            problems.append(f"aspect_ratio: must be one of {', '.join(STABILITY_SIZES)}")
        seed = int(fields.get("seed", "0")) if fields.get("seed", "0").isdigit() else -1
        if not 0 <= seed <= 4_294_967_294:
            problems.append("seed: must be an integer from 0 to 4294967294")
        if endpoint == "sd3" and fields.get("model", "sd3.5-large") not in STABILITY_SD3_MODELS:
            problems.append(f"model: must be one of {', '.join(sorted(STABILITY_SD3_MODELS))}")
        if fields.get("output_format", "png") not in ("png", "jpeg", "webp"):
            problems.append("output_format: must be png, jpeg or webp")
        if problems:
            return error(400, "bad_request", *problems)
        seed = seed or random.randrange(1, 4_294_967_295)  # 0 asks Stability for a random seed
        image = NOT_AN_IMAGE if mode == "not_image" else png(*STABILITY_SIZES[ratio], seed=seed)
        reason = "CONTENT_FILTERED" if mode == "content_filtered" else "SUCCESS"
        if "application/json" not in request.headers.get("accept", "image/*"):
            return 200, {"Content-Type": "image/png", "seed": str(seed), "finish-reason": reason}, image
        encoded = "%%%" if mode == "bad_base64" else b64(image)
        return json_reply(200, {"image": encoded, "seed": seed, "finish_reason": reason})

    def _account(self, request: Recorded, mode: str) -> Reply:
        """`GET /v1/user/account` (the v1 REST API): the account the key belongs to."""
        if mode == "unauthorized" or request.headers.get("authorization") != f"Bearer {self.api_key}":
            return json_reply(401, {"id": uuid.uuid4().hex, "name": "unauthorized",
                                    "message": "authorization: invalid or missing header value"})
        if mode == "server_error":
            return json_reply(500, {"id": uuid.uuid4().hex, "name": "internal_error",
                                    "message": "An unexpected server error occurred."})
        return json_reply(200, {"email": "designer@example.com", "id": "user-1234", "profile_picture": "",
                                "organizations": [{"id": "org-1", "name": "Atelier", "role": "MEMBER",
                                                   "is_default": True}]})


def configured_openai_images(monkeypatch):
    """A running FakeOpenAIImages set as the OpenAI image provider at no credit cost; for fixtures to `yield from`."""
    from tests.conftest import clear_caches

    fake = FakeOpenAIImages().start()
    monkeypatch.setenv("IMAGE_OPENAI_BASE_URL", fake.base_url)
    monkeypatch.setenv("IMAGE_OPENAI_API_KEY", fake.api_key)
    monkeypatch.setenv("IMAGE_OPENAI_MODEL", "gpt-image-1")
    monkeypatch.setenv("PROVIDER_PRICES", '{"local": 0, "openai": 0}')
    clear_caches()
    yield fake
    fake.stop()
