"""Library pictures in emails that leave: signed public links made only for approved versions and test sends,
found by the token's hash, revoked by a person (the REST API, role-checked) or by deleting the picture, never for
another workspace's picture; served without sign-in, sized, cached, rate-limited. SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from PIL import Image
from rq import SimpleWorker
from sqlmodel import select

from app.db import session_scope
from app.errors import Forbidden, NotFound
from app.models import Asset, AuditEvent, ImageLink, OutboxEmail, Template, TemplateVersion
from app.queue import get_queue
from app.redis_client import get_redis
from app.services import mail
from app.services.library.bulk import bulk
from app.services.templates import approvals, image_links, pictures, reviews
from tests import images
from tests.conftest import clear_caches
from tests.integration.templates_helpers import EMAIL, Team, headers, make
from tests.integration.test_api_limits import client, configure, stack  # noqa: F401  (the fixture)

API = "/api/v1/templates"
SITE = "http://studio.example.com"  # http: the helpers sign in with the plain cookie name


@pytest.fixture
def team(api, any_db, monkeypatch):
    monkeypatch.setenv("PUBLIC_URL", SITE)
    monkeypatch.setenv("ALLOWED_ORIGINS", "http://localhost:3000")  # the test client's pages
    clear_caches()
    return Team()


def upload(api, who, *, name="harbor.jpg", data=None, alt="") -> int:
    files = [("files", (name, data or images.jpeg(320, 200, seed=3), "image/jpeg"))]
    response = api.post("/api/v1/assets", files=files, headers=who)
    assert response.status_code == 201, response.text
    SimpleWorker([get_queue("assets"), get_queue("default")], connection=get_redis()).work(burst=True)
    asset_id = response.json()["assets"][0]["id"]
    if alt:
        with session_scope() as session:
            asset = session.get(Asset, asset_id)
            asset.alt_text = alt
            session.add(asset)
    return asset_id


def with_tag(tag: str) -> dict:
    """The helpers' email with the tag before its button, and no required variable (exports take no data)."""
    schema = {**EMAIL["schema"], "required": [], "properties": dict(EMAIL["schema"]["properties"])}
    return {"schema": schema,
            "source": EMAIL["source"].replace("        <mj-button", f"        {tag}\n        <mj-button")}


def picture_template(team, asset_id: int, alt: str = "Boats in the harbor") -> int:
    return make(team.actor("editor"), content=with_tag(pictures.image_tag(asset_id, alt)))


def go_live(team, template_id: int, number: int = 1) -> None:
    """Approved (as the last review stage leaves it) and made active through the review service."""
    with session_scope() as session:
        version = session.exec(select(TemplateVersion).where(TemplateVersion.template_id == template_id,
                                                             TemplateVersion.number == number)).one()
        version.status = approvals.APPROVED
        session.add(version)
    with session_scope() as session:
        reviews.activate(session=session, actor=team.actor("admin"), template_id=template_id, number=number)


def links() -> list[ImageLink]:
    with session_scope() as session:
        return list(session.exec(select(ImageLink).order_by(ImageLink.id)))


def render(api, template_id, who, **body):
    return api.post(f"{API}/{template_id}/render", json={"variables": {"order_id": "A-1"}, **body}, headers=who)


def public_path(html: str) -> str:
    start = html.index(SITE + "/api/v1/public/images/")
    return html[start + len(SITE):html.index('"', start)]


def test_links_are_made_only_for_an_approved_version_and_found_by_the_token_hash(api, team):
    editor = headers(team, "editor")
    asset_id = upload(api, editor)
    template_id = picture_template(team, asset_id)
    member_src = f"/api/v1/assets/{asset_id}/download"

    preview = render(api, template_id, editor, preview=True)
    assert preview.status_code == 200 and member_src in preview.json()["html"]  # a draft keeps its address
    draft_export = api.get(f"{API}/{template_id}/export", params={"preview": "true"}, headers=editor)
    assert draft_export.status_code == 200
    assert render(api, template_id, editor).json()["error"]["code"] == "no_active_version"
    assert links() == []  # nothing public before approval

    go_live(team, template_id)
    made = links()
    assert len(made) == 1 and made[0].purpose == "approved" and made[0].asset_id == asset_id
    assert made[0].created_by == team.users["admin"].id and made[0].revoked_at is None

    body = render(api, template_id, editor).json()
    assert member_src not in body["html"] and "/api/v1/assets/" not in body["html"]
    assert body["size_bytes"] == len(body["html"].encode())  # the size of what is sent, public addresses included
    path = public_path(body["html"])
    token = path.rsplit("/", 1)[1]
    assert made[0].token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in made[0].token_hash
    assert token == image_links.token_for(workspace_id=team.workspace_id, asset_id=asset_id,
                                          template_version_id=made[0].template_version_id, purpose="approved")
    assert render(api, template_id, editor).json()["html"] == body["html"]  # the same address every time
    assert len(links()) == 1

    # No cookie, no header: what an email client sends.
    api.cookies.clear()
    served = api.get(path)
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert served.headers["cache-control"] == "public, max-age=3600"
    assert Image.open(io.BytesIO(served.content)).size == (320, 200)

    exported = api.get(f"{API}/{template_id}/export", headers=editor)
    assert exported.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(exported.content))
    html = archive.read(next(n for n in archive.namelist() if n.endswith(".html"))).decode()
    assert SITE + path in html and member_src not in html
    assert len(links()) == 1


