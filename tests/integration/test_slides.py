"""Slide decks end to end on real parts: API → outline → edits → job on a worker → .pptx / .pdf read back."""

from __future__ import annotations

import io
import threading
import time

import pytest
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE
from pypdf import PdfReader
from rq import SimpleWorker

from app.providers.http import reset_breakers
from app.queue import get_queue
from app.redis_client import get_redis
from app.services.slides import runs as deck_runs
from app.services.slides.store import load_deck, outline_of
from tests.fake_chat import OUTLINE, FakeChat
from tests.integration.test_api_auth import ORIGIN, assert_error, login, register
from tests.slide_documents import docx_bytes

MARKDOWN = """# Solar for schools

A practical guide for school boards.

## Why solar

Schools have large roofs that sit empty all year. Solar panels on school roofs cut electricity bills for
decades. Pupils learn about energy from panels on their own roof. Grants cover part of the cost in most regions.

## Steps

- Survey the roof
- Get three quotes
- Apply for the grant

## Output by year

| Year | kWh |
|------|-----|
| 2022 | 41000 |
| 2023 | 45500 |
| 2024 | 48200 |

## Suppliers

| Supplier | Warranty | Region |
|----------|----------|--------|
| Sunrise | 25 years | North |
| Helio | 20 years | South |

## A word from a head teacher

> The sun does not send an invoice.
"""


@pytest.fixture
def signed_in(api, any_db):
    register(api)
    login(api)
    return api


def run_jobs():
    SimpleWorker([get_queue("default"), get_queue("assets")], connection=get_redis()).work(burst=True)


def create(api, **body):
    response = api.post("/api/v1/slides", json=body, headers=ORIGIN)
    assert response.status_code == 201, response.text
    return response.json()


def put_outline(api, deck, outline, status=200):
    response = api.put(f"/api/v1/slides/{deck['id']}/outline", json=outline, headers=ORIGIN)
    assert response.status_code == status, response.text
    return response.json()


def generate(api, deck_id):
    response = api.post(f"/api/v1/slides/{deck_id}/generate", headers=ORIGIN)
    assert response.status_code == 202, response.text
    run_jobs()
    return api.get(f"/api/v1/slides/{deck_id}").json()


def pptx_of(api, deck_id):
    response = api.get(f"/api/v1/slides/{deck_id}/download?format=pptx")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument")
    return Presentation(io.BytesIO(response.content))


def title_of(slide) -> str:
    return slide.shapes.title.text_frame.text if slide.shapes.title is not None else ""


