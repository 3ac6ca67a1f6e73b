"""Templates meeting the other products: save a deck as a slide template, a new deck from the active version, the
.pptx export, and an image style's prompt and settings used by the generation service."""

from __future__ import annotations

import io

import pytest
from pptx import Presentation
from rq import SimpleWorker

from app.db import session_scope
from app.models import Generation
from app.queue import QUEUES, get_queue
from app.redis_client import get_redis
from tests.integration.templates_helpers import IMAGE_STYLE, Team, approve_latest, headers

API = "/api/v1/templates"


@pytest.fixture
def team(api, any_db):
    return Team()


def run_jobs() -> None:
    SimpleWorker([get_queue(name) for name in QUEUES], connection=get_redis()).work(burst=True)


def ok(response, status=200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


def test_a_deck_becomes_a_slide_template_and_a_new_deck_comes_from_its_active_version(api, team):
    editor, viewer = headers(team, "editor"), headers(team, "viewer")
    deck = ok(api.post("/api/v1/slides", json={"topic": "Solar for schools", "slides": 4}, headers=editor), 201)
    made = ok(api.post(f"{API}/from-deck", json={"deck_id": deck["id"], "tags": ["pitch"]}, headers=editor), 201)
    assert made["kind"] == "slide" and made["name"] == deck["title"] and made["has_thumbnail"]
    thumb = api.get(f"{API}/{made['id']}/thumbnail", headers=viewer)
    assert thumb.status_code == 200 and thumb.content.startswith(b"\x89PNG")
    new_deck = f"{API}/{made['id']}/decks"
    refused = api.post(new_deck, headers=editor)  # a draft does not leave
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "no_active_version"
    approve_latest(made["id"])
    # The deck changes afterwards and is saved as version 2 (a draft): new decks still come from version 1.
    outline = ok(api.get(f"/api/v1/slides/{deck['id']}", headers=editor))["outline"]
    outline["slides"][1]["title"] = "Changed after approval"
    ok(api.put(f"/api/v1/slides/{deck['id']}/outline", json=outline, headers=editor))
    second = ok(api.post(f"{API}/from-deck", json={"deck_id": deck["id"], "template_id": made["id"],
                                                   "base_number": 1}, headers=editor), 201)
    assert second["latest_number"] == 2 and second["active_number"] == 1
    assert api.post(new_deck, headers=viewer).status_code == 403  # slides.write
    copy = ok(api.post(new_deck, headers=editor), 201)
    titles = [s["title"] for s in ok(api.get(f"/api/v1/slides/{copy['deck_id']}", headers=editor))["outline"]["slides"]]
    assert "Changed after approval" not in titles and copy["deck_id"] != deck["id"]
    pptx = api.get(f"{API}/{made['id']}/export", headers=viewer)
    assert pptx.status_code == 200 and pptx.headers["content-disposition"].endswith(".pptx")
    assert len(Presentation(io.BytesIO(pptx.content)).slides) == len(titles)
    preview = api.get(f"{API}/{made['id']}/export", params={"preview": "true"}, headers=editor)
    slides = Presentation(io.BytesIO(preview.content)).slides
    assert any(s.shapes.title is not None and s.shapes.title.text_frame.text == "Changed after approval"
               for s in slides)
    outsider = api.post(f"{API}/from-deck", json={"deck_id": deck["id"]}, headers=headers(team, "outsider"))
    assert outsider.status_code == 404


def test_an_image_style_generates_with_its_prompt_and_settings(api, team):
    editor = headers(team, "editor")
    made = ok(api.post(API, json={"kind": "image_style", "name": "Watercolor", "content": IMAGE_STYLE},
                       headers=editor), 201)
    url = f"{API}/{made['id']}/generations"
    assert api.post(url, json={}, headers=editor).json()["error"]["code"] == "no_active_version"
    approve_latest(made["id"])
    started = ok(api.post(url, json={"variables": {"subject": "a red fox"}, "settings": {"n": 1}}, headers=editor),
                 202)
    assert started["prompt"] == "a red fox in a quiet watercolor, soft light"
    run_jobs()
    with session_scope() as session:
        generation = session.get(Generation, started["id"])
        assert (generation.width, generation.height, generation.n, generation.seed) == (512, 512, 1, 7)
        assert generation.negative_prompt in ("text, logos", "")  # kept when the provider takes one
        assert generation.workspace_id == team.workspace_id
    bad = api.post(url, json={"settings": {"size": "huge"}}, headers=editor)
    assert bad.status_code == 422 and bad.json()["error"]["details"]["field"] == "settings.size"
    viewer = api.post(url, json={}, headers=headers(team, "viewer"))
    assert viewer.status_code == 403
