"""The automatic checklist: email checks, the moderation policy, brand fonts and colors, and alt text proposed by
the renamer's vision engine for library pictures — applied only when a person accepts one."""

from __future__ import annotations

import pytest
from rq import SimpleWorker

from app.errors import ValidationFailed
from app.queue import get_queue
from app.redis_client import get_redis
from app.services.slides.files import store_brand_kit
from tests import images
from tests.integration.templates_helpers import EMAIL, Team, headers, make
from tests.unit.test_slides_brand_kit import brand_template

API = "/api/v1/templates"


@pytest.fixture
def team(api, env):
    return Team()


def picture(api, who) -> int:
    files = [("files", ("harbor.jpg", images.jpeg(320, 200, seed=3), "image/jpeg"))]
    response = api.post("/api/v1/assets", files=files, headers=who)
    assert response.status_code == 201, response.text
    SimpleWorker([get_queue("assets"), get_queue("default")], connection=get_redis()).work(burst=True)
    return response.json()["assets"][0]["id"]


def with_image(src: str, extra: str = "") -> dict:
    source = EMAIL["source"].replace("        <mj-button", f'        <mj-image src="{src}" />\n{extra}'
                                     "        <mj-button")
    return {**EMAIL, "source": source}


def checks_of(api, template_id, who, **body) -> dict:
    response = api.post(f"{API}/{template_id}/checks", json=body, headers=who)
    assert response.status_code == 200, response.text
    return {c["key"]: c for c in response.json()["checks"]}


def test_alt_text_is_proposed_for_library_pictures_and_applied_only_when_accepted(api, team):
    editor = headers(team, "editor")
    asset_id = picture(api, editor)
    src = f"https://studio.example.com/api/v1/assets/{asset_id}/download"
    template_id = make(team.actor("editor"), content=with_image(src))
    checks = checks_of(api, template_id, editor, variables={"order_id": "A-1"})
    assert not checks["images_alt"]["ok"] and checks["images_alt"]["blocking"]
    assert checks["links"]["ok"] and checks["moderation"]["ok"] and checks["size"]["ok"]
    proposals = checks["alt_proposals"]["proposals"]
    assert len(proposals) == 1 and proposals[0]["src"] == src and proposals[0]["asset_id"] == asset_id
    assert proposals[0]["alt"]
    version = api.get(f"{API}/{template_id}/versions/1", headers=editor).json()
    assert 'alt="' not in version["content"]["source"]  # proposed, not applied
    assert version["checks"][1]["key"] == "images_alt"  # stored on the version
    accepted = api.post(f"{API}/{template_id}/alt-text", headers=editor, json={
        "version": 1, "src": src, "alt": "A harbor at dusk & boats", "base_number": 1})
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["number"] == 2
    assert 'alt="A harbor at dusk &amp; boats"' in accepted.json()["content"]["source"]
    again = checks_of(api, template_id, editor, variables={"order_id": "A-1"})
    assert again["images_alt"]["ok"] and again["alt_proposals"]["proposals"] == []
    refused = api.post(f"{API}/{template_id}/alt-text", headers=editor, json={
        "version": 2, "src": "https://elsewhere.example.com/x.png", "alt": "x", "base_number": 2})
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "image_not_found"
    viewer = api.post(f"{API}/{template_id}/checks", json={}, headers=headers(team, "viewer"))
    assert viewer.status_code == 403


def test_moderation_private_links_and_brand_colors(api, team):
    editor = headers(team, "editor")
    key, name = store_brand_kit(workspace_id=team.workspace_id, data=brand_template(heading="Georgia"))
    source = EMAIL["source"].replace("Hello", "Free porn clips, hello").replace(
        "https://example.com/orders", "http://10.0.0.5/orders").replace(
        "<mj-text>", '<mj-text font-family="Comic Sans MS" color="#C8102E">').replace(
        "<mj-button ", '<mj-button background-color="#12ab34" ')
    template_id = make(team.actor("editor"), content={**EMAIL, "source": source, "brand_kit_key": key,
                                                      "brand_kit_name": name})
    checks = checks_of(api, template_id, editor, variables={"order_id": "1"})
    assert not checks["moderation"]["ok"] and checks["moderation"]["items"] == ["Text: sexual"]
    assert not checks["links"]["ok"] and "private address" in checks["links"]["items"][0]
    brand = checks["brand"]
    assert not brand["ok"] and not brand["blocking"]
    assert any("Comic Sans MS".lower() in item for item in brand["items"])
    assert any("#12ab34" in item for item in brand["items"]) and not any("#c8102e" in i for i in brand["items"])
    with pytest.raises(ValidationFailed) as refused:  # a brand kit of another workspace is refused at save
        make(team.actor("outsider"), content={**EMAIL, "brand_kit_key": key})
    assert refused.value.code == "unknown_brand_kit"