def test_markdown_outline_edit_generate_and_read_back(signed_in):
    deck = create(signed_in, source_text=MARKDOWN, slides=8, theme="studio")
    assert deck["status"] == "idle" and deck["title"] == "Solar for schools"
    slides = deck["outline"]["slides"]
    assert [s["title"] for s in slides] == ["Solar for schools", "Why solar", "Steps", "Output by year", "Suppliers",
                                            "A word from a head teacher"]
    assert [s["layout"] for s in slides] == ["title", "bullets", "bullets", "chart", "table", "quote"]
    assert all(s["stage"] == "outline" for s in slides)
    assert set(deck["previews"]) == {s["id"] for s in slides}

    # Edit: rename a slide, add one with only a title (the engine finds its bullets in the source), move it up.
    outline = deck["outline"]
    outline["slides"][2]["title"] = "Five steps to solar"
    outline["slides"].insert(2, {"id": "new1", "layout": "bullets", "title": "Grants and costs"})
    edited = put_outline(signed_in, deck, outline)
    assert [s["id"] for s in edited["outline"]["slides"]][:4] == ["s1", "s2", "new1", "s3"]
    assert edited["revision"] > deck["revision"]
    assert edited["previews"]["s3"] != deck["previews"]["s3"]  # cache-busted by content

    done = generate(signed_in, deck["id"])
    assert done["status"] == "ready", done
    assert all(s["stage"] == "ready" for s in done["outline"]["slides"])
    added = next(s for s in done["outline"]["slides"] if s["id"] == "new1")
    assert any("Grants" in b for b in added["bullets"])  # a sentence of the source about the new title
    versions = signed_in.get(f"/api/v1/slides/{deck['id']}/versions").json()["versions"]
    assert [v["number"] for v in versions] == [1] and versions[0]["note"].startswith("Generated 7 slides")

    prs = pptx_of(signed_in, deck["id"])
    assert len(prs.slides) == 7
    assert [title_of(s) for s in prs.slides][:4] == ["Solar for schools", "Why solar", "Grants and costs",
                                                     "Five steps to solar"]
    assert "Schools have large roofs" in prs.slides[0].notes_slide.notes_text_frame.text  # notes on by default
    chart_slide = prs.slides[4]
    (chart_shape,) = [s for s in chart_slide.shapes if s.has_chart]
    plot = chart_shape.chart.plots[0]
    assert list(plot.categories) == ["2022", "2023", "2024"]
    assert list(plot.series[0].values) == [41000, 45500, 48200]
    assert chart_shape.chart.part.chart_workbook.xlsx_part is not None  # the data is embedded, editable
    (table_shape,) = [s for s in prs.slides[5].shapes if s.has_table]
    table = table_shape.table
    assert [c.text for c in table.rows[0].cells] == ["Supplier", "Warranty", "Region"]
    assert table.cell(1, 0).text == "Sunrise"

    preview = signed_in.get(done["previews"]["s4"])
    assert preview.status_code == 200 and preview.headers["content-type"] == "image/png"
    assert preview.content[:8] == b"\x89PNG\r\n\x1a\n" and "immutable" in preview.headers["cache-control"]


def test_document_upload_and_brand_free_theme(signed_in):
    response = signed_in.post("/api/v1/slides", headers=ORIGIN, data={"slides": "6", "theme": "midnight"},
                              files={"document": ("report.docx", docx_bytes(), "application/octet-stream")})
    assert response.status_code == 201, response.text
    deck = response.json()
    titles = [s["title"] for s in deck["outline"]["slides"]]
    assert titles[0] == "Solar for schools" and "Why solar" in titles and "Costs" in titles
    assert deck["theme"] == "midnight" and deck["spec"]["source_chars"] > 100
    themes = signed_in.get("/api/v1/slides/themes").json()
    assert [t["name"] for t in themes["themes"]] == ["studio", "editorial", "bold", "soft", "midnight", "mono"]


def test_brand_kit_upload_is_generated_into(signed_in):
    from pptx.opc.constants import RELATIONSHIP_TYPE as RT

    from tests.unit.test_slides_brand_kit import brand_template

    template = ("acme.potx", brand_template(heading="Georgia"), "application/octet-stream")
    response = signed_in.post("/api/v1/slides", headers=ORIGIN, data={"source_text": MARKDOWN, "slides": "6"},
                              files={"brand_kit": template})
    assert response.status_code == 201, response.text
    deck = response.json()
    assert deck["brand_kit"] == "Acme Brand"
    done = generate(signed_in, deck["id"])
    assert done["status"] == "ready"
    prs = pptx_of(signed_in, deck["id"])
    theme = prs.slide_master.part.part_related_by(RT.THEME).blob
    assert b'typeface="Georgia"' in theme and b"Acme Brand" in theme
    assert len(prs.slides) == len(done["outline"]["slides"])
    assert signed_in.get(done["previews"]["s2"]).status_code == 200


