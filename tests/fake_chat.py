"""A fake OpenAI-compatible chat API for the slide engines, on a real HTTP server on 127.0.0.1.

It speaks `POST /v1/chat/completions` as OpenAI documents it (answer text in `choices[0].message.content`)
and writes plausible slide JSON from the request: an outline request gets the number of slides asked
for; a slide request gets the fields of its layout, built from the slide's title (read from the JSON
block our prompt carries, as a model would read it).

Answers can be scripted per slide title: `fake.script("Costs", "malformed_json")` makes the next request
for "Costs" get broken JSON and later ones good answers; `fake.script("Costs", mode, then=mode)` sets what
follows. Modes: good, malformed_json (cut-off JSON), not_json (prose), wrong_shape (bullets is a string),
bad_chart (a series shorter than the categories), fenced (good JSON in a Markdown fence after a <think>
block), timeout (waits `hang_seconds`), server_error (500), rate_limited (429), format_refused (400 about
response_format). `formats` lists the response_format types the server accepts; others get that 400.

`max_in_flight`, `started_with` (requests in flight, itself included, as each request started) and
`rounds()` let tests check the client's concurrency without timing anything.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from typing import Any

from app.services.slides.engine.chat_prompts import OUTLINE_MARKER, SLIDE_MARKER
from tests.fake_providers import FakeServer, Recorded, Reply, json_reply

OUTLINE = "__outline__"  # the script key for outline requests


class FakeChat(FakeServer):
    def __init__(self, api_key: str = "sk-test") -> None:
        super().__init__()
        self.api_key = api_key
        self.formats = {"json_schema", "json_object", "text"}  # "text" = no response_format
        self.outline_layouts: list[str] = []  # layouts for outline slides 2, 3…; default bullets
        self.in_flight = 0
        self.max_in_flight = 0
        self.started_with: list[int] = []
        self.spans: list[tuple[float, float]] = []  # (start, end) of each request, monotonic seconds
        self._scripts: dict[str, deque[str]] = {}
        self._after: dict[str, str] = {}
        self._count_lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return self.origin + "/v1"

    def script(self, title: str, *modes: str, then: str = "good") -> None:
        """The next answers for the slide titled `title` (or OUTLINE), then `then` for every later one."""
        with self._lock:
            self._scripts[title] = deque(modes)
            self._after[title] = then

    def slide_requests(self, title: str) -> list[Recorded]:
        """The requests made for one slide (first tries and repairs)."""
        return [r for r in self.requests if _context(r).get("slide", {}).get("title") == title]

    def _handle(self, request: Recorded) -> Reply:
        start = time.monotonic()
        with self._count_lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.started_with.append(self.in_flight)
        try:
            with self._lock:
                self.requests.append(request)
                mode = self._queue.popleft() if self._queue else self._scripted(request)
            if self.delay:
                self._stopping.wait(self.delay)
            if mode == "timeout":
                self._stopping.wait(self.hang_seconds)
                mode = "good"  # the client has given up by now
            return self.respond(request, mode)
        finally:
            with self._count_lock:
                self.in_flight -= 1
                self.spans.append((start, time.monotonic()))

    def rounds(self) -> int:
        """The longest chain of requests each started after the previous one ended: how many answer times
        the work took, whatever the answer time (1 for all-parallel, len(requests) for one at a time)."""
        count, free_at = 0, float("-inf")
        for start, end in sorted(self.spans, key=lambda span: span[1]):
            if start >= free_at:
                count, free_at = count + 1, end
        return count

    def _scripted(self, request: Recorded) -> str:
        context = _context(request)
        key = OUTLINE if "deck_request" in context else context.get("slide", {}).get("title", "")
        script = self._scripts.get(key)
        if script:
            return script.popleft()
        return self._after.get(key, self.mode)

    def respond(self, request: Recorded, mode: str) -> Reply:
        def error(status: int, message: str, kind: str, code: str | None = None, **headers: str) -> Reply:
            return json_reply(status, {"error": {"message": message, "type": kind, "param": None, "code": code}},
                              headers)

        if request.path != "/v1/chat/completions":
            return error(404, f"Unknown request URL: POST {request.path}.", "invalid_request_error", "unknown_url")
        if self.api_key and request.headers.get("authorization") != f"Bearer {self.api_key}":
            return error(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key")
        body = request.json
        if not isinstance(body, dict) or not body.get("model") or not isinstance(body.get("messages"), list):
            return error(400, "We could not parse the JSON body of your request.", "invalid_request_error")
        kind = (body.get("response_format") or {}).get("type", "text")
        if mode == "format_refused" or kind not in self.formats:
            return error(400, f"Invalid parameter: 'response_format' of type '{kind}' is not supported with this "
                              "model.", "invalid_request_error", "invalid_parameter")
        if mode == "server_error":
            return error(500, "The server had an error while processing your request.", "server_error")
        if mode == "rate_limited":
            return error(429, f"Rate limit reached for {body['model']}.", "requests", "rate_limit_exceeded",
                         **{"Retry-After": self.retry_after})
        context = _context(request)
        answer = _outline_answer(context["deck_request"], self.outline_layouts) if "deck_request" in context \
            else _slide_answer(context.get("slide", {}))
        content = {
            "malformed_json": lambda: json.dumps(answer)[:40],
            "not_json": lambda: "Sure! Here are some great slides about your topic.",
            "wrong_shape": lambda: json.dumps({**answer, "bullets": "one, two, three"}),
            "bad_chart": lambda: json.dumps({**answer, "chart": {**answer.get("chart", {}), "categories": ["a", "b"],
                                                                  "series": [{"name": "s", "values": [1]}]}}),
            "fenced": lambda: "<think>The user wants JSON.</think>\n```json\n" + json.dumps(answer) + "\n```",
        }.get(mode, lambda: json.dumps(answer))()
        return json_reply(200, {
            "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()), "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content, "refusal": None}}],
            "usage": {"prompt_tokens": 900, "completion_tokens": 120, "total_tokens": 1020},
        })


def _context(request: Recorded) -> dict[str, Any]:
    """The JSON block of the request's first user message (the deck request or the slide to write)."""
    body = request.json if isinstance(request.json, dict) else {}
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if message.get("role") != "user" or not isinstance(content, str):
            continue
        for marker, key in ((OUTLINE_MARKER, "deck_request"), (SLIDE_MARKER, None)):
            if content.startswith(marker):
                data = json.loads(content[len(marker):].strip().split("\n", 1)[0])
                return {key: data} if key else data
    return {}


