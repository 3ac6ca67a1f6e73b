"""/api/v1/templates over HTTP: the library, versions, bad input naming the line or variable, render and export of
the active version only, and sample sets (real SQLite and PostgreSQL, the production middleware)."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from tests.integration.templates_helpers import EMAIL, IMAGE_STYLE, Team, approve_latest, headers

API = "/api/v1/templates"


@pytest.fixture
def team(api, any_db):
    return Team()


def ok(response, status=200) -> dict:
    assert response.status_code == status, response.text
    return response.json() if response.content else {}


def error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()["error"]
    assert body["code"] == code, body
    return body


def create(api, who: dict, **body) -> dict:
    return ok(api.post(API, json={"kind": "email", "name": "Order shipped", "content": EMAIL, **body}, headers=who),
              201)


def test_create_save_list_and_a_stale_save(api, team):
    editor = headers(team, "editor")
    made = create(api, editor, tags=["Orders"], category="Transactional")
    assert made["latest"]["number"] == 1 and made["latest"]["status"] == "draft" and made["tags"] == ["orders"]
    changed = {**EMAIL, "source": EMAIL["source"].replace("Hello", "Hi")}
    saved = ok(api.post(f"{API}/{made['id']}/versions", json={"content": changed, "note": "warmer", "base_number": 1},
                        headers=editor), 201)
    assert saved["number"] == 2 and saved["note"] == "warmer"
    stale = error(api.post(f"{API}/{made['id']}/versions", json={"content": EMAIL, "base_number": 1},
                           headers=headers(team, "admin")), 409, "edit_conflict")
    assert stale["details"]["latest_number"] == 2
    listed = ok(api.get(API, params={"q": "SHIPPED", "kind": "email", "status": "has_draft"},
                        headers=headers(team, "viewer")))
    assert listed["total"] == 1 and listed["templates"][0]["latest_number"] == 2
    versions = ok(api.get(f"{API}/{made['id']}/versions", headers=editor))["versions"]
    assert [v["number"] for v in versions] == [2, 1] and "content" not in versions[0]  # GET …/versions/{n} has it
    assert versions[0]["active"] is False and "submitted_at" in versions[0]  # every other field, None or not
    diff = ok(api.get(f"{API}/{made['id']}/compare", params={"a": 1, "b": 2}, headers=editor))
    assert diff["added"] == diff["removed"] == 1
    patched = ok(api.patch(f"{API}/{made['id']}", json={"name": "Shipped", "tags": ["a", "b"]}, headers=editor))
    assert patched["name"] == "Shipped" and patched["tags"] == ["a", "b"]
    assert ok(api.delete(f"{API}/{made['id']}", headers=editor))["archived"] is True
    assert ok(api.get(API, headers=editor))["total"] == 0
    assert ok(api.get(API, params={"status": "archived"}, headers=editor))["total"] == 1


@pytest.mark.parametrize("source, code, where", [
    ("<mjml>" + "x" * (1024 * 1024) + "</mjml>", "template_too_large", {}),
    ("<mjml><mj-body>" + "<mj-section>" * 30 + "</mj-section>" * 30 + "</mj-body></mjml>", "template_too_deep",
     {"line": 1}),
    (EMAIL["source"].replace("{{ first_name }}", "{{ first_name.__class__ }}"), "template_unsafe", {"line": 5}),
    (EMAIL["source"].replace("{{ first_name }}", "{% for i in range(100000) %}x{% endfor %}"), "template_unsafe",
     {}),
    (EMAIL["source"].replace("{{ order_id }}", "{{ coupon }}"), "template_undeclared_variable",
     {"line": 5, "variable": "coupon"}),
    (EMAIL["source"].replace("</mj-column>", ""), "template_unbalanced", {"line": 8}),
])
def test_bad_sources_answer_422_naming_the_line_or_variable(api, team, source, code, where):
    editor = headers(team, "editor")
    made = create(api, editor)
    body = error(api.post(f"{API}/{made['id']}/versions", json={"content": {**EMAIL, "source": source},
                                                                "base_number": 1}, headers=editor), 422, code)
    for key, value in where.items():
        assert body["details"][key] == value, body


def test_render_and_export_only_the_active_version_unless_a_preview(api, team):
    editor, viewer = headers(team, "editor"), headers(team, "viewer")
    made = create(api, editor)
    render = f"{API}/{made['id']}/render"
    error(api.post(render, json={"variables": {"order_id": "A-1"}}, headers=viewer), 409, "no_active_version")
    error(api.get(f"{API}/{made['id']}/export", headers=viewer), 409, "no_active_version")
    error(api.post(render, json={"variables": {"order_id": "A-1"}, "preview": True}, headers=viewer), 403,
          "role_forbidden")
    preview = ok(api.post(render, json={"variables": {"order_id": "A-1"}, "preview": True}, headers=editor))
    assert "your order A-1" in preview["text"] and preview["status"] == "draft"
    approver = headers(team, "approver")  # reviewers look at what they approve, but take no file away
    assert ok(api.post(render, json={"variables": {"order_id": "A-1"}, "preview": True}, headers=approver))["html"]
    error(api.get(f"{API}/{made['id']}/export", params={"preview": "true"}, headers=approver), 403, "role_forbidden")
    approve_latest(made["id"])
    ok(api.post(f"{API}/{made['id']}/versions", json={"content": EMAIL, "base_number": 1}, headers=editor), 201)
    active = ok(api.post(render, json={"variables": {"order_id": "<b>B-2</b>", "first_name": "Ana"}}, headers=viewer))
    assert active["version"] == 1 and "Hello Ana" in active["html"] and "&lt;b&gt;B-2" in active["html"]
    assert active["text"].startswith("Hello Ana") and active["size_bytes"] > 0
    error(api.post(render, json={"version": 2}, headers=viewer), 409, "version_not_active")
    wrong = error(api.post(render, json={"variables": {"order_id": 5}}, headers=viewer), 422,
                  "template_variable_invalid")
    assert wrong["details"]["variable"] == "order_id"
    missing = error(api.post(render, json={"variables": {}}, headers=viewer), 422, "template_variable_invalid")
    assert "order_id" in missing["message"]
    sample = ok(api.post(f"{API}/{made['id']}/samples", json={"name": "Ana", "data": {"order_id": "S-9",
                                                                                     "first_name": "Ana"}},
                         headers=editor), 201)
    exported = api.get(f"{API}/{made['id']}/export", params={"sample_id": sample["id"]}, headers=viewer)
    assert exported.status_code == 200 and exported.headers["content-type"] == "application/zip"
    files = zipfile.ZipFile(io.BytesIO(exported.content))
    names = set(files.namelist())
    assert names == {"order-shipped.html", "order-shipped.txt", "order-shipped.mjml", "variables.schema.json",
                     "data.json"}
    assert "S-9" in files.read("order-shipped.txt").decode() and "<html" in files.read("order-shipped.html").decode()
    error(api.get(f"{API}/{made['id']}/export", params={"format": "pptx"}, headers=viewer), 422,
          "export_format_invalid")


def test_image_style_render_export_and_the_generation_request(api, team):
    editor = headers(team, "editor")
    made = ok(api.post(API, json={"kind": "image_style", "name": "Watercolor", "content": IMAGE_STYLE},
                       headers=editor), 201)
    approve_latest(made["id"])
    rendered = ok(api.post(f"{API}/{made['id']}/render", json={"variables": {"subject": "a fox & a hare"}},
                           headers=editor))
    assert rendered["prompt"] == "a fox & a hare in a quiet watercolor, soft light"  # a prompt is not HTML
    assert rendered["settings"] == {"size": "512x512", "n": 2, "seed": 7}
    exported = api.get(f"{API}/{made['id']}/export", headers=editor)
    body = json.loads(exported.content)
    assert body["rendered"]["prompt"] == "a lighthouse in a quiet watercolor, soft light"
    assert exported.headers["content-disposition"].endswith("watercolor.json")


def test_samples_limits(api, team, monkeypatch):
    editor = headers(team, "editor")
    made = create(api, editor)
    url = f"{API}/{made['id']}/samples"
    first = ok(api.post(url, json={"name": "Ana", "data": {"order_id": "1"}}, headers=editor), 201)
    error(api.post(url, json={"name": "Ana", "data": {}}, headers=editor), 409, "sample_name_taken")
    error(api.post(url, json={"name": "Big", "data": {"x": "y" * (65 * 1024)}}, headers=editor), 422,
          "sample_data_too_large")
    renamed = ok(api.patch(f"{url}/{first['id']}", json={"name": "Ana B"}, headers=editor))
    assert renamed["name"] == "Ana B" and renamed["data"] == {"order_id": "1"}
    monkeypatch.setattr("app.services.templates.samples.MAX_SAMPLES", 2)
    ok(api.post(url, json={"name": "Two", "data": {}}, headers=editor), 201)
    error(api.post(url, json={"name": "Three", "data": {}}, headers=editor), 409, "too_many_samples")
    ok(api.delete(f"{url}/{first['id']}", headers=editor), 204)
    assert [s["name"] for s in ok(api.get(url, headers=headers(team, "viewer")))["samples"]] == ["Two"]
    error(api.get(url, headers=headers(team, "outsider")), 404, "template_not_found")
