"""Out-of-range and malformed ids, deep JSON and bulk uploads get JSON 404/422/413, never a text 500.

Routes are read from the app's OpenAPI document, so a new route with an `{..._id}` is fuzzed too.
"""

import pytest
from starlette.testclient import TestClient

from tests import images
from tests.integration.test_api_auth import ORIGIN, login, register

BAD_IDS = [2**63, 2**64, -1, 0, "abc", 10**40]
# A valid body for each route that needs one, so the id (not a missing body) is what gets judged.
BODIES = {
    ("patch", "/api/v1/rename/batches/{batch_id}/items/{item_id}"): {"accepted": False},
    ("patch", "/api/v1/images/{image_id}"): {"favourite": True},
    ("post", "/api/v1/workflows/{op_id}/runs"): {"asset_ids": [1]},
    ("put", "/api/v1/recipes/{recipe_id}"): {"name": "r", "steps": [{"op": "resize", "params": {}}]},
    ("post", "/api/v1/recipes/{recipe_id}/runs"): {"asset_ids": [1]},
    ("put", "/api/v1/slides/{deck_id}/outline"): {"title": "t", "slides": [{"id": "s1", "title": "x"}]},
    ("patch", "/api/v1/admin/users/{user_id}"): {"role": "member"},
    ("put", "/api/v1/admin/styles/{key}"): {"label": "x", "prompt": "x"},
    ("post", "/api/v1/rename/batches/{batch_id}/retry-failed"): {"provider": "local"},
    ("patch", "/api/v1/admin/ai/connections/{connection_id}"): {"name": "x"},
    ("patch", "/api/v1/assets/{asset_id}"): {"alt_text": "x"},
    ("patch", "/api/v1/collections/{collection_id}"): {"name": "x"},
    ("post", "/api/v1/collections/{collection_id}/assets"): {"asset_ids": [1]},
    ("delete", "/api/v1/collections/{collection_id}/assets"): {"asset_ids": [1]},
    ("patch", "/api/v1/workspaces/{workspace_id}"): {"name": "x"},
    ("delete", "/api/v1/workspaces/{workspace_id}"): {"confirm_name": "x"},
    ("post", "/api/v1/workspaces/{workspace_id}/transfer"): {"user_id": 1},
    ("patch", "/api/v1/workspaces/{workspace_id}/members/{user_id}"): {"role": "viewer"},
    ("post", "/api/v1/workspaces/{workspace_id}/invitations"): {"email": "a@example.com", "role": "viewer"},
    ("post", "/api/v1/admin/billing/plans/{plan_id}/versions"): {"monthly_credits": 10},
    ("put", "/api/v1/admin/billing/packs/{pack_id}"): {"name": "x", "credits": 10, "stripe_price_id": "price_x"},
    ("patch", "/api/v1/templates/{template_id}"): {"name": "x"},
    ("post", "/api/v1/templates/{template_id}/duplicate"): {},
    ("post", "/api/v1/templates/{template_id}/versions"): {"content": {"source": "<mjml></mjml>", "schema": {}},
                                                          "base_number": 1},
    ("post", "/api/v1/templates/{template_id}/samples"): {"name": "x", "data": {}},
    ("patch", "/api/v1/templates/{template_id}/samples/{sample_id}"): {"name": "x"},
    ("post", "/api/v1/templates/{template_id}/render"): {"variables": {}},
    ("post", "/api/v1/templates/{template_id}/generations"): {"variables": {}},
    ("post", "/api/v1/templates/{template_id}/test-sends"): {"recipients": ["a@example.com"]},
    ("post", "/api/v1/templates/{template_id}/checks"): {},
    ("post", "/api/v1/templates/{template_id}/alt-text"): {"version": 1, "src": "x", "alt": "x", "base_number": 1},
    ("post", "/api/v1/templates/{template_id}/reviews"): {"number": 1},
    ("post", "/api/v1/templates/{template_id}/reviews/{number}/approve"): {"revision": 0},
    ("post", "/api/v1/templates/{template_id}/reviews/{number}/reject"): {"revision": 0, "reason": "x"},
    ("post", "/api/v1/templates/{template_id}/activate"): {"number": 1},
    ("post", "/api/v1/templates/{template_id}/comments"): {"number": 1, "body": "x"},
    ("put", "/api/v1/workspaces/{workspace_id}/approval-workflow"): {"stages": []},
}