def _outline_answer(request: dict[str, Any], layouts: list[str]) -> dict[str, Any]:
    topic = request.get("topic") or "The topic"
    slides: list[dict[str, Any]] = [{"layout": "title", "title": topic, "bullets": [], "chart": None, "table": None}]
    for n in range(2, int(request.get("slides", 5)) + 1):
        layout = layouts[n - 2] if n - 2 < len(layouts) else "bullets"
        slide = {"layout": layout, "title": f"{topic}: part {n - 1}", "bullets": [f"Key point of part {n - 1}"],
                 "chart": None, "table": None}
        if layout == "chart":
            slide["chart"] = {"type": "column", "title": "Sales", "categories": ["2023", "2024"],
                              "series": [{"name": "Sales", "values": [10, 12]}]}
        slides.append(slide)
    return {"title": topic, "slides": slides}


def _slide_answer(slide: dict[str, Any]) -> dict[str, Any]:
    title, layout = slide.get("title", "Slide"), slide.get("layout", "bullets")
    points = [f"{title}: point {i}" for i in range(1, 4)]
    answer: dict[str, Any] = {"notes": f"Explain {title} in two minutes."}
    if layout in ("title", "section"):
        answer["subtitle"] = f"About {title}"
    elif layout in ("bullets", "two_column", "image_text"):
        answer["bullets"] = points
        if layout == "two_column":
            answer["bullets_right"] = [f"{title}: other side {i}" for i in range(1, 3)]
        if layout == "image_text":
            answer.update(image_prompt=f"A photo illustrating {title}", image_alt=f"Illustration of {title}")
    elif layout == "quote":
        answer.update(quote=f"{title} is worth it.", attribution="A. Speaker")
    elif layout == "chart":
        chart = slide.get("chart") or {"type": "column", "title": title, "categories": ["A", "B"],
                                       "series": [{"name": "Value", "values": [1, 2]}]}
        answer["chart"] = {k: chart[k] for k in ("type", "title", "categories", "series")}
    elif layout == "table":
        answer["table"] = slide.get("table") or {"header": ["Item", "Value"], "rows": [["A", "1"]]}
    return answer
