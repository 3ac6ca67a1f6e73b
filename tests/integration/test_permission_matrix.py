"""Every REST route × every workspace role, checked against the one permission matrix.

Each /api/v1 route declares its matrix action (`dependencies=[requires("...")]`); this test reads the
declaration from the route itself, so a new route without one fails here. In a team workspace holding one of
each kind of object (asset, collection, rename batch and item, generation and image, workflow run, recipe, deck
and version, job), each member acts through a cookie session and the X-Workspace header:

- allowed by the matrix → neither 403 nor 404 (a 422 for the empty body still shows the check let it through);
- refused → 403 `role_forbidden` (they can see the workspace, so they learn nothing new);
- a non-member naming the workspace → 404; a non-member reaching for its objects from their own → 404;
- no credentials → 401; the site admin routes → 403 for every workspace role (site role, not workspace role).

Then tokens: a `read` token can read and gets 403 `insufficient_scope` on every write; a `read rename:write`
token writes to the renamer only.
"""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from rq import SimpleWorker
from sqlmodel import select

from app.api import API_PREFIX, build_api
from app.api.deps import admin_caller, declared_action
from app.db import session_scope
from app.models import ImageLink, Membership, SsoIdentity, Template, TemplateVersion, User
from app.queue import QUEUES, get_queue
from app.redis_client import get_redis
from app.services.auth import accounts, api_tokens
from app.services.auth.sessions import COOKIE_NAME, create_session
from app.services.workspaces import invitations, permissions
from app.services.workspaces.service import acting, create_team
from tests import images
from tests.integration.test_api_auth import ORIGIN, PASSWORD

# Routes anyone may call: signing up and in, password reset, the cookie hand-off.
PUBLIC = {
    ("POST", "/auth/register"), ("POST", "/auth/login"), ("POST", "/auth/logout"), ("POST", "/auth/password-reset"),
    ("POST", "/auth/password-reset/confirm"), ("GET", "/auth/complete"), ("GET", "/auth/signed-out"),
    ("GET", "/invitations/{token}"),  # the invitation page's preview: the token is the credential
    # Single sign-on: the provider list, the start (it checks the session itself when linking) and the
    # callback (state, nonce and the browser cookie are its credentials).
    ("GET", "/auth/sso/providers"), ("GET", "/auth/sso/{provider}/start"), ("GET", "/auth/sso/{provider}/callback"),
    # Stripe's webhook: the signature on the raw body is its credential (404 while billing is off).
    ("POST", "/billing/webhook"),
    # A library picture of an email that left: the signed token is the credential (tests/integration/
    # test_template_image_links.py).
    ("GET", "/public/images/{token}"),
}
# Routes that take the caller out of the team (the walk goes on as them): their roles are tested in
# tests/integration/test_workspaces_api.py.
LEAVES = {("POST", "/workspaces/{workspace_id}/leave")}
# Path parameters that name an object of the workspace: a non-member reaching for one gets 404.
OBJECT_PARAMS = {"asset_id", "collection_id", "batch_id", "item_id", "generation_id", "image_id", "run_id",
                 "recipe_id", "deck_id", "job_id", "template_id", "sample_id", "link_id"}
# Objects a DELETE route removes: each allowed role deletes a spare of its own.
SPARES = 4


def api_routes() -> list[tuple[str, str, APIRoute]]:
    """(method, path under /api/v1, the route) for every route of the app as served."""
    out = []
    # FastAPI ≥ 0.165 keeps included routers lazily (app.routes holds them unexpanded); this walks them as the
    # app and its OpenAPI schema do.
    for context in iter_route_contexts(build_api().routes):
        route, path = context.original_route, context.path or ""
        if isinstance(route, APIRoute) and path.startswith(API_PREFIX):
            out += [(method, path[len(API_PREFIX):], route) for method in sorted(context.methods or ())]
    assert len(out) > 60, f"only {len(out)} routes found under {API_PREFIX}: the walk lost its way"
    # Deletions last (the objects they remove are spares), the longest path first.
    return sorted(out, key=lambda r: (r[0] == "DELETE", -len(r[1]) if r[0] == "DELETE" else 0, r[1], r[0]))


def is_site_admin(route: APIRoute) -> bool:
    def walk(dependant) -> bool:
        return any(d.call is admin_caller or walk(d) for d in dependant.dependencies)

    return walk(route.dependant)


def test_every_route_declares_an_action_from_the_matrix():
    undeclared = []
    for method, path, route in api_routes():
        action = declared_action(route)
        if action is not None:
            assert action in permissions.ACTIONS, (method, path, action)
        elif not is_site_admin(route) and (method, path) not in PUBLIC:
            undeclared.append(f"{method} {path}")
    assert not undeclared, f"routes with no declared action (add dependencies=[requires(...)]): {undeclared}"


