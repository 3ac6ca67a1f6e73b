"""A picture's page, driven as the websocket drives it: its facts, lineage and uses; editing name, alt text and
tags through the library service; someone else's picture answers as missing."""

import types

from app import routes
from app.db import session_scope
from app.models import Asset
from app.services.library import collections
from state.asset_detail import AssetDetailState
from state.handoff import HandoffState
from state.library import LibraryState
from tests.integration.test_api_auth import ORIGIN
from tests.integration.test_library_page import library, signed_in_with
from tests.integration.test_state_guards import FakeState


def detail(cookie: str, asset_id) -> FakeState:
    fake = FakeState(cookie)
    fake.router.url.path = f"/assets/{asset_id}"
    fields = AssetDetailState.get_fields()
    for name in [*AssetDetailState.base_vars, "_base", "_theirs"]:
        field = fields[name]
        setattr(fake, name, field.default_factory() if callable(field.default_factory) else field.default)
    for name in ("_asset_id", "_load", "_changes"):
        setattr(fake, name, types.MethodType(getattr(AssetDetailState, name), fake))
    return fake


def handler(name):
    return AssetDetailState.event_handlers[name].fn


async def test_the_page_shows_edits_and_lineage(api, env):
    cookie, ids = signed_in_with(api, ["DSC_0001.jpg", "DSC_0002.jpg"])
    source, output = ids["DSC_0001.jpg"], ids["DSC_0002.jpg"]
    with session_scope() as session:  # the second was made from the first by a workflow
        made = session.get(Asset, output)
        made.origin, made.source_asset_id = "workflow", source
        session.add(made)
        owner = made.workspace_id
    shoot = collections.create(workspace_id=owner, name="Client shoot")
    collections.add_assets(workspace_id=owner, collection_id=shoot.id, asset_ids=[source])
    fake = detail(cookie, source)
    await handler("load_page")(fake)
    assert fake.picture["filename"] == "DSC_0001.jpg" and fake.picture["origin"] == "Uploaded"
    assert [c["id"] for c in fake.outputs] == [str(output)] and fake.sources == []
    assert [c["name"] for c in fake.in_collections] == ["Client shoot"]
    toast = await handler("save_details")(fake, {"filename": "harbour-dawn.jpg", "alt_text": "Boats at dawn",
                                                 "tags": "Harbour, dawn , "})
    assert "Saved" in str(toast)
    assert fake.picture["filename"] == "harbour-dawn.jpg" and fake.picture["alt_text"] == "Boats at dawn"
    assert sorted(fake.tag_list) == ["dawn", "harbour"] and fake.tag_links[0]["href"].startswith("/assets?tag=")
    other = detail(cookie, output)
    await handler("load_page")(other)
    assert [c["id"] for c in other.sources] == [str(source)] and other.picture["origin"] == "Made by a workflow"


async def test_another_users_picture_is_missing(api, env):
    cookie, ids = signed_in_with(api, ["mine.jpg"])
    fake = detail(cookie, ids["mine.jpg"] + 100)
    await handler("load_page")(fake)
    assert fake.missing and fake.picture == {}
    fake = detail(cookie, "not-a-number")
    await handler("load_page")(fake)
    assert fake.missing


async def test_delete_from_the_page_can_be_undone_on_the_library(api, env):
    cookie, ids = signed_in_with(api, ["gone.jpg"])
    fake = detail(cookie, ids["gone.jpg"])
    handoff = HandoffState(_reflex_internal_init=True)
    shared = types.SimpleNamespace(_apply=lambda user: None)

    async def get_state(cls):
        return handoff if cls is HandoffState else shared

    fake.get_state = get_state
    await handler("load_page")(fake)
    events = await handler("delete_picture")(fake)
    assert routes.ASSETS in str(events)
    with session_scope() as session:
        assert session.get(Asset, ids["gone.jpg"]).deleted_at is not None
    # The Assets page it lands on offers the Undo (the handoff), and the Undo brings the picture back.
    grid = library(cookie)
    grid.get_state = get_state
    events = await LibraryState.event_handlers["load_page"].fn(grid)
    assert "Undo" in str(events) and grid.last_deleted == [str(ids["gone.jpg"])]
    await LibraryState.event_handlers["undo_delete"].fn(grid)
    with session_scope() as session:
        assert session.get(Asset, ids["gone.jpg"]).deleted_at is None
    assert handoff.take_deleted() == []  # taken once: a later visit offers nothing


