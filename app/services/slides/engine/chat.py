"""Slide text through any OpenAI-compatible chat completions API (OpenAI, OpenRouter, Ollama, LM Studio, vLLM).

Two calls: `outline` plans the deck in one request; `write_slides` writes each slide in its own request,
in parallel (at most `max_concurrency` in flight), so one slow or broken slide does not hold up or sink
the others: a slide whose answer stays invalid after `repair_attempts` repair requests, or whose request
fails, comes back with stage "failed" and an error while the rest finish.

Structured output: requests carry `response_format: {"type": "json_schema", ...}` (OpenAI, vLLM, LM Studio,
and Ollama ≥ 0.5, which maps it to its own `format` on the OpenAI-compatible endpoint). When a server
answers 400 about response_format, the writer falls back to `{"type": "json_object"}` (JSON mode), then to
no response_format at all, with the schema spelled out in the prompt; the fallback is remembered for the
writer's lifetime. Every answer is validated either way, so a server that ignores response_format
only costs repairs.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from pydantic import ValidationError

from app.providers.errors import ProviderError
from app.providers.http import HttpOptions, RemoteClient
from app.services.slides.engine import chat_prompts as prompts
from app.services.slides.engine.model import (
    MAX_SLIDES,
    DeckSpec,
    Outline,
    Slide,
)
from app.services.slides.engine.text_rank import SentenceIndex, guess_language, split_sentences

# Writing a slide takes a local model a while; retries are few because each one repeats a slow request.
DEFAULT_HTTP = HttpOptions(read_timeout=180.0, retries=1)
FORMATS = ("json_schema", "json_object", "none")
_FORMAT_REFUSED = re.compile(r"response_format|json_schema|json_object|structured output|response format", re.I)
_THINKING = re.compile(r"<think>.*?</think>", re.S | re.I)  # reasoning models on Ollama/vLLM think out loud first


class ChatError(ProviderError):
    """A chat engine failure (the provider error family; its codes: timeout, rate_limited, provider_error,
    provider_unavailable, auth_failed, bad_request, bad_response)."""


class AnswerError(ValueError):
    """The model's answer is not usable (not JSON, wrong shape, fails the slide model): worth a repair request."""