def test_locks_regenerate_versions_and_restore(signed_in):
    deck = create(signed_in, source_text=MARKDOWN, slides=8)
    deck_id = deck["id"]
    locked = signed_in.post(f"/api/v1/slides/{deck_id}/slides/s2/lock", headers=ORIGIN).json()
    assert locked["outline"]["slides"][1]["locked"] is True
    assert_error(signed_in.post(f"/api/v1/slides/{deck_id}/slides/s2/regenerate", headers=ORIGIN), 409,
                 "slide_locked")
    # A locked slide keeps its content through an outline edit, and cannot be deleted.
    outline = locked["outline"]
    outline["slides"][1]["title"] = "Changed behind the lock"
    assert put_outline(signed_in, locked, outline)["outline"]["slides"][1]["title"] == "Why solar"
    del outline["slides"][1]
    assert_error(signed_in.put(f"/api/v1/slides/{deck_id}/outline", json=outline, headers=ORIGIN), 409,
                 "slide_locked")

    done = generate(signed_in, deck_id)
    s2 = done["outline"]["slides"][1]
    assert s2["locked"] and s2["stage"] == "outline"  # generation left it alone
    assert all(s["stage"] == "ready" for s in done["outline"]["slides"] if not s["locked"])

    # Regenerate one slide: its bullets are written again from the source by its title.
    steps_before = done["outline"]["slides"][2]["bullets"]
    started = signed_in.post(f"/api/v1/slides/{deck_id}/slides/s3/regenerate", headers=ORIGIN)
    assert started.status_code == 202 and started.json()["job_id"]
    run_jobs()
    again = signed_in.get(f"/api/v1/slides/{deck_id}").json()
    assert again["status"] == "ready" and again["outline"]["slides"][2]["stage"] == "ready"
    assert again["outline"]["slides"][2]["bullets"] and again["outline"]["slides"][2]["bullets"] != steps_before

    saved = signed_in.post(f"/api/v1/slides/{deck_id}/versions", json={"note": "Before the board"}, headers=ORIGIN)
    assert saved.status_code == 201 and saved.json()["number"] == 3
    outline = again["outline"]
    outline["slides"][0]["title"] = "A new title"
    put_outline(signed_in, again, outline)
    restored = signed_in.post(f"/api/v1/slides/{deck_id}/versions/3/restore", headers=ORIGIN).json()
    assert restored["outline"]["slides"][0]["title"] == "Solar for schools"
    notes = [v["note"] for v in signed_in.get(f"/api/v1/slides/{deck_id}/versions").json()["versions"]]
    assert notes == ["Before restoring version 3", "Before the board", "Regenerated “Steps”", "Generated 5 slides"]
    assert_error(signed_in.post(f"/api/v1/slides/{deck_id}/versions/99/restore", headers=ORIGIN), 404,
                 "no_such_version")


def test_picture_from_a_prompt_lands_in_the_library_and_the_pptx(signed_in):
    deck = create(signed_in, topic="City cycling", slides=3)
    outline = deck["outline"]
    outline["slides"][1].update(layout="image_text", title="Streets for people", bullets=["Trees", "Shade"],
                                image={"prompt": "a quiet street lined with trees, watercolor"})
    put_outline(signed_in, deck, outline)
    done = generate(signed_in, deck["id"])
    slide = done["outline"]["slides"][1]
    assert slide["stage"] == "ready", slide
    asset = signed_in.get(f"/api/v1/assets/{slide['image']['asset_id']}").json()
    assert asset["meta"]["slides"]["deck_id"] == deck["id"] and asset["width"] < asset["height"] * 1.2
    prs = pptx_of(signed_in, deck["id"])
    pictures = [s for s in prs.slides[1].shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE
                or (s.is_placeholder and hasattr(s, "image"))]
    assert len(pictures) == 1
    # A picture from someone else's library (or none) is refused at edit time.
    outline["slides"][1]["image"] = {"asset_id": "999999"}
    assert_error(signed_in.put(f"/api/v1/slides/{deck['id']}/outline", json=outline, headers=ORIGIN), 422,
                 "unknown_asset")


def test_a_refused_picture_prompt_fails_its_slide_only(signed_in):
    deck = create(signed_in, topic="Beach day", slides=3)
    outline = deck["outline"]
    outline["slides"][1].update(layout="image_text", image={"prompt": "n4ked w0man on a beach"})
    put_outline(signed_in, deck, outline)
    done = generate(signed_in, deck["id"])
    slide = done["outline"]["slides"][1]
    assert slide["stage"] == "failed" and slide["error"].startswith("The picture could not be made")
    assert "n4ked" not in slide["error"] and slide["image"]["asset_id"] is None
    assert [s["stage"] for s in done["outline"]["slides"]] == ["ready", "failed", "ready"]
    assert signed_in.get("/api/v1/assets").json()["total"] == 0


