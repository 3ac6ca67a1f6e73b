"""The email editor's library pictures driven as the websocket drives them: Insert picture offers the workspace's
pictures and puts the tag (with the library's alt text) into the source and the preview; another workspace's
picture is refused; the Picture links list shows a link and revokes it."""

from __future__ import annotations

import types

import pytest
from rq import SimpleWorker
from sqlmodel import select

from app.db import session_scope
from app.models import Asset, ImageLink, TemplateVersion
from app.queue import get_queue
from app.redis_client import get_redis
from app.services.templates import approvals, reviews
from state.template_editor import TemplateEditorState
from state.template_pictures import TemplatePicturesState
from tests import images
from tests.integration.test_template_pages import editor, fake_of, new_email, run, signed_in

PICTURE_HELPERS = ("_editor", "_load_picker", "_load_links")


def upload(api, cookie: str, name: str, alt: str) -> int:
    files = [("files", (name, images.jpeg(240, 160, seed=len(name)), "image/jpeg"))]
    made = api.post("/api/v1/assets", files=files, headers={"Cookie": cookie, "Origin": "http://localhost:3000"})
    assert made.status_code == 201, made.text
    SimpleWorker([get_queue("assets"), get_queue("default")], connection=get_redis()).work(burst=True)
    asset_id = made.json()["assets"][0]["id"]
    with session_scope() as session:
        asset = session.get(Asset, asset_id)
        asset.alt_text = alt
        session.add(asset)
    return asset_id


def pictures_of(cookie: str, template_id: int, page) -> object:
    fake = fake_of(TemplatePicturesState, cookie, f"/templates/{template_id}", PICTURE_HELPERS)
    session_state = types.SimpleNamespace(_apply=lambda user: None)

    async def get_state(cls):
        return page if cls is TemplateEditorState else session_state

    fake.get_state = get_state
    return fake


@pytest.fixture
def people(api, any_db):
    return signed_in("ada@example.com"), signed_in("grace@example.com")


async def test_insert_picture_and_revoke_its_link_from_the_page(api, people):
    (cookie, actor), (other_cookie, _) = people
    mine = upload(api, cookie, "harbor.jpg", "Boats in the harbor")
    foreign = upload(api, other_cookie, "secret.jpg", "Not yours")
    template_id = new_email(actor)
    page = editor(cookie, template_id)
    page._put_source = types.MethodType(TemplateEditorState._put_source, page)  # the picker's way into the editor
    await run(TemplateEditorState, "load_page", page)
    pictures = pictures_of(cookie, template_id, page)

    await run(TemplatePicturesState, "open_picker", pictures)
    assert pictures.picker_open and [p["name"] for p in pictures.picker] == ["harbor.jpg"]  # not Grace's
    before = page.source
    refused = await run(TemplatePicturesState, "pick_picture", pictures, str(foreign))
    assert "That picture is not in this workspace" in str(refused) and page.source == before and not page.dirty
    toast = await run(TemplatePicturesState, "pick_picture", pictures, str(mine))
    tag = f'<mj-image src="/api/v1/assets/{mine}/download" alt="Boats in the harbor" />'
    assert "Picture added" in str(toast) and not pictures.picker_open
    assert tag in page.source and page.source.index(tag) < page.source.rindex("</mj-column>") and page.dirty
    assert f'src="/api/v1/assets/{mine}/download"' in page.preview_html and page.preview_error == ""
    await run(TemplateEditorState, "save", page, {"click_key": page.click_key, "note": "Picture"})
    assert page.base_number == 2

    await run(TemplatePicturesState, "load_links", pictures)
    assert pictures.links_loaded and pictures.links == []
    with session_scope() as session:
        version = session.exec(select(TemplateVersion).where(TemplateVersion.template_id == template_id,
                                                             TemplateVersion.number == 2)).one()
        version.status = approvals.APPROVED
        session.add(version)
    with session_scope() as session:
        reviews.activate(session=session, actor=actor, template_id=template_id, number=2)
    await run(TemplatePicturesState, "load_links", pictures)
    (row,) = pictures.links
    assert row["filename"] == "harbor.jpg" and row["status"] == "Live" and row["purpose"] == "Approved version"
    toast = await run(TemplatePicturesState, "revoke", pictures, row["id"])
    assert "revoked" in str(toast).lower() and pictures.links[0]["status"] == "Revoked"
    with session_scope() as session:
        assert session.exec(select(ImageLink)).one().revoked_by == actor.id
