"""/api/v1/admin: style presets, the moderation denylist and the moderation log, through the API."""

import pytest

from tests.integration.test_api_auth import ORIGIN, assert_error, login, register


@pytest.fixture
def admin(api, any_db):
    user = register(api).json()  # the first account is the site admin
    login(api)
    return user


def test_style_presets_are_listed_created_and_edited(api, admin):
    style = {"key": "inkwash", "name": "Ink wash", "template": "{prompt}, ink wash", "negative": "colour",
             "position": 7, "is_active": False}
    created = api.post("/api/v1/admin/styles", json=style, headers=ORIGIN)
    assert created.status_code == 201, created.text
    assert created.json() == style
    changed = api.put("/api/v1/admin/styles/inkwash", json={**style, "name": "Sumi-e", "is_active": True},
                      headers=ORIGIN).json()
    assert changed == {**style, "name": "Sumi-e", "is_active": True}
    listed = api.get("/api/v1/admin/styles").json()["styles"]
    assert changed in listed
    # Members see the active ones through /images/styles, in the same shape.
    assert changed in api.get("/api/v1/images/styles").json()["styles"]


def test_denylist_terms_and_the_moderation_log(api, admin):
    added = api.post("/api/v1/admin/moderation/denylist", headers=ORIGIN,
                     json={"term": "zorblax", "kind": "word", "category": "other", "reason": "test word"})
    assert added.status_code == 201, added.text
    term = added.json()
    assert {k: term[k] for k in ("term", "kind", "category", "reason")} == {
        "term": "zorblax", "kind": "word", "category": "other", "reason": "test word"}
    assert isinstance(term["id"], int) and isinstance(term["created_at"], str)
    assert api.get("/api/v1/admin/moderation/denylist", params={"q": "zorb"}).json() == {"terms": [term]}

    refused = api.post("/api/v1/images/generations", json={"prompt": "a zorblax at dawn"}, headers=ORIGIN)
    assert_error(refused, 422, "moderation_rejected")
    log = api.get("/api/v1/admin/moderation/events", params={"decision": "refused"}).json()
    assert log["total"] == 1
    event = log["events"][0]
    assert set(event) == {"id", "at", "workspace_id", "surface", "allowed", "source", "category", "matched",
                          "reason", "text", "generation_id"}
    assert (event["allowed"], event["surface"], event["source"], event["generation_id"]) == (
        False, "prompt", "denylist", None)
    assert event["workspace_id"] == admin["workspace_id"] and "zorblax" in event["text"]