def test_cancel_before_the_worker_starts_leaves_the_deck_usable(signed_in):
    deck = create(signed_in, source_text=MARKDOWN)
    started = signed_in.post(f"/api/v1/slides/{deck['id']}/generate", headers=ORIGIN).json()
    assert started["deck"]["status"] == "generating"
    assert_error(signed_in.put(f"/api/v1/slides/{deck['id']}/outline", json=deck["outline"], headers=ORIGIN), 409,
                 "deck_busy")
    assert_error(signed_in.post(f"/api/v1/slides/{deck['id']}/generate", headers=ORIGIN), 409, "deck_busy")
    assert signed_in.post(f"/api/v1/slides/{deck['id']}/cancel", headers=ORIGIN).json() == {"outcome": "removed"}
    after = signed_in.get(f"/api/v1/slides/{deck['id']}").json()
    assert after["status"] == "idle" and all(s["stage"] == "outline" for s in after["outline"]["slides"])
    run_jobs()  # nothing left to run
    assert signed_in.get(f"/api/v1/slides/{deck['id']}").json()["status"] == "idle"


def test_a_deck_whose_worker_was_lost_is_usable_again(signed_in):
    from app.services import jobs

    deck = create(signed_in, source_text=MARKDOWN)
    started = signed_in.post(f"/api/v1/slides/{deck['id']}/generate", headers=ORIGIN).json()
    deck_runs.set_stages(deck_id=deck["id"], stages={"s2": "writing"})  # the job had begun
    jobs.fail(started["job_id"], "Worker w1 was lost and no attempts remain.")  # what the reaper does
    after = signed_in.get(f"/api/v1/slides/{deck['id']}").json()
    assert after["status"] == "failed" and "was lost" in after["error"]
    assert after["outline"]["slides"][1]["stage"] == "outline"
    assert generate(signed_in, deck["id"])["status"] == "ready"


def test_pdf_has_one_page_per_slide(api, env):
    register(api)
    login(api)
    deck = create(api, source_text=MARKDOWN)
    generate(api, deck["id"])
    response = api.get(f"/api/v1/slides/{deck['id']}/download?format=pdf")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert len(PdfReader(io.BytesIO(response.content)).pages) == len(deck["outline"]["slides"])


def test_pdf_without_libreoffice_says_so(api, env, monkeypatch):
    register(api)
    login(api)
    deck = create(api, topic="Quarterly review", slides=3)
    monkeypatch.setenv("PATH", "/nonexistent")  # a server where libreoffice-impress is not installed
    response = api.get(f"/api/v1/slides/{deck['id']}/download?format=pdf")
    assert_error(response, 503, "pdf_unavailable")
    assert "LibreOffice" in response.json()["error"]["message"]
    assert api.get("/api/v1/slides/themes").json()["pdf"] is False


def test_decks_are_private(signed_in):
    deck = create(signed_in, topic="Secret plans", slides=3)
    signed_in.post("/api/v1/auth/logout", headers=ORIGIN)
    register(signed_in, email="eve@example.com")
    login(signed_in, email="eve@example.com")
    deck_id = deck["id"]
    for method, path in (("get", ""), ("get", "/versions"), ("get", "/download"), ("get", "/slides/s1/preview.png"),
                         ("post", "/generate"), ("post", "/slides/s1/lock"), ("post", "/slides/s1/regenerate"),
                         ("post", "/versions"), ("delete", "")):
        assert_error(getattr(signed_in, method)(f"/api/v1/slides/{deck_id}{path}", headers=ORIGIN), 404, "not_found")
    assert_error(signed_in.put(f"/api/v1/slides/{deck_id}/outline", json=deck["outline"], headers=ORIGIN), 404,
                 "not_found")
    assert signed_in.get("/api/v1/slides").json()["total"] == 0


