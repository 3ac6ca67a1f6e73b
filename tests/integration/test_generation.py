"""Image generation end to end on real parts: API → moderation → job on a worker → assets → gallery."""

import io

import pytest
from PIL import Image
from rq import SimpleWorker

from app.db import session_scope
from app.models import CreditEntry, Generation, ModerationEvent
from app.queue import get_queue
from app.redis_client import get_redis
from tests.integration.test_api_auth import ORIGIN, assert_error, login, register


@pytest.fixture
def signed_in(api, any_db):
    register(api)
    login(api)
    return api


def run_jobs():
    SimpleWorker([get_queue("default"), get_queue("assets")], connection=get_redis()).work(burst=True)


def generate(api, **body):
    response = api.post("/api/v1/images/generations", json={"prompt": "a calm forest morning", **body},
                        headers=ORIGIN)
    assert response.status_code == 202, response.text
    return response.json()


def test_prompt_to_images_in_the_gallery(signed_in):
    started = generate(signed_in, prompt='poster "Blue Notes" jazz night', style="poster", size="768x512", n=2,
                       seed=42)
    assert started["id"] and started["job_id"] and started["status"] == "queued"
    run_jobs()
    done = signed_in.get(f"/api/v1/images/generations/{started['id']}").json()
    assert done["status"] == "succeeded", done
    params = done["parameters"]
    assert params["seed"] == 42 and params["style"] == "poster" and params["size"] == "768x512"
    assert done["final_prompt"].startswith("poster design of")
    assert [i["seed"] for i in done["images"]] == [42, 43]
    for image in done["images"]:
        assert image["asset"]["width"] == 768 and image["asset"]["height"] == 512
        assert image["asset"]["status"] == "ready" and image["asset"]["has_thumbnail"]
        assert image["asset"]["meta"]["generation"]["seed"] == image["seed"] and image["asset"]["meta"]["colours"]
    gallery = signed_in.get("/api/v1/images").json()
    assert gallery["total"] == 2 and {i["id"] for i in gallery["images"]} == {i["id"] for i in done["images"]}
    assert gallery["images"][0]["parameters"]["prompt"] == 'poster "Blue Notes" jazz night'


def test_same_seed_same_pixels_and_downloads_in_three_formats(signed_in):
    first = generate(signed_in, seed=7, size="512x512")
    second = generate(signed_in, seed=7, size="512x512")
    run_jobs()
    a = signed_in.get(f"/api/v1/images/generations/{first['id']}").json()["images"][0]
    b = signed_in.get(f"/api/v1/images/generations/{second['id']}").json()["images"][0]
    assert a["asset"]["sha256"] == b["asset"]["sha256"]  # deterministic: stored once, shown twice
    for fmt, pil in (("png", "PNG"), ("jpeg", "JPEG"), ("webp", "WEBP")):
        response = signed_in.get(f"/api/v1/images/{a['id']}/download", params={"format": fmt})
        assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
        assert Image.open(io.BytesIO(response.content)).format == pil
    assert signed_in.get(f"/api/v1/images/{a['id']}/download", params={"format": "gif"}).status_code == 422


def test_refused_prompt_is_422_logged_and_calls_no_provider(signed_in):
    response = signed_in.post("/api/v1/images/generations", json={"prompt": "a n.u.d.e portrait of a child"},
                              headers=ORIGIN)
    assert_error(response, 422, "moderation_rejected")
    assert "child" not in response.json()["error"]["message"].lower()  # the reason names a category, not words
    with session_scope() as session:
        events = session.query(ModerationEvent).all()
        assert len(events) == 1 and not events[0].allowed and events[0].source == "denylist"
        assert session.query(Generation).count() == 0
    assert get_queue("default").count == 0


def test_allowed_prompt_is_logged_with_its_generation(signed_in):
    started = generate(signed_in, prompt="Scunthorpe United football poster")
    with session_scope() as session:
        event = session.query(ModerationEvent).one()
        assert event.allowed and event.generation_id == started["id"]


@pytest.mark.parametrize(("body", "field"), [
    ({"prompt": ""}, "prompt"), ({"size": "big"}, "size"), ({"n": 5}, "n"), ({"seed": -1}, "seed"),
    ({"size": "1020x1020"}, None), ({"size": "4096x4096"}, None), ({"provider": "nope"}, None),
    ({"style": "nope"}, None), ({"extra": 1}, "extra"),
])
def test_bad_requests_name_the_problem(signed_in, body, field):
    response = signed_in.post("/api/v1/images/generations", json={"prompt": "a lighthouse", **body}, headers=ORIGIN)
    assert response.status_code == 422, response.text
    if field:
        assert field in response.text


