"""The chat slide engine against a fake OpenAI-compatible chat API on a real loopback HTTP server."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from app.providers.http import HttpOptions, reset_breakers
from app.services.slides.engine.chat import ChatError, ChatSlideWriter, parse_json_answer
from app.services.slides.engine.chat_prompts import OUTLINE_SCHEMA, slide_schema
from app.services.slides.engine.model import (
    ChartData,
    ChartSeries,
    DeckSpec,
    Outline,
    Slide,
)
from tests.fake_chat import OUTLINE, FakeChat

FAST = HttpOptions(connect_timeout=0.5, read_timeout=0.3, retries=0, backoff=0.01, backoff_max=0.05,
                   breaker_fail_max=50, breaker_reset_seconds=30.0)
SPEC = DeckSpec(topic="Solar for schools", slides=5, audience="school boards")


def deck(*titles: str, layouts: dict[str, str] | None = None) -> Outline:
    slides = [Slide(id="s1", layout="title", title="Solar for schools")]
    for n, title in enumerate(titles, start=2):
        layout = (layouts or {}).get(title, "bullets")
        extra = {}
        if layout == "chart":
            extra["chart"] = ChartData(categories=["2023", "2024"], series=[ChartSeries(name="kWh", values=[5, 8])])
        slides.append(Slide(id=f"s{n}", layout=layout, title=title, bullets=[f"about {title.lower()}"], **extra))
    return Outline(title="Solar for schools", slides=slides)


@pytest.fixture(autouse=True)
def _fresh_breakers() -> Iterator[None]:
    reset_breakers()
    yield
    reset_breakers()


@pytest.fixture
def fake() -> Iterator[FakeChat]:
    with FakeChat() as server:
        yield server


@pytest.fixture
def writer(fake: FakeChat) -> Iterator[ChatSlideWriter]:
    engine = ChatSlideWriter(fake.base_url, "sk-test", "gpt-test", http=FAST, max_concurrency=4, repair_attempts=2)
    yield engine
    engine.close()


def test_outline_asks_for_a_json_schema_and_builds_the_slides(fake, writer):
    outline = writer.outline(SPEC)
    assert [s.id for s in outline.slides] == ["s1", "s2", "s3", "s4", "s5"]
    assert outline.slides[0].layout == "title" and outline.title == "Solar for schools"
    assert outline.slides[1].title == "Solar for schools: part 1" and outline.slides[1].stage == "outline"
    body = fake.requests[0].json
    assert body["model"] == "gpt-test"
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"] == OUTLINE_SCHEMA
    assert fake.requests[0].headers["authorization"] == "Bearer sk-test"


def test_outline_keeps_a_planned_chart_with_its_data_and_demotes_one_without(fake, writer):
    fake.outline_layouts = ["chart", "table", "quote"]
    outline = writer.outline(SPEC)
    assert outline.slides[1].layout == "chart" and outline.slides[1].chart.series[0].values == [10, 12]
    assert outline.slides[2].layout == "bullets"  # a table was planned but no table data came with it
    assert outline.slides[3].layout == "quote"


def test_outline_falls_back_to_json_mode_then_to_a_prompt_when_response_format_is_refused(fake, writer):
    fake.formats = {"text"}  # a server that knows no structured output at all
    outline = writer.outline(SPEC)
    assert len(outline.slides) == 5
    kinds = [(r.json.get("response_format") or {}).get("type", "text") for r in fake.requests]
    assert kinds == ["json_schema", "json_object", "text"]
    assert "JSON schema" in fake.requests[-1].json["messages"][0]["content"]  # the schema went into the prompt
    assert writer.format == "none"
    writer.write_slides(SPEC, deck("Costs"), ["s2"])
    assert (fake.requests[-1].json.get("response_format") or {}).get("type", "text") == "text"  # remembered


def test_outline_failure_raises_a_chat_error_with_a_stable_code(fake, writer):
    fake.mode = "server_error"
    with pytest.raises(ChatError) as caught:
        writer.outline(SPEC)
    assert caught.value.code == "provider_error" and caught.value.retryable


def test_a_good_deck_is_written_with_notes_and_the_outline_titles(fake, writer):
    outline = deck("Why solar", "Costs", "Next steps")
    seen: list[str] = []
    slides = writer.write_slides(SPEC, outline, ["s1", "s2", "s3", "s4"], on_slide=lambda s: seen.append(s.id))
    assert [s.id for s in slides] == ["s1", "s2", "s3", "s4"]
    assert sorted(seen) == ["s1", "s2", "s3", "s4"]
    assert all(s.stage == "ready" and not s.error for s in slides)
    assert slides[0].subtitle == "About Solar for schools"
    assert slides[2].title == "Costs" and slides[2].bullets == ["Costs: point 1", "Costs: point 2", "Costs: point 3"]
    assert slides[2].notes == "Explain Costs in two minutes."
    request = fake.slide_requests("Costs")[0].json
    assert request["response_format"]["json_schema"]["schema"] == slide_schema("bullets", notes=True)
    assert request["response_format"]["json_schema"]["name"] == "slide_bullets"


def test_notes_off_leaves_notes_out_of_the_schema_and_the_slides(fake, writer):
    spec = SPEC.model_copy(update={"notes": False})
    slides = writer.write_slides(spec, deck("Costs"), ["s2"])
    assert slides[0].notes == ""
    assert "notes" not in fake.slide_requests("Costs")[0].json["response_format"]["json_schema"]["schema"]["required"]


def test_chart_and_image_slides_get_their_structured_fields(fake, writer):
    outline = deck("Yield", "Roof", layouts={"Yield": "chart", "Roof": "image_text"})
    chart, image = writer.write_slides(SPEC, outline, ["s2", "s3"])
    assert chart.chart.categories == ["2023", "2024"] and chart.chart.series[0].values == [5, 8]
    assert image.image.prompt == "A photo illustrating Roof" and image.image.alt == "Illustration of Roof"


def test_malformed_json_is_repaired_with_the_error_and_the_bad_answer(fake, writer):
    fake.script("Costs", "malformed_json")
    slides = writer.write_slides(SPEC, deck("Why solar", "Costs"), ["s2", "s3"])
    assert all(s.stage == "ready" for s in slides)
    tries = fake.slide_requests("Costs")
    assert len(tries) == 2
    repair = tries[1].json["messages"]
    assert repair[-2]["role"] == "assistant" and repair[-2]["content"].startswith('{"notes"')
    assert repair[-1]["role"] == "user" and "not valid JSON" in repair[-1]["content"]


@pytest.mark.parametrize("mode, said", [("wrong_shape", "at bullets"), ("not_json", "not valid JSON")])
def test_schema_errors_are_repaired_too(fake, writer, mode, said):
    fake.script("Costs", mode)
    (slide,) = writer.write_slides(SPEC, deck("Costs"), ["s2"])
    assert slide.stage == "ready"
    assert said in fake.slide_requests("Costs")[1].json["messages"][-1]["content"]


def test_a_chart_that_fails_the_slide_model_is_sent_back_for_repair(fake, writer):
    fake.script("Yield", "bad_chart")
    (slide,) = writer.write_slides(SPEC, deck("Yield", layouts={"Yield": "chart"}), ["s2"])
    assert slide.stage == "ready" and slide.chart.series[0].values == [5, 8]
    assert "1 values for 2 categories" in fake.slide_requests("Yield")[1].json["messages"][-1]["content"]


def test_a_slide_that_stays_malformed_fails_alone_while_the_others_finish(fake, writer):
    fake.script("Costs", then="malformed_json")
    seen: list[Slide] = []
    slides = writer.write_slides(SPEC, deck("Why solar", "Costs", "Next steps"), ["s2", "s3", "s4"],
                                 on_slide=seen.append)
    by_title = {s.title: s for s in slides}
    assert by_title["Costs"].stage == "failed"
    assert "no usable answer after 3 tries" in by_title["Costs"].error
    assert by_title["Costs"].bullets == ["about costs"]  # the outline's text is kept
    assert by_title["Why solar"].stage == by_title["Next steps"].stage == "ready"
    assert len(fake.slide_requests("Costs")) == 3  # the first try and two repairs
    assert {s.title for s in seen} == {"Why solar", "Costs", "Next steps"}


def test_a_slide_that_times_out_fails_with_a_timeout_while_the_others_finish(fake, writer):
    fake.hang_seconds = 1.0
    fake.script("Costs", then="timeout")
    slides = writer.write_slides(SPEC, deck("Why solar", "Costs"), ["s2", "s3"])
    assert slides[0].stage == "ready"
    assert slides[1].stage == "failed" and "did not answer in time" in slides[1].error


def test_a_slide_whose_requests_fail_with_500_is_marked_failed_while_the_others_finish(fake, writer):
    fake.script("Costs", then="server_error")
    slides = writer.write_slides(SPEC, deck("Why solar", "Costs", "Next steps"), ["s2", "s3", "s4"])
    assert [s.stage for s in slides] == ["ready", "failed", "ready"]
    assert "answered HTTP 500" in slides[1].error


def test_a_timeout_is_retried_by_the_http_layer_before_a_slide_fails(fake):
    fake.hang_seconds = 1.0
    fake.script("Costs", "timeout")  # one slow answer, then good ones
    engine = ChatSlideWriter(fake.base_url, "sk-test", "gpt-test", max_concurrency=2,
                             http=HttpOptions(read_timeout=0.3, retries=1, backoff=0.01, backoff_max=0.02))
    try:
        (slide,) = engine.write_slides(SPEC, deck("Costs"), ["s2"])
    finally:
        engine.close()
    assert slide.stage == "ready" and len(fake.slide_requests("Costs")) == 2


def test_locked_slides_are_returned_unchanged_without_a_request(fake, writer):
    outline = deck("Why solar", "Costs")
    outline.slides[2] = outline.slides[2].model_copy(update={"locked": True, "notes": "mine"})
    seen: list[str] = []
    slides = writer.write_slides(SPEC, outline, ["s2", "s3"], on_slide=lambda s: seen.append(s.id))
    assert slides[1] == outline.slides[2]
    assert fake.slide_requests("Costs") == [] and seen == ["s2"]


def test_unknown_slide_ids_are_refused(writer):
    with pytest.raises(ValueError, match="'s9'"):
        writer.write_slides(SPEC, deck("Costs"), ["s9"])


def test_never_more_requests_in_flight_than_the_concurrency_limit(fake):
    fake.delay = 0.05
    engine = ChatSlideWriter(fake.base_url, "sk-test", "gpt-test", http=FAST, max_concurrency=3)
    try:
        outline = deck(*[f"Part {n}" for n in range(1, 10)])
        slides = engine.write_slides(SPEC, outline, [s.id for s in outline.slides])
    finally:
        engine.close()
    assert len(slides) == 10 and all(s.stage == "ready" for s in slides)
    assert fake.max_in_flight == 3


def test_a_ten_slide_deck_runs_four_at_a_time(fake):
    # The benchmark's shape (1 s per answer, 4 at a time: three rounds, ~3 s) with a shorter delay:
    # the fake records how many requests were in flight and which waited for which.
    fake.delay = 0.15
    engine = ChatSlideWriter(fake.base_url, "sk-test", "gpt-test", http=FAST, max_concurrency=4)
    try:
        outline = deck(*[f"Part {n}" for n in range(1, 10)])
        slides = engine.write_slides(SPEC, outline, [s.id for s in outline.slides])
    finally:
        engine.close()
    assert all(s.stage == "ready" for s in slides)
    assert fake.max_in_flight == 4 and fake.started_with[:4] == [1, 2, 3, 4]
    # No slot stayed idle: the deck took ceil(10 / 4) = 3 answer times (3 s at the benchmark's 1 s).
    assert fake.rounds() == 3


def test_an_exception_from_on_slide_stops_the_deck_and_propagates(fake):
    fake.delay = 0.1
    engine = ChatSlideWriter(fake.base_url, "sk-test", "gpt-test", http=FAST, max_concurrency=1)
    outline = deck(*[f"Part {n}" for n in range(1, 6)])

    class Cancelled(Exception):
        pass

    def stop(slide: Slide) -> None:
        raise Cancelled

    try:
        with pytest.raises(Cancelled):
            engine.write_slides(SPEC, outline, [s.id for s in outline.slides], on_slide=stop)
    finally:
        engine.close()
    assert len(fake.requests) <= 2  # the queued slides were cancelled, not sent


def test_each_slide_gets_the_part_of_a_long_source_that_is_about_it(fake):
    filler = " ".join(f"Paragraph {n} is about gardens, flowers and weekend walks." for n in range(200))
    source = f"{filler}\n\nInverters turn the panels' direct current into alternating current.\n\n{filler}"
    spec = SPEC.model_copy(update={"source_text": source})
    engine = ChatSlideWriter(fake.base_url, "sk-test", "gpt-test", http=FAST, max_excerpt_chars=300)
    try:
        engine.write_slides(spec, deck("Inverters and current"), ["s2"])
    finally:
        engine.close()
    prompt = fake.slide_requests("Inverters and current")[0].json["messages"][1]["content"]
    excerpt = prompt.split("<<<\n", 1)[1].split("\n>>>", 1)[0]
    assert "Inverters turn the panels' direct current into alternating current." in excerpt
    assert len(excerpt) <= 300


def test_outline_is_repaired_when_the_answer_is_malformed(fake, writer):
    fake.script(OUTLINE, "malformed_json")
    assert len(writer.outline(SPEC).slides) == 5
    assert len(fake.requests) == 2


@pytest.mark.parametrize("content, expected", [
    ('{"a": 1}', {"a": 1}),
    ('```json\n{"a": 1}\n```', {"a": 1}),
    ('<think>hmm {"no": 1}</think>{"a": 1}', {"a": 1}),
    ('Here you go: {"a": 1} Enjoy!', {"a": 1}),
])
def test_json_answers_are_found_in_common_wrappers(content, expected):
    assert parse_json_answer(content) == expected


@pytest.mark.parametrize("content", ["", "[1, 2]", "no json here", '{"a": '])
def test_answers_without_a_json_object_are_rejected(content):
    with pytest.raises(ValueError):
        parse_json_answer(content)


def test_the_writer_is_safe_to_share_between_threads(fake, writer):
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            writer.write_slides(SPEC, deck(f"Thread {n}"), ["s2"])
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(fake.requests) == 4