@pytest.mark.parametrize(("body", "code"), [
    ({}, "invalid_deck"),
    ({"topic": "x", "slides": 0}, "validation_failed"),
    ({"topic": "x", "slides": 61}, "validation_failed"),
    ({"topic": "x" * 301}, "validation_failed"),
    ({"topic": "x", "theme": "comic-sans"}, "unknown_theme"),
    ({"topic": "x", "provider": "gpt-9"}, "unknown_provider"),
    ({"topic": "x", "provider": "openai"}, "provider_not_configured"),
    ({"topic": "x", "image_provider": "stability"}, "provider_not_configured"),
    ({"topic": "x", "colour": "red"}, "validation_failed"),
])
def test_bad_requests_are_refused(api, env, body, code):
    register(api)
    login(api)
    assert_error(api.post("/api/v1/slides", json=body, headers=ORIGIN), 422, code)


def test_bad_outlines_and_uploads_are_refused(api, env):
    register(api)
    login(api)
    deck = create(api, topic="Quarterly review", slides=3)
    url = f"/api/v1/slides/{deck['id']}/outline"
    slides = deck["outline"]["slides"]
    for outline, code in (
        ({"slides": []}, "validation_failed"),
        ({"slides": [slides[0], slides[0]]}, "validation_failed"),  # duplicate ids
        ({"slides": [{"id": "c", "layout": "chart", "title": "No data"}]}, "validation_failed"),
        ({"slides": [{"id": "a/b", "title": "Slash"}]}, "invalid_slide_id"),
        ({"slides": [{"id": "x", "bullets": ["b"] * 13}]}, "validation_failed"),
    ):
        assert_error(api.put(url, json=outline, headers=ORIGIN), 422, code)
    loaded = deck["revision"]
    assert put_outline(api, deck, deck["outline"])["revision"] == loaded + 1  # someone else's edit
    assert_error(api.put(f"{url}?revision={loaded}", json=deck["outline"], headers=ORIGIN), 409, "stale_outline")
    fake_pdf = ("notes.pdf", b"PK\x03\x04 this is a zip, not a pdf", "application/pdf")
    assert_error(api.post("/api/v1/slides", data={"slides": "4"}, files={"document": fake_pdf}, headers=ORIGIN), 422,
                 "mismatched_document")
    not_a_template = ("brand.pptx", b"just text", "application/octet-stream")
    assert_error(api.post("/api/v1/slides", data={"topic": "x"}, files={"brand_kit": not_a_template}, headers=ORIGIN),
                 422, "brand_kit_invalid")
    big = ("big.md", b"# Title\n" + b"word " * (5 * 1024 * 1024), "text/markdown")
    response = api.post("/api/v1/slides", data={"slides": "4"}, files={"document": big}, headers=ORIGIN)
    assert_error(response, 413, "payload_too_large")


# --- the chat provider ---------------------------------------------------------------------------------


@pytest.fixture
def chat(signed_in, monkeypatch):
    reset_breakers()
    with FakeChat() as fake:
        monkeypatch.setenv("SLIDES_OPENAI_BASE_URL", fake.base_url)
        monkeypatch.setenv("SLIDES_OPENAI_API_KEY", fake.api_key)
        monkeypatch.setenv("SLIDES_OPENAI_MODEL", "gpt-test")
        monkeypatch.setenv("SLIDES_CONCURRENCY", "3")
        from app.settings import get_settings

        get_settings.cache_clear()
        yield fake
    reset_breakers()