def test_a_test_send_makes_its_own_link_for_the_draft_it_sends(api, team):
    editor = headers(team, "editor")
    asset_id = upload(api, editor)
    template_id = picture_template(team, asset_id)
    sent = api.post(f"{API}/{template_id}/test-sends", json={"recipients": ["copy@example.com"],
                                                             "variables": {"order_id": "A-1"}}, headers=editor)
    assert sent.status_code == 202, sent.text
    (link,) = links()
    assert link.purpose == "test_send" and link.created_by == team.users["editor"].id
    with session_scope() as session:
        outbox = session.exec(select(OutboxEmail)).one()
    html = mail.html_of(outbox.id)
    assert f"/api/v1/assets/{asset_id}/download" not in html
    assert api.get(public_path(html)).status_code == 200


def test_revoked_and_unknown_tokens_answer_the_same_404_and_the_version_cannot_leave_again(api, team):
    editor = headers(team, "editor")
    asset_id = upload(api, editor)
    template_id = picture_template(team, asset_id)
    go_live(team, template_id)
    path = public_path(render(api, template_id, editor).json()["html"])
    (link,) = links()

    listed = api.get(f"{API}/{template_id}/image-links", headers=editor)
    assert listed.status_code == 200
    (row,) = listed.json()["links"]
    assert row["filename"] == "harbor.jpg" and row["created_by_email"] == "admin@example.com" and row["active"]
    assert row["version"] == 1 and row["purpose"] == "approved"

    for role in ("viewer", "approver"):  # no templates.write: neither the list nor a revoke
        assert api.get(f"{API}/{template_id}/image-links", headers=headers(team, role)).status_code == 403
        refused = api.delete(f"{API}/{template_id}/image-links/{link.id}", headers=headers(team, role))
        assert refused.status_code == 403, refused.text
    outsider = api.delete(f"{API}/{template_id}/image-links/{link.id}", headers=headers(team, "outsider"))
    assert outsider.status_code == 404
    assert api.get(path).status_code == 200  # none of them ended it

    revoked = api.delete(f"{API}/{template_id}/image-links/{link.id}", headers=editor)
    assert revoked.status_code == 200 and not revoked.json()["active"]
    assert revoked.json()["revoked_reason"] == "revoked"
    gone = api.get(path)
    unknown = api.get("/api/v1/public/images/" + "A" * 43)
    malformed = api.get("/api/v1/public/images/not-a-token")
    assert gone.status_code == unknown.status_code == malformed.status_code == 404
    assert gone.json() == unknown.json() == malformed.json()
    refused = render(api, template_id, editor)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "image_link_revoked"
    assert "harbor.jpg" in refused.json()["error"]["message"]
    assert len(links()) == 1  # not made again
    with session_scope() as session:
        audit = session.exec(select(AuditEvent).where(AuditEvent.action == "template.image_link.revoked")).one()
        assert audit.actor_id == team.users["editor"].id


@pytest.mark.parametrize("how", ["delete", "library_delete"])
def test_deleting_the_picture_ends_its_links(api, team, how):
    editor = headers(team, "editor")
    asset_id = upload(api, editor)
    template_id = picture_template(team, asset_id)
    go_live(team, template_id)
    path = public_path(render(api, template_id, editor).json()["html"])
    assert api.get(path).status_code == 200
    if how == "delete":
        assert api.delete(f"/api/v1/assets/{asset_id}", headers=editor).status_code == 204
    else:  # the library's Delete (Undo for a while): the links end at once, and Undo does not bring them back
        bulk(workspace_id=team.workspace_id, action="delete", asset_ids=[asset_id])
        bulk(workspace_id=team.workspace_id, action="restore", asset_ids=[asset_id])
    assert api.get(path).status_code == 404
    (link,) = links()
    assert link.revoked_at is not None and link.revoked_reason == "asset_deleted"
    refused = render(api, template_id, editor)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == ("image_unavailable" if how == "delete" else "image_link_revoked")


def test_another_workspaces_picture_is_neither_inserted_nor_linked(api, team):
    foreign = upload(api, headers(team, "outsider"), name="secret.jpg", data=images.jpeg(200, 200, seed=9))
    editor = team.actor("editor")
    template = make(editor)
    with session_scope() as session, pytest.raises(NotFound):
        pictures.picture_tag(session=session, actor=editor, template_id=template, asset_id=foreign)
    template_id = picture_template(team, foreign)  # typed by hand into the source
    go_live(team, template_id)
    assert links() == []  # activation skips what is not the workspace's
    refused = render(api, template_id, headers(team, "editor"))
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "image_unavailable"
    assert links() == []