class ChatSlideWriter:
    """Outline and slide text from an OpenAI-compatible chat API. Thread-safe; `close()` when done."""

    def __init__(self, base_url: str, api_key: str, model: str, *, http: HttpOptions | None = None,
                 max_concurrency: int = 4, repair_attempts: int = 2, name: str = "chat",
                 max_source_chars: int = 24_000, max_excerpt_chars: int = 6_000):
        if not base_url or not model:
            raise ValueError("a chat engine needs a base URL and a model")
        self.name = name
        self.model = model
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.max_concurrency = max(1, max_concurrency)
        self.repair_attempts = max(0, repair_attempts)
        # Context windows (Ollama's default is small) and token bills: the outline sees the first
        # `max_source_chars` of the source, each slide only the sentences most relevant to it.
        self.max_source_chars = max_source_chars
        self.max_excerpt_chars = max_excerpt_chars
        self.format = FORMATS[0]  # the best structured-output mode this server has accepted so far
        self._format_lock = threading.Lock()
        # Local servers (Ollama, LM Studio) need no key; sending an empty Bearer would upset some proxies.
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._remote = RemoteClient(name, options=http or DEFAULT_HTTP, headers=headers,
                                    max_connections=self.max_concurrency)

    def close(self) -> None:
        self._remote.close()

    def outline(self, spec: DeckSpec) -> Outline:
        """The deck plan: a title and per slide a layout, a title and key points. Raises ChatError."""
        source = spec.source_text[:self.max_source_chars]
        messages = [{"role": "system", "content": prompts.system_prompt(spec)},
                    {"role": "user", "content": prompts.outline_prompt(spec, source)}]
        return self._ask(messages, prompts.OUTLINE_SCHEMA, "deck_outline", _build_outline)

    def write_slides(self, spec: DeckSpec, outline: Outline, slide_ids: list[str],
                     on_slide: Callable[[Slide], None] | None = None) -> list[Slide]:
        """The slides `slide_ids` of `outline`, written in parallel, in the order of `slide_ids`.

        Locked slides come back unchanged without a request. A slide that cannot be written comes back
        with stage "failed" and `error` set. `on_slide` is called in the caller's thread as each written
        slide arrives (for a live preview); an exception from it cancels the slides not yet started and
        propagates, so a job can stop a deck by raising there.
        """
        by_id = {s.id: s for s in outline.slides}
        unknown = [i for i in slide_ids if i not in by_id]
        if unknown:
            raise ValueError(f"these slides are not in the outline: {', '.join(map(repr, unknown[:5]))}")
        wanted = list(dict.fromkeys(slide_ids))
        done: dict[str, Slide] = {i: by_id[i] for i in wanted if by_id[i].locked}
        excerpt = self._excerpts(spec)
        pool = ThreadPoolExecutor(max_workers=self.max_concurrency, thread_name_prefix="slide-writer")
        try:
            futures = [pool.submit(self._write_one, spec, outline, by_id[i], excerpt) for i in wanted if i not in done]
            for future in as_completed(futures):
                slide = future.result()
                done[slide.id] = slide
                if on_slide is not None:
                    on_slide(slide)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return [done[i] for i in wanted]

    def write_slide(self, spec: DeckSpec, outline: Outline, slide_id: str) -> Slide:
        """One slide (see write_slides); a failure comes back as a slide with stage "failed"."""
        return self.write_slides(spec, outline, [slide_id])[0]

    # --- one slide ---------------------------------------------------------------------------------

    def _write_one(self, spec: DeckSpec, outline: Outline, slide: Slide, excerpt: Callable[[Slide], str]) -> Slide:
        messages = [{"role": "system", "content": prompts.system_prompt(spec)},
                    {"role": "user", "content": prompts.slide_prompt(spec, outline, slide, excerpt(slide))}]
        try:
            return self._ask(messages, prompts.slide_schema(slide.layout, notes=spec.notes),
                             f"slide_{slide.layout}", lambda answer: _apply_answer(slide, answer, notes=spec.notes))
        except ChatError as exc:
            return slide.model_copy(update={"stage": "failed", "error": exc.message[:500]})

    def _excerpts(self, spec: DeckSpec) -> Callable[[Slide], str]:
        """A function giving each slide the part of the source it needs, within `max_excerpt_chars`."""
        source = spec.source_text.strip()
        if len(source) <= self.max_excerpt_chars:
            return lambda slide: source
        language = guess_language(source, default=spec.language)
        sentences = [s for block in re.split(r"\n\s*\n", source) for s in split_sentences(block, language=language)]
        index = SentenceIndex(sentences, language=language)

        def excerpt(slide: Slide) -> str:
            query = " ".join([slide.title, *slide.bullets, *slide.bullets_right])
            chosen, size = [], 0
            for row in index.relevant(query, k=len(sentences)):
                if size + len(sentences[row]) + 1 > self.max_excerpt_chars:
                    break
                chosen.append(row)
                size += len(sentences[row]) + 1
            return " ".join(sentences[r] for r in sorted(chosen))  # in document order, which reads better

        return excerpt

    # --- one JSON answer, repaired ----------------------------------------------------------------

    def _ask(self, messages: list[dict[str, str]], schema: dict[str, Any], name: str,
             build: Callable[[Any], Any]) -> Any:
        """`build(answer)` for the first valid answer; the invalid ones go back with the error, up to
        `repair_attempts` times. Raises ChatError."""
        validator = Draft202012Validator(_lenient(schema))
        problem = ""
        for _ in range(self.repair_attempts + 1):
            content = self._complete(messages, schema, name)
            try:
                answer = parse_json_answer(content)
                error = best_match(validator.iter_errors(answer))
                if error is not None:
                    where = "/".join(str(p) for p in error.absolute_path) or "the answer"
                    raise AnswerError(f"at {where}: {error.message[:200]}")
                return build(answer)
            except AnswerError as exc:
                problem = str(exc)
                messages = [*messages, {"role": "assistant", "content": content[:8000]},
                            {"role": "user", "content": prompts.repair_prompt(problem)}]
        raise ChatError(f"{self.name} gave no usable answer after {self.repair_attempts + 1} tries ({problem[:300]})",
                        code="bad_response")

    def _complete(self, messages: list[dict[str, str]], schema: dict[str, Any], name: str) -> str:
        while True:
            mode = self.format
            payload: dict[str, Any] = {"model": self.model, "messages": messages}
            if mode == "json_schema":
                payload["response_format"] = {"type": "json_schema",
                                              "json_schema": {"name": name, "strict": True, "schema": schema}}
            else:
                if mode == "json_object":
                    payload["response_format"] = {"type": "json_object"}
                first = messages[0]
                payload["messages"] = [{**first, "content": first["content"] + prompts.schema_hint(schema)},
                                       *messages[1:]]
            try:
                return message_content(self._remote.post_json(self.url, payload))
            except ProviderError as exc:
                if exc.code == "bad_request" and mode != "none" and _FORMAT_REFUSED.search(exc.message):
                    self._downgrade(mode)
                    continue
                raise ChatError(exc.message, code=exc.code, retryable=exc.retryable,
                                retry_after=exc.retry_after) from exc

    def _downgrade(self, refused: str) -> None:
        with self._format_lock:  # parallel slides may all be refused at once: step down one level, once
            if self.format == refused:
                self.format = FORMATS[FORMATS.index(refused) + 1]


