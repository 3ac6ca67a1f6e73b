"""Reviews, comments, the workflow and notifications over HTTP (the production middleware, SQLite and PostgreSQL):
an editor's email goes through Copy → Legal, becomes active and renders for a bearer token; the author cannot
approve it; a stale decision is a 409."""

from __future__ import annotations

import pytest

from app.db import session_scope
from app.services.auth import api_tokens
from tests.integration.templates_helpers import EMAIL, Team, headers

API = "/api/v1"


@pytest.fixture
def team(api, any_db):
    return Team()


def ok(response, status=200) -> dict:
    assert response.status_code == status, response.text
    return response.json() if response.content else {}


def error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code, response.text
    return response.json()["error"]


def test_review_journey_over_http(api, team):
    owner, editor, approver, admin, viewer = (headers(team, r) for r in ("owner", "editor", "approver", "admin",
                                                                          "viewer"))
    flow = f"{API}/workspaces/{team.workspace_id}/approval-workflow"
    assert ok(api.get(flow, headers=viewer))["version"] == 0  # the default: one stage, never saved
    error(api.put(flow, json={"stages": []}, headers=editor), 403, "role_forbidden")
    stages = [{"name": "Copy", "needed": 1, "roles": ["approver"]},
              {"name": "Legal", "needed": 1, "members": [team.users["admin"].id]}]
    saved = ok(api.put(flow, json={"stages": stages, "version": 0}, headers=owner))
    assert saved["version"] == 1 and [s["name"] for s in saved["stages"]] == ["Copy", "Legal"]
    error(api.put(flow, json={"stages": stages, "version": 0}, headers=owner), 409, "workflow_conflict")

    made = ok(api.post(f"{API}/templates", json={"kind": "email", "name": "Order shipped", "content": EMAIL},
                       headers=editor), 201)
    tid = made["id"]
    state = ok(api.post(f"{API}/templates/{tid}/reviews", json={"number": 1}, headers=editor))
    assert state["version"]["status"] == "in_review" and state["version"]["blocking"] == []
    assert [s["state"] for s in state["stages"]] == ["current", "waiting"]
    # The author has no approve; an admin is not Copy's reviewer; a viewer cannot review.
    assert "approve" not in ok(api.get(f"{API}/templates/{tid}/reviews", headers=editor))["can"]
    error(api.post(f"{API}/templates/{tid}/reviews/1/approve", json={"revision": 0}, headers=editor), 403,
          "role_forbidden")
    error(api.post(f"{API}/templates/{tid}/reviews/1/approve", json={"revision": 0}, headers=admin), 403,
          "not_reviewer")
    error(api.post(f"{API}/templates/{tid}/reviews/1/approve", json={"revision": 1}, headers=approver), 409,
          "stale_decision")
    inbox = ok(api.get(f"{API}/reviews", headers=approver))["items"]
    assert [(i["template_id"], i["stage_name"]) for i in inbox] == [(tid, "Copy")]
    bell = ok(api.get(f"{API}/me/notifications", headers=approver))
    assert bell["unread"] == 1 and bell["notifications"][0]["kind"] == "review_assigned"
    assert bell["notifications"][0]["link"] == f"/templates/{tid}?version=1"
    state = ok(api.post(f"{API}/templates/{tid}/reviews/1/approve", json={"revision": 0, "stage": 0},
                        headers=approver))
    assert state["stages"][0]["state"] == "done" and state["stages"][0]["count"] == 1

    # A comment mentioning the admin by name-less email handle and an outsider: only the member is told.
    posted = ok(api.post(f"{API}/templates/{tid}/comments", json={
        "number": 1, "body": "@admin please check the price. cc @outsider@example.com"}, headers=approver), 201)
    assert [m["user_id"] for m in posted["mentions"]] == [team.users["admin"].id]
    reply = ok(api.post(f"{API}/templates/{tid}/comments", json={"number": 1, "body": "Looks fine.",
                                                                   "parent_id": posted["id"]}, headers=admin), 201)
    assert reply["parent_id"] == posted["id"]
    threads = ok(api.get(f"{API}/templates/{tid}/comments", headers=viewer))["comments"]
    assert len(threads) == 1 and [r["body"] for r in threads[0]["replies"]] == ["Looks fine."]
    error(api.post(f"{API}/templates/{tid}/comments", json={"number": 1, "body": "x"}, headers=viewer), 403,
          "role_forbidden")
    kinds = {n["kind"] for n in ok(api.get(f"{API}/me/notifications", headers=admin))["notifications"]}
    assert kinds == {"mentioned", "review_assigned"}
    assert ok(api.get(f"{API}/me/notifications", headers=headers(team, "outsider")))["notifications"] == []

    # No active version yet: the render API refuses; after Legal, it renders the approved version.
    with session_scope() as session:
        _, secret = api_tokens.create_token(session=session, user_id=team.users["viewer"].id, name="render",
                                            scopes=["read"], workspace_id=team.workspace_id)
    bearer = {"Authorization": f"Bearer {secret}"}
    error(api.post(f"{API}/templates/{tid}/render", json={"variables": {"order_id": "A-7"}}, headers=bearer),
          409, "no_active_version")
    state = ok(api.post(f"{API}/templates/{tid}/reviews/1/approve", json={"revision": 0, "stage": 1},
                        headers=admin))
    assert state["version"]["status"] == "approved" and state["active_number"] == 1
    rendered = ok(api.post(f"{API}/templates/{tid}/render", json={"variables": {"order_id": "A-7"}},
                           headers=bearer))
    assert "A-7" in rendered["html"] and "A-7" in rendered["text"]
    decided = [n for n in ok(api.get(f"{API}/me/notifications", headers=editor))["notifications"]
               if n["kind"] == "review_decided"]
    assert len(decided) == 1 and "approved" in decided[0]["title"]
    assert ok(api.post(f"{API}/me/notifications/read", json={}, headers=editor))["marked"] >= 1
    assert ok(api.get(f"{API}/me/notifications", headers=editor))["unread"] == 0
    error(api.post(f"{API}/templates/{tid}/activate", json={"number": 2}, headers=editor), 404, "version_not_found")


def test_a_template_of_another_workspace_is_not_found(api, team):
    made = ok(api.post(f"{API}/templates", json={"kind": "email", "name": "Hidden", "content": EMAIL},
                       headers=headers(team, "editor")), 201)
    outsider = headers(team, "outsider")
    for method, path, body in (("GET", f"/templates/{made['id']}/reviews", None),
                               ("POST", f"/templates/{made['id']}/reviews", {"number": 1}),
                               ("GET", f"/templates/{made['id']}/comments", None),
                               ("POST", f"/templates/{made['id']}/activate", {"number": 1})):
        response = api.request(method, API + path, json=body, headers=outsider)
        assert response.status_code == 404, (path, response.text)