def test_chat_outline_then_slides_in_parallel_with_one_failing(signed_in, chat):
    chat.outline_layouts = ["bullets", "chart", "bullets", "quote"]
    deck = create(signed_in, topic="Solar for schools", slides=5, audience="school boards", provider="openai")
    assert deck["status"] == "outlining" and deck["outline"] is None and deck["job_id"]
    run_jobs()
    deck = signed_in.get(f"/api/v1/slides/{deck['id']}").json()
    assert deck["status"] == "idle" and len(deck["outline"]["slides"]) == 5
    assert deck["outline"]["slides"][2]["layout"] == "chart"
    failing = deck["outline"]["slides"][3]["title"]
    chat.script(failing, "not_json", "not_json", "not_json", then="not_json")

    done = generate(signed_in, deck["id"])
    stages = {s["title"]: s["stage"] for s in done["outline"]["slides"]}
    assert stages.pop(failing) == "failed" and set(stages.values()) == {"ready"}
    assert done["status"] == "ready" and "1 of 5 slides failed" in done["error"]
    bad = done["outline"]["slides"][3]
    assert "no usable answer" in bad["error"]
    assert len(chat.slide_requests(failing)) == 3  # the first try and two repairs
    assert chat.max_in_flight <= 3
    prs = pptx_of(signed_in, deck["id"])
    assert len(prs.slides) == 5
    assert prs.slides[3].notes_slide.notes_text_frame.text.startswith("⚠ This slide could not be generated")
    assert [s for s in prs.slides[2].shapes if s.has_chart]


def test_words_sent_to_the_chat_provider_are_moderated_first(signed_in, chat):
    response = signed_in.post("/api/v1/slides", json={"topic": "n4ked w0man on a beach", "provider": "openai"},
                              headers=ORIGIN)
    assert_error(response, 422, "moderation_rejected")
    assert chat.requests == [] and signed_in.get("/api/v1/slides").json()["total"] == 0


def test_chat_outline_failure_is_shown_and_can_be_planned_again(signed_in, chat):
    chat.script(OUTLINE, "not_json", "not_json", "not_json", then="good")
    deck = create(signed_in, topic="Solar for schools", slides=4, provider="openai")
    run_jobs()
    failed = signed_in.get(f"/api/v1/slides/{deck['id']}").json()
    assert failed["status"] == "failed" and "no usable answer" in failed["error"] and failed["outline"] is None
    assert not failed["error"].startswith("ChatError")
    again = signed_in.post(f"/api/v1/slides/{deck['id']}/outline/rebuild", headers=ORIGIN)
    assert again.status_code == 202 and again.json()["status"] == "outlining"
    run_jobs()
    assert len(signed_in.get(f"/api/v1/slides/{deck['id']}").json()["outline"]["slides"]) == 4


def test_cancel_between_slides(signed_in, chat, monkeypatch):
    monkeypatch.setenv("SLIDES_CONCURRENCY", "1")
    from app.settings import get_settings

    get_settings.cache_clear()
    deck = create(signed_in, topic="Solar for schools", slides=6, provider="openai")
    run_jobs()
    chat.delay = 0.3
    signed_in.post(f"/api/v1/slides/{deck['id']}/generate", headers=ORIGIN)
    outcome = []

    def cancel_after_the_first_slide():
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            row = load_deck(deck["id"])
            if any(s.stage == "ready" for s in outline_of(row).slides):
                outcome.append(deck_runs.cancel(workspace_id=row.workspace_id, deck_id=row.id))
                return
            time.sleep(0.05)

    canceler = threading.Thread(target=cancel_after_the_first_slide)
    canceler.start()
    run_jobs()  # the worker runs here: RQ installs signal handlers, which only the main thread may do
    canceler.join(timeout=30)
    assert outcome == ["stopping"]
    after = signed_in.get(f"/api/v1/slides/{deck['id']}").json()
    assert after["job"]["status"] == "canceled" and after["status"] == "ready"
    stages = [s["stage"] for s in after["outline"]["slides"]]
    assert "ready" in stages and "outline" in stages and not {"writing", "image", "chart"} & set(stages)