def run_jobs() -> None:
    SimpleWorker([get_queue(name) for name in QUEUES], connection=get_redis()).work(burst=True)


def ok(response, *expected: int) -> dict:
    assert response.status_code in expected, (response.request.method, response.request.url, response.text)
    return response.json() if response.content else {}


class Team:
    """A team workspace with one of each object, its members by role, and someone from outside."""

    def __init__(self, api):
        self.api = api
        with session_scope() as session:
            # The first account is the site admin: made first, so no workspace role below is one.
            accounts.register_user(session=session, email="site@example.com", password=PASSWORD)
            users = {role: accounts.register_user(session=session, email=f"{role}@example.com", password=PASSWORD)
                     for role in (*permissions.ROLES, "outsider")}
            self.workspace_id = create_team(session=session, user_id=users["owner"].id, name="Studio").id
            for role in permissions.ROLES[1:]:
                session.add(Membership(workspace_id=self.workspace_id, user_id=users[role].id, role=role))
            self.cookies = {who: create_session(session=session, user_id=user.id) for who, user in users.items()}
            self.tokens = {who: api_tokens.create_token(session=session, user_id=user.id, name="walk")[0].id
                           for who, user in users.items()}
            # A provider account of each person's own (they have a password too, so unlinking is allowed).
            identities = {who: SsoIdentity(user_id=user.id, provider="walk", subject=who) for who,
                          user in users.items()}
            session.add_all(identities.values())
            session.flush()
            self.identities = {who: row.id for who, row in identities.items()}
            # Members the member routes change (a role set to what it is) and remove (a spare each).
            spare = [accounts.register_user(session=session, email=f"spare{i}@example.com", password=PASSWORD)
                     for i in range(SPARES + 1)]
            for member in spare:
                session.add(Membership(workspace_id=self.workspace_id, user_id=member.id, role="viewer"))
            session.flush()
            # Invitations to resend and revoke, and one already used: accepting it again is 410 for anyone.
            owner = acting(session=session, user=session.get(User, users["owner"].id), workspace_id=self.workspace_id)
            sent = [invitations.invite(session=session, actor=owner, workspace_id=self.workspace_id,
                                       email=f"guest{i}@example.com", role="viewer") for i in range(SPARES + 2)]
            used = accounts.register_user(session=session, email="guest0@example.com", password=PASSWORD)
            used_token = sent[0][1].rsplit("token=", 1)[1]
            invitations.accept(session=session, token=used_token, user=used)
        self.members = [m.id for m in spare]
        self.invitations = [row.id for row, _ in sent[1:]]
        self.used_token = used_token
        self.users = users
        self.objects: dict[str, object] = {}
        self.spares: dict[str, list] = {}
        self._populate()

    def headers(self, who: str, *, workspace: bool = True) -> dict:
        headers = {**ORIGIN, "Cookie": f"{COOKIE_NAME}={self.cookies[who]}"}
        if workspace:
            headers["X-Workspace"] = str(self.workspace_id)
        return headers

    def call(self, method: str, url: str, **kwargs):
        return self.api.request(method, url, **kwargs)

    def send(self, method: str, path: str, who: str, headers: dict, *, spare: bool = False):
        """`path` (a route's template) with this team's objects (a spare one to delete), and a body that fits."""
        return self.call(method, self.url(path, who, spare=spare), headers=headers, **self.body(method, path))

    def _post(self, path: str, **kwargs) -> dict:
        return ok(self.call("POST", API_PREFIX + path, headers=self.headers("owner"), **kwargs), 200, 201, 202)

    def _populate(self) -> None:
        files = [("files", (f"photo-{i}.jpg", images.jpeg(96, 64, seed=i), "image/jpeg")) for i in range(SPARES + 1)]
        assets = [a["id"] for a in self._post("/assets", files=files)["assets"]]
        run_jobs()
        collections = [self._post("/collections", json={"name": f"Shelf {i}"})["id"] for i in range(SPARES + 1)]
        self._post(f"/collections/{collections[0]}/assets", json={"asset_ids": assets[:1]})
        batch = self._post("/rename/batches", json={"asset_ids": assets[:1], "options": {"ocr": False}})
        generation = self._post("/images/generations", json={"prompt": "a calm forest morning", "size": "256x256",
                                                              "n": 4})
        run = self._post("/workflows/rotate_flip/runs", json={"asset_ids": assets[:1], "params": {"angle": 90}})
        recipe = {"steps": [{"id": "fit", "op": "resize", "params": {"width": 40, "height": 40, "fit": "cover"}}]}
        recipes = [self._post("/recipes", json={"name": f"Thumbs {i}", **recipe})["id"] for i in range(SPARES + 1)]
        decks = [self._post("/slides", json={"topic": f"Solar for schools {i}", "slides": 3})["id"]
                 for i in range(SPARES + 1)]
        version = self._post(f"/slides/{decks[0]}/versions", json={"note": "walk"})["number"]
        run_jobs()
        # A slide template saved from the first deck (it has a thumbnail), its version 1 approved and active as
        # the review service leaves it; sample sets and spare templates to delete.
        template = self._post("/templates/from-deck", json={"deck_id": decks[0], "name": "Walk template"})["id"]
        with session_scope() as session:
            first = session.exec(select(TemplateVersion).where(TemplateVersion.template_id == template)).one()
            first.status = "approved"
            row = session.get(Template, template)
            row.active_version_id = first.id
            session.add_all([first, row])
            # A public picture link of that version (revoking is idempotent: every allowed role revokes it).
            link = ImageLink(workspace_id=self.workspace_id, asset_id=assets[0], template_id=template,
                             template_version_id=first.id, purpose="approved", token_hash="0" * 64)
            session.add(link)
            session.flush()
            link_id = link.id
        samples = [self._post(f"/templates/{template}/samples", json={"name": f"Sample {i}", "data": {}})["id"]
                   for i in range(SPARES + 1)]
        templates = [template] + [self._post("/templates", json={"kind": "email", "name": f"Spare {i}"})["id"]
                                  for i in range(SPARES)]
        owner = self.headers("owner")
        batch_body = ok(self.api.get(f"{API_PREFIX}/rename/batches/{batch['id']}", headers=owner), 200)
        images_ = [i["id"] for i in ok(self.api.get(f"{API_PREFIX}/images", headers=owner), 200)["images"]]
        assert len(images_) == 4, images_
        deck = ok(self.api.get(f"{API_PREFIX}/slides/{decks[0]}", headers=owner), 200)
        self.objects = {
            "asset_id": assets[0], "collection_id": collections[0], "batch_id": batch["id"],
            "item_id": batch_body["items"][0]["id"], "generation_id": generation["id"], "image_id": images_[0],
            "op_id": "rotate_flip", "run_id": run["id"], "recipe_id": recipes[0], "deck_id": decks[0],
            "slide_id": deck["outline"]["slides"][0]["id"], "number": version, "job_id": batch["job_id"],
            "workspace_id": self.workspace_id, "invitation_id": self.invitations[0], "token": self.used_token,
            # A spare member (site admin routes refuse before they look at it).
            "user_id": self.members[0], "connection_id": 1, "key": "x", "term_id": 1,
            # Site admin billing routes (refused before they look): the free plan, a pack that need not exist.
            "plan_id": 1, "pack_id": 1, "template_id": template, "sample_id": samples[0], "link_id": link_id,
        }
        self.spares = {"asset_id": assets[1:], "collection_id": collections[1:], "image_id": images_[1:],
                       "recipe_id": recipes[1:], "deck_id": decks[1:], "user_id": self.members[1:],
                       "invitation_id": self.invitations[1:], "template_id": templates[1:],
                       "sample_id": samples[1:]}
        # Valid bodies where an empty one would be refused (422) before the object is looked up.
        ids = {"asset_ids": assets[:1]}
        self.bodies = {
            ("PATCH", "/collections/{collection_id}"): {"name": "Renamed shelf"},
            ("POST", "/collections/{collection_id}/assets"): ids,
            ("DELETE", "/collections/{collection_id}/assets"): ids,
            ("PATCH", "/images/{image_id}"): {"favourite": True},
            ("PUT", "/recipes/{recipe_id}"): {"name": "Thumbs 0", **recipe},
            ("POST", "/recipes/{recipe_id}/runs"): ids,
            ("PUT", "/slides/{deck_id}/outline"): deck["outline"],
            ("PATCH", "/workspaces/{workspace_id}/members/{user_id}"): {"role": "viewer"},
            ("PUT", "/billing/budget"): {"monthly_cap": 1000, "low_balance_thresholds": "50"},
            ("POST", "/templates"): {"kind": "email", "name": "Walk"},
            ("POST", "/templates/from-deck"): {"deck_id": decks[0]},
            ("POST", "/templates/{template_id}/versions"): {"content": {}, "base_number": 1},
            ("POST", "/templates/{template_id}/samples"): {"name": "Walk"},
            ("POST", "/templates/{template_id}/test-sends"): {"recipients": ["walk@example.com"]},
            ("POST", "/templates/{template_id}/reviews"): {"number": 1},
            ("POST", "/templates/{template_id}/reviews/{number}/approve"): {"revision": 0},
            ("POST", "/templates/{template_id}/reviews/{number}/reject"): {"revision": 0, "reason": "walk"},
            ("POST", "/templates/{template_id}/activate"): {"number": 1},
            ("POST", "/templates/{template_id}/comments"): {"number": 1, "body": "walk @owner"},
            ("PUT", "/workspaces/{workspace_id}/approval-workflow"): {"stages": [{"name": "Copy"}]},
            ("POST", "/templates/{template_id}/alt-text"): {"version": 1, "src": "x", "alt": "y", "base_number": 1},
        }

    def body(self, method: str, path: str) -> dict:
        if method not in ("POST", "PUT", "PATCH", "DELETE"):
            return {}
        return {"json": self.bodies.get((method, path), {})}

    def url(self, path: str, who: str, *, spare: bool = False) -> str:
        def value(match: re.Match) -> str:
            name = match.group(1)
            if name == "token_id":
                return str(self.tokens[who])
            if name == "identity_id":
                return str(self.identities[who])
            if spare and name in self.spares and path.endswith("{" + name + "}"):
                return str(self.spares[name].pop())
            return str(self.objects[name])

        return API_PREFIX + re.sub(r"\{(\w+)\}", value, path)