def message_content(data: Any) -> str:
    """The text of `choices[0].message.content`; ChatError when the body is not a chat completion."""
    try:
        content = data["choices"][0]["message"].get("content")
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        raise ChatError("the answer is not a chat completion (no choices[0].message)", code="bad_response") from exc
    if isinstance(content, list):  # some servers send content parts even for plain text
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return content if isinstance(content, str) else ""


def parse_json_answer(content: str) -> Any:
    """The JSON object in a model's answer (also inside a Markdown fence or after a <think> block)."""
    text = _THINKING.sub("", content).strip()
    if not text:
        raise AnswerError("the answer is empty")
    fenced = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", text, re.S)
    text = fenced.group(1) if fenced else text
    try:
        answer = json.loads(text)
    except ValueError as exc:
        start, end = text.find("{"), text.rfind("}")
        try:
            answer = json.loads(text[start:end + 1]) if 0 <= start < end else None
        except ValueError:
            answer = None
        if answer is None:
            raise AnswerError(f"the answer is not valid JSON ({exc})") from exc
    if not isinstance(answer, dict):
        raise AnswerError("the answer must be a JSON object")
    return answer


def _lenient(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema as used to check answers: extra properties are tolerated (we ignore them)."""
    if isinstance(schema, dict):
        return {k: (_lenient(v) if k != "additionalProperties" else True) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_lenient(v) for v in schema]
    return schema


def _pydantic_problem(exc: ValidationError) -> str:
    parts = [f"{'/'.join(str(p) for p in e['loc']) or 'slide'}: {e['msg']}" for e in exc.errors()[:3]]
    return "; ".join(parts)


def _apply_answer(slide: Slide, answer: dict[str, Any], *, notes: bool) -> Slide:
    """The outline slide with the model's text; the outline's id, layout and title stay."""
    data = slide.model_dump()
    asked = prompts.LAYOUT_FIELDS[slide.layout]  # fields the model was not asked for are ignored
    for key in ("subtitle", "bullets", "bullets_right", "quote", "attribution"):
        if key in asked and key in answer:
            data[key] = answer[key]
    if "table" in asked and isinstance(answer.get("table"), dict):
        data["table"] = _only(answer["table"], "header", "rows")
    if "chart" in asked and isinstance(answer.get("chart"), dict):
        data["chart"] = _chart(answer["chart"], number_format=slide.chart.number_format if slide.chart else "General")
    if "image_prompt" in asked and "image_prompt" in answer:
        data["image"] = {"asset_id": slide.image.asset_id if slide.image else None,
                         "prompt": str(answer["image_prompt"])[:1000], "alt": str(answer.get("image_alt", ""))[:300]}
    data.update(notes=answer.get("notes", "") if notes else "", stage="ready", error="", placeholder=False)
    try:
        return Slide.model_validate(data)
    except ValidationError as exc:
        raise AnswerError(_pydantic_problem(exc)) from exc


def _only(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: data[k] for k in keys if k in data}


def _chart(data: dict[str, Any], *, number_format: str) -> dict[str, Any]:
    """The model's chart with only the fields the slide model knows (extras would fail validation)."""
    series = [_only(s, "name", "values") for s in data.get("series") or [] if isinstance(s, dict)]
    return {**_only(data, "type", "title", "categories"), "series": series, "number_format": number_format}


def _build_outline(answer: dict[str, Any]) -> Outline:
    planned = answer["slides"][:MAX_SLIDES]
    if not planned:
        raise AnswerError("the outline has no slides")
    slides = []
    for number, item in enumerate(planned, start=1):
        layout = "title" if number == 1 else item["layout"]
        data = {"id": f"s{number}", "layout": layout, "title": item["title"], "bullets": item["bullets"][:12]}
        if layout == "chart" and isinstance(item.get("chart"), dict):
            data["chart"] = _chart(item["chart"], number_format="General")
        elif layout == "table" and isinstance(item.get("table"), dict):
            data["table"] = _only(item["table"], "header", "rows")
        elif layout in ("chart", "table"):
            data["layout"] = "bullets"  # planned a chart without data: a text slide is the honest choice
        try:
            slides.append(Slide.model_validate(data))
        except ValidationError as exc:
            raise AnswerError(f"slide {number}: {_pydantic_problem(exc)}") from exc
    title = " ".join(str(answer["title"]).split())[:600] or slides[0].title
    try:
        return Outline(title=title, slides=slides)
    except ValidationError as exc:
        raise AnswerError(_pydantic_problem(exc)) from exc
