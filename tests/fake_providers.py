"""Fake vision APIs on real HTTP servers on 127.0.0.1, speaking each provider's documented shapes.

Used by the unit tests and the benchmarks. Each fake answers according to `mode` (the default answer)
after first using up any one-off answers put in with `queue(...)`, e.g. `fake.queue("rate_limited")` gives
one 429 and then good answers. `delay` adds a fixed pause to every request; `requests` records them all.

Modes: good, malformed_json (the answer's text is broken JSON), malformed_body (the HTTP body is not JSON),
wrong_shape, wrong_envelope (OpenAI: no choices), timeout (waits `hang_seconds` before answering),
rate_limited (429 + Retry-After), server_error (500), unavailable (503 + Retry-After), unauthorized (401),
forbidden (403), no_vision and cannot_see (OpenAI: a text-only model), request_error (Google: an error
inside responses[0]).
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Reply = tuple[int, dict[str, str], bytes]


def json_reply(status: int, body: Any, headers: dict[str, str] | None = None) -> Reply:
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body).encode()


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    raw: bytes
    at: float = field(default_factory=time.monotonic)

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.raw)
        except ValueError:
            return None


class FakeServer:
    """A ThreadingHTTPServer in a daemon thread; subclasses implement `respond`."""

    def __init__(self) -> None:
        self.mode = "good"
        self.delay = 0.0  # seconds added to every request
        self.hang_seconds = 5.0  # how long "timeout" waits: longer than the client's read timeout
        self.retry_after = "1"  # the Retry-After header sent with 429 and 503
        self.requests: list[Recorded] = []
        self._queue: deque[str] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._sockets: set[socket.socket] = set()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def origin(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers sleeping in "timeout" or `delay`
        self._server.shutdown()
        self._server.server_close()
        # A stopped server drops its keep-alive connections too (a client's pool must not be served
        # by a handler thread that outlived its server, as no real stopped server would).
        with self._lock:
            open_sockets = list(self._sockets)
        for sock in open_sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def queue(self, *modes: str) -> None:
        """One-off answers, used in order before falling back to `mode`."""
        with self._lock:
            self._queue.extend(modes)

    def _next_mode(self) -> str:
        with self._lock:
            return self._queue.popleft() if self._queue else self.mode

    def respond(self, request: Recorded, mode: str) -> Reply:
        raise NotImplementedError

    def _handle(self, request: Recorded) -> Reply:
        with self._lock:
            self.requests.append(request)
        mode = self._next_mode()
        if self.delay:
            self._stopping.wait(self.delay)
        if mode == "timeout":
            self._stopping.wait(self.hang_seconds)
            mode = "good"
        return self.respond(request, mode)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, like the real APIs, so client pools behave as in production

            def setup(self) -> None:
                super().setup()
                with fake._lock:
                    fake._sockets.add(self.connection)

            def finish(self) -> None:
                with fake._lock:
                    fake._sockets.discard(self.connection)
                super().finish()

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = urlsplit(self.path)
                request = Recorded("POST", parts.path, parse_qs(parts.query),
                                   {k.lower(): v for k, v in self.headers.items()}, raw)
                self._send(*fake._handle(request))

            def do_GET(self) -> None:
                self._send(*json_reply(404, {"error": {"message": "not found"}}))

            def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its timeout): nothing to tell it

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


GOOD_ANSWER = {
    "subject": "red bicycle",
    "details": ["city street", "evening light", "city street"],
    "keywords": ["Bicycle", "red", "bicycle", "Street ", "urban"],
    "title": "Red bicycle on a city street",
    "alt_text": "A red bicycle leaning against a brick wall on a quiet city street in warm evening light",
    "confidence": 0.92,
}


class FakeOpenAI(FakeServer):
    """`POST /v1/chat/completions` as OpenAI documents it (also what Ollama, LM Studio and vLLM serve)."""

    def __init__(self, api_key: str = "sk-test") -> None:
        super().__init__()
        self.api_key = api_key
        # A good answer's message content: a dict is sent as JSON, a str as it is (e.g. JSON in a Markdown fence).
        self.answer: dict[str, Any] | str = dict(GOOD_ANSWER)
        self.no_vision_message = "Invalid content type. image_url is only supported by certain models."

    @property
    def base_url(self) -> str:
        return self.origin + "/v1"

    def _completion(self, model: str, content: str | None, refusal: str | None = None) -> Reply:
        return json_reply(200, {
            "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content, "refusal": refusal}}],
            "usage": {"prompt_tokens": 812, "completion_tokens": 64, "total_tokens": 876},
        })

    def respond(self, request: Recorded, mode: str) -> Reply:
        def error(status: int, message: str, kind: str, code: str | None = None, **headers: str) -> Reply:
            return json_reply(status, {"error": {"message": message, "type": kind, "param": None, "code": code}},
                              headers)

        if request.path != "/v1/chat/completions":
            return error(404, f"Unknown request URL: POST {request.path}.", "invalid_request_error", "unknown_url")
        wrong_key = self.api_key and request.headers.get("authorization") != f"Bearer {self.api_key}"
        if mode == "unauthorized" or wrong_key:
            return error(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key")
        body = request.json
        if not isinstance(body, dict) or not body.get("model") or not isinstance(body.get("messages"), list):
            return error(400, "We could not parse the JSON body of your request.", "invalid_request_error")
        model = body["model"]
        replies = {
            "forbidden": lambda: error(403, "You are not allowed to use this model.", "invalid_request_error"),
            "rate_limited": lambda: error(429, f"Rate limit reached for {model}.", "requests", "rate_limit_exceeded",
                                          **{"Retry-After": self.retry_after}),
            "server_error": lambda: error(500, "The server had an error while processing your request.",
                                          "server_error"),
            "unavailable": lambda: error(503, "The engine is currently overloaded, please try again later.",
                                         "server_error", **{"Retry-After": self.retry_after}),
            "no_vision": lambda: error(400, self.no_vision_message, "invalid_request_error"),
            "malformed_body": lambda: (200, {"Content-Type": "application/json"}, b'{"id": "chatcmpl-fake", "choi'),
            "malformed_json": lambda: self._completion(model, '{"subject": "red bicycle", "keywords": ['),
            "wrong_shape": lambda: self._completion(model, json.dumps({"description": "a bike", "tags": "red"})),
            "wrong_envelope": lambda: json_reply(200, {"object": "chat.completion", "result": "red bicycle"}),
            "cannot_see": lambda: self._completion(
                model, "I'm sorry, but I can't see images. I can only read and write text."),
        }
        if mode in replies:
            return replies[mode]()
        return self._completion(model, self.answer if isinstance(self.answer, str) else json.dumps(self.answer))


GOOD_LABELS = [("Bicycle", 0.97), ("Wheel", 0.95), ("Tire", 0.91), ("Bicycle", 0.9), ("Street", 0.72),
               ("Vehicle", 0.55)]


class FakeGoogleVision(FakeServer):
    """`POST /v1/images:annotate?key=...` as Google Cloud Vision documents it."""

    def __init__(self, api_key: str = "g-test") -> None:
        super().__init__()
        self.api_key = api_key
        self.labels: list[tuple[str, float]] = list(GOOD_LABELS)
        self.text = "OPEN 24 HOURS\nBike repair\n"
        self.request_error = (3, "Bad image data.")  # google.rpc.Code and message for mode "request_error"

    @property
    def endpoint(self) -> str:
        return self.origin

    def _annotate(self, item: Any) -> dict[str, Any]:
        try:
            image = base64.b64decode(item["image"]["content"], validate=True)
        except (KeyError, TypeError, ValueError):
            image = b""
        if not image.startswith((b"\xff\xd8", b"\x89PNG")):
            return {"error": {"code": 3, "message": "Bad image data."}}
        wanted = {f.get("type") for f in item.get("features", [])}
        out: dict[str, Any] = {}
        if "LABEL_DETECTION" in wanted:
            out["labelAnnotations"] = [{"mid": f"/m/{i:04x}", "description": d, "score": s, "topicality": s}
                                       for i, (d, s) in enumerate(self.labels)]
        if "TEXT_DETECTION" in wanted and self.text:
            box = {"vertices": [{"x": 1, "y": 1}, {"x": 90, "y": 1}, {"x": 90, "y": 20}, {"x": 1, "y": 20}]}
            out["textAnnotations"] = [{"locale": "en", "description": self.text, "boundingPoly": box}] + [
                {"description": word, "boundingPoly": box} for word in self.text.split()]
        return out

    def respond(self, request: Recorded, mode: str) -> Reply:
        def error(status: int, message: str, state: str, details: list[Any] | None = None, **headers: str) -> Reply:
            body: dict[str, Any] = {"code": status, "message": message, "status": state}
            if details:
                body["details"] = details
            return json_reply(status, {"error": body}, headers)

        if request.path != "/v1/images:annotate":
            return error(404, "Method not found.", "NOT_FOUND")
        if self.api_key and request.query.get("key") != [self.api_key]:
            return error(400, "API key not valid. Please pass a valid API key.", "INVALID_ARGUMENT",
                         [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
                           "domain": "googleapis.com", "metadata": {"service": "vision.googleapis.com"}}])
        body = request.json
        if not isinstance(body, dict) or not isinstance(body.get("requests"), list):
            return error(400, "Invalid JSON payload received.", "INVALID_ARGUMENT")
        replies = {
            "unauthorized": lambda: error(401, "Request is missing required authentication credential.",
                                          "UNAUTHENTICATED"),
            "forbidden": lambda: error(403, "Cloud Vision API has not been used in this project or it is disabled.",
                                       "PERMISSION_DENIED"),
            "rate_limited": lambda: error(429, "Quota exceeded for quota metric 'Requests'.", "RESOURCE_EXHAUSTED",
                                          **{"Retry-After": self.retry_after}),
            "server_error": lambda: error(500, "Internal error encountered.", "INTERNAL"),
            "unavailable": lambda: error(503, "The service is currently unavailable.", "UNAVAILABLE",
                                         **{"Retry-After": self.retry_after}),
            "malformed_body": lambda: (200, {"Content-Type": "application/json"}, b'{"responses": [{"labelAnn'),
            "malformed_json": lambda: (200, {"Content-Type": "application/json"}, b"<html>Bad Gateway</html>"),
            "wrong_shape": lambda: json_reply(200, {"responses": [{"labelAnnotations": [{"score": "high"}]}]}),
            "request_error": lambda: json_reply(200, {"responses": [
                {"error": {"code": self.request_error[0], "message": self.request_error[1]}}]}),
        }
        if mode in replies:
            return replies[mode]()
        return json_reply(200, {"responses": [self._annotate(item) for item in body["requests"]]})