async def test_a_second_tab_saves_only_what_it_changed(api, env):
    cookie, ids = signed_in_with(api, ["cat.jpg"])
    tab_a, tab_b = detail(cookie, ids["cat.jpg"]), detail(cookie, ids["cat.jpg"])
    await handler("load_page")(tab_a)
    await handler("load_page")(tab_b)
    toast = await handler("save_details")(tab_a, {"filename": "coffee-table.jpg", "alt_text": "A cat up close",
                                                  "tags": ""})
    assert "Saved" in str(toast)
    # Tab B still shows the old name and no alt text; its person changes only the tags.
    toast = await handler("save_details")(tab_b, {"filename": "cat.jpg", "alt_text": "", "tags": "cat, pet"})
    assert "Saved" in str(toast)
    with session_scope() as session:
        asset = session.get(Asset, ids["cat.jpg"])
        assert (asset.filename, asset.alt_text) == ("coffee-table.jpg", "A cat up close")
    assert tab_b.picture["filename"] == "coffee-table.jpg" and tab_b.tag_list == ["cat", "pet"]


async def test_a_field_changed_in_another_tab_is_not_overwritten_without_asking(api, env):
    cookie, ids = signed_in_with(api, ["cat.jpg"])
    tab_a, tab_b = detail(cookie, ids["cat.jpg"]), detail(cookie, ids["cat.jpg"])
    await handler("load_page")(tab_a)
    await handler("load_page")(tab_b)
    await handler("save_details")(tab_a, {"filename": "cat.jpg", "alt_text": "A cat up close", "tags": ""})
    version = tab_b.form_version
    mine = {"filename": "cat.jpg", "alt_text": "Tabby on a sofa", "tags": "cat"}
    assert await handler("save_details")(tab_b, mine) is None
    with session_scope() as session:  # nothing of B's save landed, not even its tags
        assert session.get(Asset, ids["cat.jpg"]).alt_text == "A cat up close"
    assert tab_b.conflict == [{"label": "Alt text", "now": "A cat up close"}]
    assert tab_b.form_version == version  # the form is not remounted: B's typing stays in it
    # B chooses to save theirs over it (the button submits the form again).
    assert "requestSubmit" in str(await handler("save_mine_over")(tab_b))
    assert tab_b.conflict == []
    assert "Saved" in str(await handler("save_details")(tab_b, mine))
    assert (tab_b.picture["alt_text"], tab_b.tag_list) == ("Tabby on a sofa", ["cat"])
    # A, still showing its own text, edits the alt text again: a conflict; A reloads instead.
    await handler("save_details")(tab_a, {"filename": "cat.jpg", "alt_text": "A cat", "tags": ""})
    assert tab_a.conflict == [{"label": "Alt text", "now": "Tabby on a sofa"}]
    await handler("reload_picture")(tab_a)
    assert tab_a.conflict == [] and tab_a.picture["alt_text"] == "Tabby on a sofa" and tab_a.tag_list == ["cat"]
    with session_scope() as session:
        assert session.get(Asset, ids["cat.jpg"]).alt_text == "Tabby on a sofa"


async def test_an_empty_file_name_is_refused_and_nothing_is_saved(api, env):
    cookie, ids = signed_in_with(api, ["cat.jpg"])
    fake = detail(cookie, ids["cat.jpg"])
    await handler("load_page")(fake)
    for blank in ("", "   ", ".jpg"):
        toast = await handler("save_details")(fake, {"filename": blank, "alt_text": "A cat", "tags": "pet"})
        assert "A file name can't be empty" in str(toast) and "Saved" not in str(toast)
    with session_scope() as session:
        asset = session.get(Asset, ids["cat.jpg"])
        assert (asset.filename, asset.alt_text) == ("cat.jpg", "")
    assert fake.picture["filename"] == "cat.jpg"


async def test_saving_a_picture_deleted_in_another_tab_says_what_happened(api, env):
    cookie, ids = signed_in_with(api, ["cat.jpg"])
    tab = detail(cookie, ids["cat.jpg"])
    await handler("load_page")(tab)
    assert api.delete(f"/api/v1/assets/{ids['cat.jpg']}", headers=ORIGIN).status_code == 204
    toast = await handler("save_details")(tab, {"filename": "cat.jpg", "alt_text": "A cat up close", "tags": ""})
    assert "it may have been deleted" in str(toast)