@pytest.fixture
def billing_on(env, monkeypatch):
    """Stripe configured (a fake on loopback): the billing routes answer instead of 404 `billing_off`."""
    from tests.integration.billing_helpers import configured_stripe

    yield from configured_stripe(monkeypatch)


def test_every_route_for_every_role(api, env, billing_on):
    team = Team(api)
    failures: list[str] = []

    def expect(label: str, response, allowed: bool | int, code: str = "") -> None:
        status = response.status_code
        if isinstance(allowed, bool) and allowed:
            # A read of an object that exists succeeds; a write may still refuse its body (422) or state (409).
            good = status < 300 if response.request.method == "GET" else status < 500 and status not in (401, 403, 404)
        elif isinstance(allowed, bool):
            good = status == 403 and (not code or response.json()["error"]["code"] == code)
        else:
            good = status == allowed
        if not good:
            failures.append(f"{label}: {status} {response.text[:160]}")

    for method, path, route in api_routes():
        if (method, path) in PUBLIC or (method, path) in LEAVES:
            continue
        action = declared_action(route)
        label = f"{method} {path}"
        expect(f"{label} anonymous", team.send(method, path, "owner", ORIGIN),
               401)
        for role in permissions.ROLES:
            if action is None:  # a site admin route: the site role decides, and no one here is a site admin
                expect(f"{label} as {role}", team.send(method, path, role, team.headers(role)), False, "forbidden")
                continue
            allowed = permissions.allowed(role, action)
            response = team.send(method, path, role, team.headers(role), spare=allowed and method == "DELETE")
            expect(f"{label} as {role} ({action})", response, allowed, "role_forbidden")
        if action is None or action.startswith("account."):
            continue  # not the workspace's: the caller's own account
        # From outside: naming the workspace, or reaching for its objects from one's own.
        expect(f"{label} by a non-member naming the workspace",
               team.send(method, path, "outsider", team.headers("outsider")),
               404)
        if OBJECT_PARAMS & set(re.findall(r"\{(\w+)\}", path)):
            expect(f"{label} by a non-member in their own workspace",
                   team.send(method, path, "outsider", team.headers("outsider", workspace=False)), 404)
    assert not failures, "\n".join(failures)