def test_openapi_documents_json_and_multipart_creation(api, env):
    spec = api.get("/openapi.json").json()
    create = spec["paths"]["/api/v1/slides"]["post"]["requestBody"]["content"]
    assert set(create) == {"application/json", "multipart/form-data"}
    assert create["multipart/form-data"]["schema"]["properties"]["document"]["format"] == "binary"
    for path in ("/api/v1/slides/{deck_id}/outline", "/api/v1/slides/{deck_id}/generate",
                 "/api/v1/slides/{deck_id}/download", "/api/v1/slides/{deck_id}/slides/{slide_id}/preview.png",
                 "/api/v1/slides/{deck_id}/versions/{number}/restore", "/api/v1/slides/themes"):
        assert path in spec["paths"], path
    themes = api.get("/api/v1/slides/themes")
    assert themes.status_code == 401  # signed-in users only


def test_a_long_pasted_source_is_not_cut_off_by_the_body_limit(signed_in):
    # 150,000 characters of source: over the API's 64 KB JSON default, within what a deck accepts.
    prose = " ".join(f"Sentence {i} explains how city cycling changes commutes." for i in range(2700))
    response = signed_in.post("/api/v1/slides", json={"source_text": f"# Cycling\n\n## Why\n\n{prose}"[:150_000],
                                                      "slides": 5}, headers=ORIGIN)
    assert response.status_code == 201, response.text[:300]


def test_regenerating_a_slide_with_the_users_edits_asks_first_and_keeps_them_restorable(signed_in):
    """Regenerate used to replace typed bullets and notes without a word; restoring then lost the picture."""
    from tests.images import jpeg

    deck = generate(signed_in, create(signed_in, source_text=MARKDOWN, slides=8)["id"])
    deck_id = deck["id"]
    picture = signed_in.post("/api/v1/assets", files=[("files", ("DSC_0412.jpg", jpeg(), "image/jpeg"))],
                             headers=ORIGIN).json()["assets"][0]["id"]
    outline = deck["outline"]
    outline["slides"][2]["bullets"] = ["Our own first point", "Our own second point"]
    outline["slides"][2]["notes"] = "What I will say here."
    outline["slides"][2]["layout"] = "image_text"
    outline["slides"][2]["image"] = {"asset_id": str(picture), "prompt": ""}
    outline["slides"][2]["edited"] = False  # a client cannot clear the mark: the server sets it
    edited = put_outline(signed_in, deck, outline)
    assert edited["outline"]["slides"][2]["edited"] is True
    assert edited["outline"]["slides"][1]["edited"] is False

    # Without consent: refused, nothing queued, nothing changed.
    assert_error(signed_in.post(f"/api/v1/slides/{deck_id}/slides/s3/regenerate", headers=ORIGIN), 409,
                 "slide_edited")
    unchanged = signed_in.get(f"/api/v1/slides/{deck_id}").json()
    assert unchanged["status"] == "ready" and unchanged["outline"] == edited["outline"]

    # An untouched slide regenerates without asking.
    assert signed_in.post(f"/api/v1/slides/{deck_id}/slides/s2/regenerate", headers=ORIGIN).status_code == 202
    run_jobs()

    # With consent: written again, and the edits (picture included) are one restore away.
    started = signed_in.post(f"/api/v1/slides/{deck_id}/slides/s3/regenerate?replace_edits=true", headers=ORIGIN)
    assert started.status_code == 202, started.text
    run_jobs()
    again = signed_in.get(f"/api/v1/slides/{deck_id}").json()
    s3 = again["outline"]["slides"][2]
    assert s3["bullets"] != ["Our own first point", "Our own second point"] and s3["edited"] is False
    versions = signed_in.get(f"/api/v1/slides/{deck_id}/versions").json()["versions"]
    before = next(v for v in versions if v["note"].startswith("Before regenerating"))
    restored = signed_in.post(f"/api/v1/slides/{deck_id}/versions/{before['number']}/restore",
                              headers=ORIGIN).json()
    slide = restored["outline"]["slides"][2]
    assert slide["bullets"] == ["Our own first point", "Our own second point"]
    assert slide["notes"] == "What I will say here."
    assert slide["image"]["asset_id"] == str(picture)