def test_unconfigured_provider_is_refused(signed_in):
    response = signed_in.post("/api/v1/images/generations", json={"prompt": "x", "provider": "fal"}, headers=ORIGIN)
    assert_error(response, 422, "provider_not_configured")


def test_a_style_the_engine_cannot_make_is_not_offered_and_refused(signed_in):
    local = next(p for p in signed_in.get("/api/v1/images/providers").json()["providers"] if p["name"] == "local")
    assert {"photo", "3d"} <= set(local["capabilities"]["styles_unsupported"])
    response = signed_in.post("/api/v1/images/generations", json={"prompt": "a lighthouse", "style": "photo"},
                              headers=ORIGIN)
    assert_error(response, 422, "style_not_supported")
    assert "photograph" in response.json()["error"]["message"]


def test_favourite_variation_filter_and_delete(signed_in):
    started = generate(signed_in, style="watercolor", seed=5)
    run_jobs()
    image = signed_in.get(f"/api/v1/images/generations/{started['id']}").json()["images"][0]
    assert signed_in.patch(f"/api/v1/images/{image['id']}", json={"favourite": True}, headers=ORIGIN).status_code == 200
    assert signed_in.get("/api/v1/images", params={"favourites": True}).json()["total"] == 1
    # The US spelling the UI uses is read too (the UK field names stay for the clients that send them).
    assert signed_in.get("/api/v1/images", params={"favorites": True}).json()["total"] == 1
    unset = signed_in.patch(f"/api/v1/images/{image['id']}", json={"favorite": False}, headers=ORIGIN)
    assert unset.status_code == 200 and unset.json()["favourite"] is False
    assert signed_in.get("/api/v1/images", params={"favorites": True}).json()["total"] == 0
    signed_in.patch(f"/api/v1/images/{image['id']}", json={"favorite": True}, headers=ORIGIN)
    varied = signed_in.post(f"/api/v1/images/{image['id']}/variations", headers=ORIGIN).json()
    run_jobs()
    again = signed_in.get(f"/api/v1/images/generations/{varied['id']}").json()
    assert again["status"] == "succeeded" and again["parameters"]["style"] == "watercolor"
    assert again["parameters"]["seed"] != 5
    assert signed_in.get("/api/v1/images", params={"style": "watercolor"}).json()["total"] == 2
    assert signed_in.get("/api/v1/images", params={"style": "poster"}).json()["total"] == 0
    assert signed_in.get("/api/v1/images", params={"provider": "local"}).json()["total"] == 2
    assert signed_in.delete(f"/api/v1/images/{image['id']}", headers=ORIGIN).status_code == 204
    assert signed_in.get("/api/v1/images").json()["total"] == 1
    assert signed_in.get(f"/api/v1/assets/{image['asset']['id']}").status_code == 404


def test_other_users_cannot_see_or_touch(signed_in, api):
    started = generate(signed_in)
    run_jobs()
    image = signed_in.get(f"/api/v1/images/generations/{started['id']}").json()["images"][0]
    signed_in.post("/api/v1/auth/logout", headers=ORIGIN)
    register(api, email="other@example.com")
    login(api, email="other@example.com")
    assert api.get(f"/api/v1/images/generations/{started['id']}").status_code == 404
    assert api.patch(f"/api/v1/images/{image['id']}", json={"favourite": True}, headers=ORIGIN).status_code == 404
    assert api.get(f"/api/v1/images/{image['id']}/download").status_code == 404
    assert api.delete(f"/api/v1/images/{image['id']}", headers=ORIGIN).status_code == 404
    assert api.get("/api/v1/images").json()["total"] == 0


def test_credits_are_reserved_and_captured_or_refunded(signed_in, env, monkeypatch):
    monkeypatch.setenv("PROVIDER_PRICES", '{"local": 3}')
    from tests.conftest import clear_caches

    clear_caches()
    before = signed_in.get("/api/v1/credits").json()["balance"]
    started = generate(signed_in, n=2)
    assert signed_in.get("/api/v1/credits").json()["balance"] == before - 6
    run_jobs()
    assert signed_in.get("/api/v1/credits").json()["balance"] == before - 6
    canceled = generate(signed_in, n=1)
    assert signed_in.post(f"/api/v1/images/generations/{canceled['id']}/cancel", headers=ORIGIN).json() == {
        "outcome": "removed"}
    assert signed_in.get("/api/v1/credits").json()["balance"] == before - 6
    assert signed_in.get(f"/api/v1/images/generations/{canceled['id']}").json()["status"] == "canceled"
    with session_scope() as session:
        kinds = [e.kind for e in session.query(CreditEntry).filter(CreditEntry.job_id == started["job_id"])]
        assert sorted(kinds) == ["capture", "reserve"]