def test_token_scopes_for_every_route(api, env, billing_on):
    team = Team(api)
    failures: list[str] = []
    made = {}
    for scopes in (["read"], ["read", "rename:write"]):
        created = team.call("POST", f"{API_PREFIX}/tokens", headers=team.headers("owner"), json={
            "name": " ".join(scopes), "scopes": scopes, "workspace_id": team.workspace_id})
        body = ok(created, 201)
        assert body["scopes"] == scopes and body["workspace_id"] == team.workspace_id
        made[tuple(scopes)] = body["token"]
    for scopes, secret in made.items():
        headers = {"Authorization": f"Bearer {secret}"}
        for method, path, route in api_routes():
            action = declared_action(route)
            if action is None:
                continue
            # The owner's role allows everything: the token's scopes alone decide.
            allowed = permissions.scope_allows(scopes, action)
            response = team.send(method, path, "owner", headers, spare=allowed and method == "DELETE")
            status = response.status_code
            if allowed and (status in (401, 403, 404) or status >= 500):
                failures.append(f"{scopes} {method} {path}: {status} {response.text[:160]}")
            if not allowed and (status != 403 or response.json()["error"]["code"] != "insufficient_scope"):
                failures.append(f"{scopes} {method} {path} should be insufficient_scope: {status}")
    assert not failures, "\n".join(failures)
    # A read token reads; a rename token renames and nothing else.
    read, rename = made[("read",)], made[("read", "rename:write")]
    assert api.get(f"{API_PREFIX}/assets", headers={"Authorization": f"Bearer {read}"}).status_code == 200
    refused = api.post(f"{API_PREFIX}/collections", json={"name": "x"}, headers={"Authorization": f"Bearer {rename}"})
    assert refused.status_code == 403 and "assets:write" in refused.json()["error"]["message"]