def test_a_topic_skeleton_counts_its_placeholder_slides_up_to_the_download(signed_in):
    deck = create(signed_in, topic="Heat pumps for schools", slides=5)
    assert deck["placeholder_slides"] == 4 and all(s["placeholder"] for s in deck["outline"]["slides"][1:])
    outline = deck["outline"]
    outline["slides"][2]["bullets"] = ["Heat pumps cut a school's heating bill by a third"]
    edited = put_outline(signed_in, deck, outline)
    assert edited["placeholder_slides"] == 3  # written over by the user: theirs now
    response = signed_in.get(f"/api/v1/slides/{deck['id']}/download?format=pptx")
    assert response.status_code == 200 and response.headers["x-placeholder-slides"] == "3"


def test_a_dragged_order_is_stored_with_the_order_before_kept_once_as_a_version(signed_in):
    from app.services.slides import decks
    from app.services.slides.engine.model import Outline

    deck = create(signed_in, source_text=MARKDOWN, slides=5)
    stored = load_deck(deck["id"])
    before = outline_of(stored)
    order = [s.id for s in before.slides]
    dragged = Outline(title=before.title, slides=[before.slides[2], *before.slides[:2], *before.slides[3:]])
    decks.update_outline(workspace_id=stored.workspace_id, deck_id=stored.id, outline=dragged,
                         version_note="Before reordering slides")
    after = signed_in.get(f"/api/v1/slides/{deck['id']}").json()
    assert [s["id"] for s in after["outline"]["slides"]] == [order[2], order[0], order[1], *order[3:]]
    versions = signed_in.get(f"/api/v1/slides/{deck['id']}/versions").json()["versions"]
    assert [v["note"] for v in versions] == ["Before reordering slides"]
    # Restoring it gives the order before the drag back.
    signed_in.post(f"/api/v1/slides/{deck['id']}/versions/{versions[0]['number']}/restore", headers=ORIGIN)
    restored = signed_in.get(f"/api/v1/slides/{deck['id']}").json()
    assert [s["id"] for s in restored["outline"]["slides"]] == order
    # A run of drags keeps one version (the order before the first); an edit that keeps the order, none.
    note = "Before reordering slides"
    for _ in range(2):
        current = outline_of(load_deck(deck["id"]))
        decks.update_outline(workspace_id=stored.workspace_id, deck_id=stored.id, version_note=note,
                             outline=current.model_copy(update={"slides": current.slides[::-1]}))
    decks.update_outline(workspace_id=stored.workspace_id, deck_id=stored.id, version_note=note,
                         outline=outline_of(load_deck(deck["id"])))
    notes = [v["note"] for v in signed_in.get(f"/api/v1/slides/{deck['id']}/versions").json()["versions"]]
    assert notes == [note, "Before restoring version 1", note]


def test_a_report_says_what_the_offline_engine_left_out_and_notes_stay_with_their_slide(signed_in):
    """The walker's report: 12 slides asked gave 7 without a word, the code block vanished, and the generated
    notes of "What changed…", "Risks" and the chart said "Revenue grew 18%…" (the Summary's bullet)."""
    from tests.slide_documents import Q3_REPORT_MD

    deck = create(signed_in, source_text=Q3_REPORT_MD, slides=12)
    assert deck["status"] == "idle" and len(deck["outline"]["slides"]) == 7
    assert "Left out 1 code block (in “What changed in the app”)" in deck["error"]
    assert "Made 7 slides of the 12 asked: the document has 5 sections" in deck["error"]
    again = signed_in.post(f"/api/v1/slides/{deck['id']}/outline/rebuild", headers=ORIGIN).json()
    assert again["error"] == deck["error"]  # planned again: said again

    generate(signed_in, deck["id"])
    prs = pptx_of(signed_in, deck["id"])
    shown = [" ".join(shape.text_frame.text for shape in slide.shapes if shape.has_text_frame) for slide in prs.slides]
    for number, slide in enumerate(list(prs.slides)[1:], start=1):
        notes = slide.notes_slide.notes_text_frame.text if slide.has_notes_slide else ""
        assert "Revenue grew 18%" not in notes and "Subscription pause" not in notes, (number, notes)
        assert not any(notes and notes in text for i, text in enumerate(shown) if i != number)