@pytest.fixture(scope="module")
def operations():
    from app.api import build_api

    spec = build_api().openapi()
    found = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            params = {p["name"]: p["schema"].get("type") for p in op.get("parameters", []) if p["in"] == "path"}
            fuzzed = [n for n, kind in params.items() if kind == "integer" or n.endswith("id")]
            if fuzzed:
                found.append((method, path, params, fuzzed, op.get("requestBody", {}).get("required", False)))
    return found


@pytest.fixture
def admin_client(env, any_db):
    from app.api import build_api
    from app.api.middleware import BodyLimit, SecurityHeaders

    app = SecurityHeaders(BodyLimit(build_api()))
    # Server errors come back as responses (as a real client sees them), not as raised exceptions.
    with TestClient(app, base_url="http://localhost:3000", raise_server_exceptions=False) as client:
        register(client)  # the first account is the admin: admin routes get past the role check
        login(client)
        yield client


def assert_json_refusal(response, allowed=(404, 422)):
    assert response.status_code in allowed, (response.request.method, response.request.url, response.status_code,
                                             response.text[:200])
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"]["code"]


def test_every_id_path_param_refuses_bad_ids_with_json(admin_client, operations):
    assert len(operations) > 30  # the walk found the routes (a broken walk would pass vacuously)
    for method, path, params, fuzzed, body_required in operations:
        if body_required:
            assert (method, path) in BODIES, f"add a sample body for {method.upper()} {path}"
        for name in fuzzed:
            for bad in BAD_IDS:
                values = {n: (bad if n == name else (1 if kind == "integer" else "x")) for n, kind in params.items()}
                url = path.format(**values)
                response = admin_client.request(method.upper(), url, json=BODIES.get((method, path)),
                                                headers=ORIGIN)
                assert_json_refusal(response)


@pytest.mark.parametrize(("method", "path", "body"), [
    ("post", "/api/v1/rename/batches", {"asset_ids": [2**64]}),
    ("post", "/api/v1/rename/batches", {"asset_ids": [2**63]}),
    ("post", "/api/v1/workflows/resize/runs", {"asset_ids": [2**63]}),
    ("post", "/api/v1/admin/credits", {"user_id": 2**63, "amount": 5, "reason": "x"}),
    ("post", "/api/v1/admin/credits", {"user_id": -1, "amount": 5, "reason": "x"}),
    ("post", "/api/v1/assets/bulk", {"action": "delete", "asset_ids": [2**63]}),
    ("post", "/api/v1/assets/bulk", {"action": "collect", "asset_ids": [1], "value": 2**64}),
    ("post", "/api/v1/assets/zip", {"asset_ids": [0]}),
])
def test_ids_in_bodies_are_64_bit(admin_client, method, path, body):
    assert_json_refusal(admin_client.request(method.upper(), path, json=body, headers=ORIGIN))


@pytest.mark.parametrize("path", ["/api/v1/slides", "/api/v1/rename/batches", "/api/v1/auth/login"])
def test_json_nested_too_deep_is_a_422(admin_client, path):
    response = admin_client.post(path, content=b"[" * 5000, headers={**ORIGIN, "content-type": "application/json"})
    assert_json_refusal(response, allowed=(422,))
    assert "deep" in response.json()["error"]["message"]


def test_json_at_a_sane_depth_still_parses(admin_client):
    nested = {"topic": "Depth", "slides": 3}
    response = admin_client.post("/api/v1/slides", json=nested, headers=ORIGIN)
    assert response.status_code == 201, response.text


