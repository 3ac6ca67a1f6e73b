"""Fake fal.ai queue, Replicate predictions and Amazon Bedrock servers on 127.0.0.1, with the documented shapes.

Like `tests.fake_providers`: `mode` is the default answer, `queue(...)` puts one-off answers first (every
request takes one, image downloads and status polls included), `requests` records everything.

The queue fakes are state machines driven by polls, not by time, so tests are deterministic:
- fal: IN_QUEUE with a decreasing queue_position → IN_PROGRESS (tqdm lines in the logs) → COMPLETED; a cancel
  removes a queued request, and stops a running one when `honour_cancel`.
- Replicate: starting → processing (tqdm logs) → succeeded (or failed with `fail_with`); cancel → canceled.
Both serve the result images (real PNGs at the requested size, seeded) from their own `/files/` URLs.
- Bedrock: `POST /model/{modelId}/invoke` signed with SigV4 (verified against the fake's key and secret);
  errors carry `x-amzn-ErrorType` (or `__type`) so botocore parses the error code as from AWS.

Modes: good, timeout, rate_limited, server_error, unavailable, unauthorized, forbidden, malformed_body,
wrong_shape; Bedrock also model_timeout, validation, bad_base64, not_image, filtered.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import io
import itertools
import math
import random
import re
import socket
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from PIL import Image, ImageDraw

from tests.fake_providers import FakeServer, Recorded, Reply, json_reply

PNG = {"Content-Type": "image/png"}
_TQDM_BAR = "█" * 10


@functools.lru_cache(maxsize=64)
def render_png(width: int, height: int, seed: int) -> bytes:
    """A real PNG at the size, different per seed: a tinted gradient and shapes (no per-pixel noise, which
    would make a 1 MP PNG take ~0.4 s to encode and push answers past the tests' read timeouts)."""
    rng = random.Random(seed)
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    image = Image.blend(image, Image.new("RGB", (width, height), tuple(rng.randrange(40, 220) for _ in range(3))), 0.6)
    draw = ImageDraw.Draw(image)
    for _ in range(10):
        x, y, r = rng.randrange(width), rng.randrange(height), rng.randrange(8, max(9, width // 5))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rng.randrange(256) for _ in range(3)))
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def tqdm_line(step: int, steps: int) -> str:
    done = round(10 * step / steps)
    bar = _TQDM_BAR[:done] + " " * (10 - done)
    return f"{round(100 * step / steps):3d}%|{bar}| {step}/{steps} [00:01<00:01, 9.8it/s]"


class RoutedFake(FakeServer):
    """A FakeServer that also routes GET, PUT and DELETE through `respond`, and serves `/files/<name>`."""

    def __init__(self) -> None:
        super().__init__()
        self.files: dict[str, tuple[bytes, str]] = {}
        self.file_override: tuple[bytes, str] | None = None  # serve this instead of every stored file
        # Where result URLs point; set e.g. "http://localhost:<port>" to put files on another origin (a CDN).
        self.file_origin: str | None = None
        self._ids = itertools.count(1)
        self._state_lock = threading.Lock()

    def store_file(self, name: str, data: bytes, content_type: str = "image/png") -> str:
        self.files[name] = (data, content_type)
        return f"{self.file_origin or self.origin}/files/{name}"

    def serve_file(self, request: Recorded) -> Reply:
        stored = self.files.get(request.path.removeprefix("/files/"))
        if stored is None:
            return json_reply(404, {"detail": "Not found."})
        data, content_type = self.file_override or stored
        return 200, {"Content-Type": content_type}, data

    def _handler(self) -> type:
        base = super()._handler()
        fake = self

        class Handler(base):  # type: ignore[misc, valid-type]
            def setup(self) -> None:
                super().setup()
                # Headers and body go out in two writes; without this, Nagle + delayed ACK add ~40 ms a request.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def handle(self) -> None:
                try:
                    super().handle()
                except ConnectionResetError:
                    pass  # the client dropped a keep-alive connection (its timeout, or an answer it refused)

            def _route(self, method: str) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = urlsplit(self.path)
                request = Recorded(method, parts.path, parse_qs(parts.query),
                                   {k.lower(): v for k, v in self.headers.items()}, raw)
                self._send(*fake._handle(request))

            def do_GET(self) -> None:
                self._route("GET")

            def do_PUT(self) -> None:
                self._route("PUT")

            def do_DELETE(self) -> None:
                self._route("DELETE")

        return Handler


# --- fal.ai queue ---------------------------------------------------------------------------------------------

FAL_SIZES = {"square_hd": (1024, 1024), "square": (512, 512), "portrait_4_3": (768, 1024),
             "portrait_16_9": (576, 1024), "landscape_4_3": (1024, 768), "landscape_16_9": (1024, 576)}


@dataclass
class FalJob:
    id: str
    model: str
    app: str
    input: dict[str, Any]
    position: int
    state: str = "IN_QUEUE"
    progress: int = 0
    error: tuple[int, str, str] | None = None  # (HTTP status of the response, detail, error_type)
    output: dict[str, Any] | None = None


class FakeFal(RoutedFake):
    """`queue.fal.run`: POST /{endpoint}, GET /{app}/requests/{id}/status, GET /{app}/requests/{id}, PUT …/cancel."""

    def __init__(self, api_key: str = "fal-test") -> None:
        super().__init__()
        self.api_key = api_key
        self.queue_ahead = 2  # requests ahead of a new one; each status poll moves it one place
        self.progress_polls = 2  # IN_PROGRESS answers before COMPLETED
        self.steps = 28
        self.honour_cancel = True  # a running request stops when cancelled (the model handles /cancel)
        self.fail_with: tuple[int, str, str] | None = None  # next jobs fail: (status, detail, error_type)
        self.error_in_status = True  # COMPLETED status carries error/error_type (else only the response says)
        self.data_urls = False  # images as data: URIs (sync_mode)
        self.answer_urls = "own"  # "own", "none" (submit answer without URLs) or "foreign" (another host)
        self.jobs: dict[str, FalJob] = {}
        # The platform API's model search (`GET /v1/models?endpoint_id=…`, api.fal.ai in production):
        # endpoint id → (display name, category).
        self.platform_models: dict[str, tuple[str, str]] = {
            "fal-ai/flux/dev": ("FLUX.1 [dev]", "text-to-image"),
            "fal-ai/flux/schnell": ("FLUX.1 [schnell]", "text-to-image"),
            "fal-ai/birefnet": ("BiRefNet Background Removal", "image-to-image"),
            "fal-ai/clarity-upscaler": ("Clarity Upscaler", "image-to-image"),
        }

    @property
    def base_url(self) -> str:
        return self.origin

    @staticmethod
    def _error(status: int, detail: Any, **headers: str) -> Reply:
        return json_reply(status, {"detail": detail}, headers)

    def _platform_models(self, request: Recorded, mode: str) -> Reply:
        # Authentication is optional on this endpoint (a key only raises rate limits), as fal documents.
        if mode == "unauthorized":
            return self._error(401, "Invalid API key")
        wanted = request.query.get("endpoint_id", [])
        found = [{"endpoint_id": model, "metadata": {"display_name": name, "category": category, "status": "active",
                                                     "model_url": f"https://fal.run/{model}"}}
                 for model, (name, category) in self.platform_models.items() if not wanted or model in wanted]
        return json_reply(200, {"models": found, "next_cursor": None, "has_more": False})

    def respond(self, request: Recorded, mode: str) -> Reply:
        if request.method == "GET" and request.path.startswith("/files/"):
            return self.serve_file(request)
        if request.method == "GET" and request.path == "/v1/models":
            return self._platform_models(request, mode)
        if mode == "unauthorized" or request.headers.get("authorization") != f"Key {self.api_key}":
            return self._error(401, "No user found for Key ID and Secret")
        replies = {
            "forbidden": lambda: self._error(403, "User is locked. Reason: Exhausted balance."),
            "rate_limited": lambda: self._error(429, "Too many requests", **{"Retry-After": self.retry_after}),
            "server_error": lambda: self._error(500, "Internal Server Error"),
            "unavailable": lambda: self._error(503, "Service Unavailable", **{"Retry-After": self.retry_after}),
            "malformed_body": lambda: (200, {"Content-Type": "application/json"}, b'{"request_id": "abc'),
        }
        if mode in replies:
            return replies[mode]()
        match = re.match(r"^/(?P<app>.+)/requests/(?P<id>[^/]+)(?P<rest>/status|/cancel)?$", request.path)
        with self._state_lock:
            if match is None and request.method == "POST":
                return self._submit(request, mode)
            job = self.jobs.get(match.group("id")) if match else None
            if job is None or match.group("app") != job.app:  # fal's convention: the app id, not the endpoint
                return self._error(404, "Request not found")
            if match.group("rest") == "/status" and request.method == "GET":
                return self._status(job, mode)
            if match.group("rest") == "/cancel" and request.method == "PUT":
                return self._cancel(job)
            if match.group("rest") is None and request.method == "GET":
                return self._response(job, mode)
        return self._error(405, "Method Not Allowed")

    def _submit(self, request: Recorded, mode: str) -> Reply:
        body = request.json
        if not isinstance(body, dict) or not isinstance(body.get("prompt"), str):
            return self._error(422, [{"loc": ["body", "prompt"], "msg": "field required", "type": "value_error"}])
        model = request.path.strip("/")
        parts = model.split("/")
        app = "/".join(parts[: 3 if parts[0] in ("workflows", "comfy") else 2])
        job = FalJob(f"{next(self._ids):04d}-fal-{len(self.jobs)}", model, app, body, self.queue_ahead,
                     error=self.fail_with)
        self.jobs[job.id] = job
        if mode == "wrong_shape":
            return json_reply(200, {"status": "IN_QUEUE"})
        origin = "https://queue.evil.example" if self.answer_urls == "foreign" else self.origin
        base = f"{origin}/{app}/requests/{job.id}"
        answer: dict[str, Any] = {"request_id": job.id, "queue_position": job.position}
        if self.answer_urls != "none":
            answer.update(response_url=base, status_url=base + "/status", cancel_url=base + "/cancel")
        return json_reply(200, answer)

    def _finish(self, job: FalJob) -> None:
        job.state = "COMPLETED"
        if job.error:
            return
        size = job.input.get("image_size", "landscape_4_3")
        width, height = (size["width"], size["height"]) if isinstance(size, dict) else FAL_SIZES[size]
        seed = int(job.input.get("seed", 42))
        found = []
        for index in range(int(job.input.get("num_images", 1))):
            png = render_png(width, height, seed + index)
            url = (f"data:image/png;base64,{base64.b64encode(png).decode()}" if self.data_urls
                   else self.store_file(f"{job.id}-{index}.png", png))
            found.append({"url": url, "width": width, "height": height, "content_type": "image/png"})
        job.output = {"images": found, "timings": {"inference": 1.25}, "seed": seed,
                      "has_nsfw_concepts": [False] * len(found), "prompt": job.input["prompt"]}

    def _status(self, job: FalJob, mode: str) -> Reply:
        if job.state == "IN_QUEUE":
            if job.position > 0:
                job.position -= 1
            else:
                job.state = "IN_PROGRESS"
        elif job.state == "IN_PROGRESS":
            job.progress += 1
            if job.progress > self.progress_polls:
                self._finish(job)
        base = f"{self.origin}/{job.app}/requests/{job.id}"
        answer: dict[str, Any] = {"status": job.state, "request_id": job.id, "response_url": base,
                                  "status_url": base + "/status", "cancel_url": base + "/cancel"}
        if mode == "wrong_shape":
            return json_reply(200, {"state": "running"})
        if job.state == "IN_QUEUE":
            answer["queue_position"] = job.position
        elif job.state == "IN_PROGRESS":
            step = min(self.steps, round(self.steps * job.progress / max(1, self.progress_polls)))
            answer["logs"] = [{"message": "Loading model", "level": "INFO", "source": "stdout",
                               "timestamp": "2026-11-20T10:00:00Z"}] + ([{
                "message": tqdm_line(step, self.steps), "level": "STDERR", "source": "stderr",
                "timestamp": "2026-11-20T10:00:01Z"}] if step else [])
        else:
            answer.update(logs=[], metrics={"inference_time": 1.25})
            if job.error and self.error_in_status:
                answer.update(error=job.error[1], error_type=job.error[2])
        return json_reply(202 if job.state != "COMPLETED" else 200, answer)

    def _response(self, job: FalJob, mode: str) -> Reply:
        if job.state != "COMPLETED":
            return self._error(400, "Request is still in progress")
        if job.error:
            status, detail, error_type = job.error
            return json_reply(status, {"detail": detail, "error_type": error_type}, {"X-Fal-Error-Type": error_type})
        if mode == "wrong_shape":
            return json_reply(200, {"images": [{"width": 1}], "seed": 1})
        return json_reply(200, job.output)

    def _cancel(self, job: FalJob) -> Reply:
        if job.state == "COMPLETED":
            return json_reply(400, {"status": "ALREADY_COMPLETED"})
        if job.state == "IN_QUEUE" or self.honour_cancel:
            job.state, job.error = "COMPLETED", (499, "Request was cancelled by the client", "client_cancelled")
        return json_reply(202, {"status": "CANCELLATION_REQUESTED"})


# --- Replicate --------------------------------------------------------------------------------------------------

@dataclass
class Prediction:
    id: str
    model: str
    version: str | None
    input: dict[str, Any]
    status: str = "starting"
    polls: int = 0
    logs: list[str] = field(default_factory=list)
    output: Any = None
    error: str | None = None


class FakeReplicate(RoutedFake):
    """`api.replicate.com`: create (official model or version), GET and cancel predictions, as documented."""

    def __init__(self, api_token: str = "r8_test") -> None:
        super().__init__()
        self.api_token = api_token
        self.starting_polls = 1  # GETs answered "starting" before "processing"
        self.processing_polls = 2  # GETs answered "processing" (logs grow) before the end
        self.steps = 20
        self.fail_with: str | None = None  # predictions end "failed" with this error
        self.single_output = False  # output is one URL instead of a list
        self.cancel_ack_delayed = False  # the cancel answer still says "processing"; the next GET says canceled
        self.broken_output: Any = None  # when set, a succeeded prediction's output is this instead of URLs
        self.predictions: dict[str, Prediction] = {}
        # Community models ("owner/name" → latest version id): the official endpoint answers 404 for them.
        self.community: dict[str, str] = {}
        # Official models `GET /v1/models/{owner}/{name}` knows besides the community ones ("owner/name" → description).
        self.official: dict[str, str] = {
            "black-forest-labs/flux-schnell": "The fastest image generation model tailored for local development",
            "black-forest-labs/flux-dev": "A 12 billion parameter rectified flow transformer",
        }

    @property
    def base_url(self) -> str:
        return self.origin

    @staticmethod
    def _problem(status: int, title: str, detail: str, **headers: str) -> Reply:
        return json_reply(status, {"title": title, "detail": detail, "status": status}, headers)

    def respond(self, request: Recorded, mode: str) -> Reply:
        if request.method == "GET" and request.path.startswith("/files/"):
            return self.serve_file(request)
        if mode == "unauthorized" or request.headers.get("authorization") != f"Bearer {self.api_token}":
            return self._problem(401, "Unauthenticated", "You did not pass a valid authentication token")
        replies = {
            "forbidden": lambda: self._problem(403, "Forbidden", "You do not have permission to run this model"),
            "rate_limited": lambda: self._problem(429, "Request was throttled.", "Request was throttled. Your rate "
                                                  "limit resets in ~1s.", **{"Retry-After": self.retry_after}),
            "server_error": lambda: self._problem(500, "Internal server error", "Something went wrong"),
            "unavailable": lambda: self._problem(503, "Service unavailable", "Please retry",
                                                 **{"Retry-After": self.retry_after}),
            "malformed_body": lambda: (200, {"Content-Type": "application/json"}, b'{"id": "abc", "stat'),
            "wrong_shape": lambda: json_reply(200, {"prediction": {"state": "done"}}),
        }
        if mode in replies:
            return replies[mode]()
        with self._state_lock:
            model = re.match(r"^/v1/models/([\w.-]+/[\w.-]+)$", request.path)
            if request.method == "GET" and model:
                return self._model(model.group(1))
            official = re.match(r"^/v1/models/([\w.-]+)/([\w.-]+)/predictions$", request.path)
            if official and f"{official.group(1)}/{official.group(2)}" in self.community:
                return self._problem(404, "Not found", "The requested resource could not be found.")
            if request.method == "POST" and (official or request.path == "/v1/predictions"):
                return self._create(request, f"{official.group(1)}/{official.group(2)}" if official else "")
            match = re.match(r"^/v1/predictions/(?P<id>\w+)(?P<cancel>/cancel)?$", request.path)
            prediction = self.predictions.get(match.group("id")) if match else None
            if prediction is None:
                return self._problem(404, "Not found", "Not found.")
            if match.group("cancel") and request.method == "POST":
                return self._cancel(prediction)
            if not match.group("cancel") and request.method == "GET":
                self._advance(prediction)
                return json_reply(200, self._as_json(prediction))
        return self._problem(405, "Method not allowed", "Method not allowed.")

    def _model(self, slug: str) -> Reply:
        """`GET /v1/models/{owner}/{name}`: the model with its latest version (only the fields we read)."""
        owner, name = slug.split("/")
        if slug in self.official and slug not in self.community:
            return json_reply(200, {"url": f"https://replicate.com/{slug}", "owner": owner, "name": name,
                                    "description": self.official[slug], "visibility": "public",
                                    "is_official": True, "latest_version": None})
        if slug not in self.community:
            return self._problem(404, "Not found", "The requested resource could not be found.")
        return json_reply(200, {"url": f"https://replicate.com/{slug}", "owner": owner, "name": name,
                                "visibility": "public", "latest_version": {"id": self.community[slug]}})

    def _create(self, request: Recorded, model: str) -> Reply:
        body = request.json
        version = body.get("version") if isinstance(body, dict) else None
        model_input = body.get("input") if isinstance(body, dict) else None
        if not model and not isinstance(version, str):
            return self._problem(422, "Invalid version or not permitted", "The specified version does not exist")
        if not isinstance(model_input, dict) or not isinstance(model_input.get("prompt"), str):
            return self._problem(422, "Input validation failed", "- input: prompt is required")
        prediction = Prediction(f"p{next(self._ids):06d}fake", model or "community/model", version, model_input)
        self.predictions[prediction.id] = prediction
        return json_reply(201, self._as_json(prediction))

    def _size(self, model_input: dict[str, Any]) -> tuple[int, int]:
        if "width" in model_input:
            return int(model_input["width"]), int(model_input["height"])
        w, h = (int(x) for x in str(model_input.get("aspect_ratio", "1:1")).split(":"))
        width = round(math.sqrt(1024 * 1024 * w / h) / 16) * 16  # FLUX: ~1 MP at the ratio, multiples of 16
        return width, round(width * h / w / 16) * 16

    def _advance(self, prediction: Prediction) -> None:
        if prediction.status not in ("starting", "processing"):
            return
        prediction.polls += 1
        if prediction.polls <= self.starting_polls:
            return
        running = prediction.polls - self.starting_polls
        if running <= self.processing_polls:
            prediction.status = "processing"
            step = round(self.steps * running / (self.processing_polls + 1))
            prediction.logs = [f"Using seed: {prediction.input.get('seed', 0)}"] + [
                tqdm_line(s, self.steps) for s in range(1, step + 1)]
            return
        if self.fail_with:
            prediction.status, prediction.error = "failed", self.fail_with
            prediction.logs.append("Traceback (most recent call last):\n  ...\n" + self.fail_with)
            return
        width, height = self._size(prediction.input)
        seed = int(prediction.input.get("seed", 0))
        urls = [self.store_file(f"{prediction.id}-{i}.png", render_png(width, height, seed + i))
                for i in range(int(prediction.input.get("num_outputs", 1)))]
        prediction.status, prediction.output = "succeeded", urls[0] if self.single_output else urls
        if self.broken_output is not None:
            prediction.output = self.broken_output
        prediction.logs.append(tqdm_line(self.steps, self.steps))

    def _cancel(self, prediction: Prediction) -> Reply:
        if prediction.status in ("starting", "processing"):
            answer = self._as_json(prediction)
            prediction.status = "canceled"
            if not self.cancel_ack_delayed:
                answer = self._as_json(prediction)
            return json_reply(200, answer)
        return json_reply(200, self._as_json(prediction))

    def _as_json(self, prediction: Prediction) -> dict[str, Any]:
        url = f"{self.origin}/v1/predictions/{prediction.id}"
        return {"id": prediction.id, "model": prediction.model, "version": prediction.version or "hidden",
                "input": prediction.input, "logs": "\n".join(prediction.logs), "output": prediction.output,
                "data_removed": False, "error": prediction.error, "status": prediction.status,
                "created_at": "2026-11-20T10:00:00.000Z", "urls": {"get": url, "cancel": url + "/cancel",
                                                                    "stream": url + "/stream"}}


# --- Amazon Bedrock -----------------------------------------------------------------------------------------------

STABILITY_OUTPUT = {"1:1": (1024, 1024), "16:9": (1344, 768), "21:9": (1536, 640), "2:3": (832, 1216),
                    "3:2": (1216, 832), "4:5": (896, 1088), "5:4": (1088, 896), "9:16": (768, 1344),
                    "9:21": (640, 1536)}
_AUTH_HEADER = re.compile(r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
                          r"(?P<service>[^/]+)/aws4_request, SignedHeaders=(?P<signed>[^,]+), "
                          r"Signature=(?P<sig>[0-9a-f]{64})$")


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


class FakeBedrock(RoutedFake):
    """bedrock-runtime `InvokeModel` for Titan Image Generator, Nova Canvas and Stability models."""

    def __init__(self, access_key: str = "AKIDFAKEBEDROCK", secret_key: str = "fake-secret",
                 region: str = "us-east-1") -> None:
        super().__init__()
        self.access_key, self.secret_key, self.region = access_key, secret_key, region
        self.bad_signatures = 0  # requests refused for their signature
        # The control plane's ListFoundationModels (`GET /foundation-models`): (model id, name, output modalities).
        self.foundation_models: list[tuple[str, str, tuple[str, ...]]] = [
            ("amazon.titan-image-generator-v2:0", "Titan Image Generator G1 v2", ("IMAGE",)),
            ("amazon.nova-canvas-v1:0", "Nova Canvas", ("IMAGE",)),
            ("stability.sd3-5-large-v1:0", "Stable Diffusion 3.5 Large", ("IMAGE",)),
            ("stability.stable-image-remove-background-v1:0", "Stable Image Remove Background", ("IMAGE",)),
            ("amazon.nova-lite-v1:0", "Nova Lite", ("TEXT",)),
        ]

    @property
    def endpoint_url(self) -> str:
        return self.origin

    @staticmethod
    def _error(status: int, kind: str, message: str, *, in_body: bool = False) -> Reply:
        if in_body:  # the JSON-protocol way; botocore reads `__type` when the header is absent
            return json_reply(status, {"__type": f"com.amazon.bedrock#{kind}", "message": message},
                              {"x-amzn-RequestId": "fake-request"})
        return json_reply(status, {"message": message}, {
            "x-amzn-ErrorType": f"{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/",
            "x-amzn-RequestId": "fake-request"})

    def signature_ok(self, request: Recorded) -> bool:
        """Recompute the SigV4 signature (AWS's documented algorithm) from what arrived on the wire."""
        match = _AUTH_HEADER.match(request.headers.get("authorization", ""))
        amz_date = request.headers.get("x-amz-date", "")
        if not match or match["key"] != self.access_key or match["region"] != self.region:
            return False
        if match["service"] != "bedrock" or not amz_date.startswith(match["date"]):
            return False
        names = match["signed"].split(";")
        if "host" not in names or any(name not in request.headers for name in names):
            return False
        query = "&".join(sorted(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
                                for k, values in request.query.items() for v in values))
        canonical = "\n".join([
            request.method, quote(request.path, safe="/~"), query,  # non-S3 services: the path is encoded twice
            "".join(f"{name}:{' '.join(request.headers[name].split())}\n" for name in names),
            match["signed"], request.headers.get("x-amz-content-sha256") or hashlib.sha256(request.raw).hexdigest()])
        scope = f"{match['date']}/{self.region}/bedrock/aws4_request"
        to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        key = _hmac(f"AWS4{self.secret_key}".encode(), match["date"])
        for part in (self.region, "bedrock", "aws4_request"):
            key = _hmac(key, part)
        return hmac.compare_digest(hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest(), match["sig"])

    def _foundation_models(self, request: Recorded) -> Reply:
        """`ListFoundationModels` of the bedrock control plane, filtered by byOutputModality."""
        wanted = request.query.get("byOutputModality", [None])[0]
        summaries = [{"modelArn": f"arn:aws:bedrock:{self.region}::foundation-model/{model}", "modelId": model,
                      "modelName": name, "providerName": model.split(".")[0].capitalize(),
                      "inputModalities": ["TEXT", "IMAGE"], "outputModalities": list(outputs),
                      "responseStreamingSupported": False, "customizationsSupported": [],
                      "inferenceTypesSupported": ["ON_DEMAND"], "modelLifecycle": {"status": "ACTIVE"}}
                     for model, name, outputs in self.foundation_models if wanted is None or wanted in outputs]
        return json_reply(200, {"modelSummaries": summaries})

    def respond(self, request: Recorded, mode: str) -> Reply:
        listing = (request.method, request.path) == ("GET", "/foundation-models")
        path = re.match(r"^/model/(?P<model>[^/]+)/invoke$", request.path)
        if not listing and (request.method != "POST" or path is None):
            return self._error(404, "UnknownOperationException", "Unknown operation")
        if mode == "unauthorized":
            return self._error(403, "UnrecognizedClientException", "The security token included in the request is "
                               "invalid.")
        if not self.signature_ok(request):
            self.bad_signatures += 1
            return self._error(403, "InvalidSignatureException", "The request signature we calculated does not "
                               "match the signature you provided.")
        replies = {
            "forbidden": lambda: self._error(403, "AccessDeniedException",
                                             "You don't have access to the model with the specified model ID."),
            "rate_limited": lambda: self._error(429, "ThrottlingException",
                                                "Too many requests, please wait before trying again."),
            "server_error": lambda: self._error(500, "InternalServerException", "Internal server error"),
            "unavailable": lambda: self._error(503, "ServiceUnavailableException", "Bedrock is unable to process "
                                               "your request."),
            "model_timeout": lambda: self._error(408, "ModelTimeoutException", "Model has timed out in processing "
                                                 "the request.", in_body=True),
            "validation": lambda: self._error(400, "ValidationException", "This request has been blocked by our "
                                              "content filters."),
            "malformed_body": lambda: (200, {"Content-Type": "application/json"}, b'{"images": ["iVBOR'),
            "wrong_shape": lambda: json_reply(200, {"artifacts": [{"base64": "x"}]}),
            "bad_base64": lambda: json_reply(200, {"images": ["not*base64*at*all"], "error": None,
                                                   "seeds": [1], "finish_reasons": [None]}),
            "not_image": lambda: json_reply(200, {"images": [base64.b64encode(b"<html>oops</html>").decode()],
                                                  "error": None, "seeds": [1], "finish_reasons": [None]}),
        }
        if mode in replies:
            return replies[mode]()
        if listing or path is None:
            return self._foundation_models(request)
        model = unquote(path["model"])
        body = request.json
        if not isinstance(body, dict):
            return self._error(400, "ValidationException", "Malformed input request, please reformat your input.")
        if model.startswith("stability."):
            return self._stability(body, mode)
        if re.match(r"^(?:us\.)?amazon\.(?:titan-image-generator-v[12]|nova-canvas-v1):0$", model):
            return self._amazon(body)
        return self._error(400, "ValidationException", "The provided model identifier is invalid.")

    def _amazon(self, body: dict[str, Any]) -> Reply:
        params, config = body.get("textToImageParams") or {}, body.get("imageGenerationConfig") or {}
        if body.get("taskType") != "TEXT_IMAGE" or not isinstance(params.get("text"), str) or not params["text"]:
            return self._error(400, "ValidationException", "Malformed input request: #/textToImageParams/text: "
                               "expected minLength: 1, please reformat your input and try again.")
        count, width, height = config.get("numberOfImages", 1), config.get("width", 1024), config.get("height", 1024)
        if not (1 <= count <= 5 and 320 <= width <= 4096 and 320 <= height <= 4096):
            return self._error(400, "ValidationException", "Malformed input request: #/imageGenerationConfig: "
                               "out of range, please reformat your input and try again.")
        seed = int(config.get("seed", 0))
        encoded = [base64.b64encode(render_png(width, height, seed + i)).decode() for i in range(count)]
        return json_reply(200, {"images": encoded, "error": None})

    def _stability(self, body: dict[str, Any], mode: str) -> Reply:
        ratio = body.get("aspect_ratio", "1:1")
        if not isinstance(body.get("prompt"), str) or ratio not in STABILITY_OUTPUT:
            return self._error(400, "ValidationException", "Malformed input request: #/aspect_ratio: not a valid "
                               "enum value, please reformat your input and try again.")
        seed = int(body.get("seed", 0))
        if mode == "filtered":
            return json_reply(200, {"seeds": [seed], "finish_reasons": ["Filter reason: prompt"], "images": []})
        width, height = STABILITY_OUTPUT[ratio]
        return json_reply(200, {"seeds": [seed], "finish_reasons": [None],
                                "images": [base64.b64encode(render_png(width, height, seed)).decode()]})