def test_a_picture_a_variable_brings_in_gets_no_link(api, team):
    editor = headers(team, "editor")
    shown, hidden = upload(api, editor), upload(api, editor, name="hidden.jpg", data=images.jpeg(100, 90, seed=5))
    content = with_tag(pictures.image_tag(shown, "Harbor"))
    content["source"] = content["source"].replace("Track it</mj-button>",
                                                  'Track it</mj-button>\n<mj-image src="{{ extra }}" alt="x" />')
    content["schema"]["properties"]["extra"] = {"type": "string", "default": ""}
    template_id = make(team.actor("editor"), content=content)
    go_live(team, template_id)
    refused = render(api, template_id, editor,
                     variables={"order_id": "A-1", "extra": f"/api/v1/assets/{hidden}/download"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "image_not_in_source"
    assert [link.asset_id for link in links()] == [shown]


def test_without_public_url_an_email_with_pictures_refuses_to_leave(api, team, monkeypatch):
    editor = headers(team, "editor")
    asset_id = upload(api, editor)
    template_id = picture_template(team, asset_id)
    go_live(team, template_id)
    monkeypatch.delenv("PUBLIC_URL")
    clear_caches()
    for response in (render(api, template_id, editor), api.get(f"{API}/{template_id}/export", headers=editor),
                     api.post(f"{API}/{template_id}/test-sends", json={"recipients": ["a@example.com"],
                                                                       "variables": {"order_id": "1"}},
                              headers=editor)):
        assert response.status_code == 409 and response.json()["error"]["code"] == "public_url_unset", response.text
        assert "PUBLIC_URL" in response.json()["error"]["message"]
    with session_scope() as session:
        assert session.exec(select(OutboxEmail)).all() == []
    plain = make(team.actor("editor"), name="No pictures")  # an email without library pictures still leaves
    go_live(team, plain)
    assert render(api, plain, editor).status_code == 200


def test_a_large_picture_is_served_as_a_capped_rendition(api, team):
    editor = headers(team, "editor")
    png = images.encode(images.photo(2400, 1000, seed=4), "PNG")
    files = [("files", ("wide.png", png, "image/png"))]
    asset_id = api.post("/api/v1/assets", files=files, headers=editor).json()["assets"][0]["id"]
    SimpleWorker([get_queue("assets"), get_queue("default")], connection=get_redis()).work(burst=True)
    template_id = picture_template(team, asset_id)
    go_live(team, template_id)
    path = public_path(render(api, template_id, editor).json()["html"])
    for _ in range(2):  # made once, then read from storage
        served = api.get(path)
        assert served.status_code == 200 and served.headers["content-type"] == "image/png"
        assert Image.open(io.BytesIO(served.content)).size == (1600, 667)


def test_the_picker_tag_carries_the_library_alt_text_and_the_checks_pass(api, team):
    editor = headers(team, "editor")
    asset_id = upload(api, editor, alt='Boats at "dusk" {{ not a variable }}')
    editor_actor, viewer_actor = team.actor("editor"), team.actor("viewer")
    template_id = make(editor_actor)
    with session_scope() as session:
        tag = pictures.picture_tag(session=session, actor=editor_actor, template_id=template_id, asset_id=asset_id)
        with pytest.raises(Forbidden):
            pictures.picture_tag(session=session, actor=viewer_actor, template_id=template_id, asset_id=asset_id)
    assert tag == (f'<mj-image src="/api/v1/assets/{asset_id}/download" '
                   'alt="Boats at &quot;dusk&quot; &#123;&#123; not a variable &#125;&#125;" />')
    source = pictures.insert_tag(EMAIL["source"], tag)
    saved = api.post(f"{API}/{template_id}/versions", headers=editor,
                     json={"content": {**EMAIL, "source": source}, "base_number": 1})
    assert saved.status_code == 201, saved.text
    checks = api.post(f"{API}/{template_id}/checks", json={"variables": {"order_id": "A-1"}}, headers=editor)
    by_key = {c["key"]: c for c in checks.json()["checks"]}
    assert by_key["images_alt"]["ok"] and by_key["moderation"]["ok"]
    assert by_key["links"]["ok"], by_key["links"]  # a member-only library address is not a broken link
    assert by_key["alt_proposals"]["proposals"] == []
    with session_scope() as session:
        assert session.get(Template, template_id).active_version_id is None


def test_the_public_route_is_rate_limited_per_address(stack, env, monkeypatch):  # noqa: F811
    configure(monkeypatch, api_rate_limit_anon="3/minute")
    email_client, another = client(stack, "203.0.113.20"), client(stack, "198.51.100.20")
    url = "/api/v1/public/images/" + "B" * 43
    assert [email_client.get(url).status_code for _ in range(3)] == [404] * 3
    refused = email_client.get(url)
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
    assert another.get(url).status_code == 404