def test_too_many_files_in_one_upload_is_a_413(admin_client, monkeypatch):
    from app.settings import get_settings

    monkeypatch.setenv("MAX_UPLOAD_FILES", "5")
    get_settings.cache_clear()
    files = [("files", (f"p{i}.jpg", b"x", "image/jpeg")) for i in range(6)]
    response = admin_client.post("/api/v1/assets", files=files, headers=ORIGIN)
    assert_json_refusal(response, allowed=(413,))


def test_bad_file_names_the_parser_can_read_are_handled_per_file(admin_client):
    body, boundary = _multipart([("a" * 3000 + ".jpg", images.jpeg(120, 90, seed=2)),
                                 ("bell\x07\x1b[31m.jpg", images.jpeg(120, 90, seed=3)),
                                 ("fine.jpg", b"not an image")])
    response = admin_client.post("/api/v1/assets", content=body,
                                 headers={**ORIGIN, "content-type": f"multipart/form-data; boundary={boundary}"})
    assert response.status_code == 201, response.text
    stored = response.json()
    assert [a["filename"] for a in stored["assets"]] == ["a" * 180 + ".jpg", "bell[31m.jpg"]
    assert [e["code"] for e in stored["errors"]] == ["unsupported_type"]


@pytest.mark.parametrize("name", ["a" * 5000 + ".jpg", "evil\rname.jpg"])
def test_a_part_header_the_parser_cannot_read_is_a_clear_422(admin_client, name):
    """Multipart parsers stop at a header over 4 KB or a bare CR: the body has no readable
    boundary for that part, so the request (not just the file) is refused, with the reason."""
    body, boundary = _multipart([(name, images.jpeg(120, 90, seed=2)), ("fine.jpg", images.jpeg(120, 90))])
    response = admin_client.post("/api/v1/assets", content=body,
                                 headers={**ORIGIN, "content-type": f"multipart/form-data; boundary={boundary}"})
    assert_json_refusal(response, allowed=(422,))
    assert response.json()["error"]["code"] == "bad_multipart"


def test_an_upload_whose_every_file_was_refused_is_a_422(admin_client):
    files = [("files", ("a.jpg", b"<html>", "image/jpeg")), ("files", ("b.jpg", b"", "image/jpeg"))]
    response = admin_client.post("/api/v1/assets", files=files, headers=ORIGIN)
    assert_json_refusal(response, allowed=(422,))
    assert response.json()["error"]["code"] == "no_file_stored"
    assert [e["code"] for e in response.json()["error"]["details"]["errors"]] == ["unsupported_type", "empty_file"]


def _multipart(files: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    """A raw multipart body: clients escape CR in names, an attacker does not."""
    boundary = "fuzzboundary7MA4YWxk"
    parts = [b"--" + boundary.encode() + b"\r\nContent-Disposition: form-data; name=\"files\"; filename=\""
             + name.encode() + b"\"\r\nContent-Type: image/jpeg\r\n\r\n" + data + b"\r\n" for name, data in files]
    return b"".join(parts) + b"--" + boundary.encode() + b"--\r\n", boundary


@pytest.mark.parametrize("asset_id", [str(2**63), "9" * 40])
def test_a_slide_picture_with_an_out_of_range_asset_id_is_unknown_not_a_500(admin_client, asset_id):
    deck = admin_client.post("/api/v1/slides", json={"topic": "Ids", "slides": 3}, headers=ORIGIN).json()
    outline = deck["outline"]
    outline["slides"][1].update(layout="image_text", title="Picture", image={"asset_id": asset_id})
    response = admin_client.put(f"/api/v1/slides/{deck['id']}/outline", json=outline, headers=ORIGIN)
    assert_json_refusal(response, allowed=(422,))
    assert response.json()["error"]["code"] == "unknown_asset"
