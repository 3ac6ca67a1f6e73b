"""The Assets page's library handlers, driven as the websocket drives them: the search in the URL, select
all matching (the search, not the page), shift-click ranges, bulk actions with Undo, and refusals."""

import types
from urllib.parse import parse_qs, urlsplit

from sqlmodel import select

from app.db import session_scope
from app.models import Asset, AssetTag
from app.services.auth.sessions import COOKIE_NAME
from app.services.library.search import SearchQuery
from state.library import LibraryState
from tests import images
from tests.integration.test_api_auth import login, register
from tests.integration.test_rename import run_jobs, upload
from tests.integration.test_state_guards import FakeState

PRIVATE = ("_query", "_show", "_url", "_sync_url", "_reload", "_show_grid", "_research", "_ids", "_bulk", "_set_menus")


def library(cookie: str, params: dict | None = None) -> FakeState:
    """A stand-in for LibraryState with its fields at their defaults and its private helpers bound."""
    fake = FakeState(cookie)
    fake.router.url.query_parameters = params or {}
    fields = LibraryState.get_fields()
    for name in LibraryState.base_vars:
        field = fields[name]
        setattr(fake, name, field.default_factory() if callable(field.default_factory) else field.default)
    for name in PRIVATE:
        setattr(fake, name, types.MethodType(getattr(LibraryState, name), fake))
    return fake


def handler(name):
    return LibraryState.event_handlers[name].fn


def signed_in_with(api, names):
    register(api)
    login(api)
    found = upload(api, [(n, images.jpeg(120, 80, seed=i), "image/jpeg") for i, n in enumerate(names)])
    run_jobs()
    return f"{COOKIE_NAME}={api.cookies.get(COOKIE_NAME)}", {a["filename"]: a["id"] for a in found}


def first(values):
    return values[0] if isinstance(values, list) else values


async def test_the_url_and_the_search_round_trip(api, env):
    cookie, _ = signed_in_with(api, ["a.jpg"])
    wanted = SearchQuery(q="sunset", tags=["beach"], origin=["upload"], sort="name", order="asc")
    params = wanted.to_params()
    fake = library(cookie, {k: first(v) for k, v in params.items()})  # what a shared link carries
    await handler("load_page")(fake)
    assert (fake.q, fake.tags, fake.origin, fake.sort, fake.order) == ("sunset", ["beach"], "upload", "name", "asc")
    assert fake._query().to_params() == params
    url = urlsplit(fake._url())
    assert url.path == "/assets" and parse_qs(url.query)["q"] == ["sunset"]
    # Typing changes the URL without a reload (history.replaceState), and clearing empties it.
    script = await handler("handle_search")(fake, "harbour")
    assert "replaceState" in str(script) and "harbour" in str(script)
    await handler("clear_filters")(fake)
    assert fake._url() == "/assets" and fake.tags == []


async def test_select_all_matching_takes_the_search_not_the_page(api, env, monkeypatch):
    monkeypatch.setattr("state.library.PAGE", 2)  # two cards on screen
    names = [f"beach-{i}.jpg" for i in range(5)] + ["forest-1.jpg", "forest-2.jpg"]
    cookie, ids = signed_in_with(api, names)
    fake = library(cookie)
    await handler("load_page")(fake)
    await handler("handle_search")(fake, "beach")
    assert fake.total == 5 and len(fake.cards) == 2
    await handler("select_all_matching")(fake)
    assert sorted(map(int, fake.selected)) == sorted(ids[n] for n in names[:5])


def test_shift_click_selects_the_range_in_grid_order():
    fake = library("")
    fake.cards = [{"id": str(i)} for i in (10, 11, 12, 13, 14)]
    click = handler("handle_tile_click")
    click(fake, "11", {})
    click(fake, "13", {"shift_key": True})
    assert fake.selected == ["11", "12", "13"]
    click(fake, "10", {"shift_key": True})  # back up from the last click
    assert sorted(fake.selected) == ["10", "11", "12", "13"]
    click(fake, "12", {})  # a plain click toggles one off
    assert sorted(fake.selected) == ["10", "11", "13"]


async def test_bulk_tag_collect_and_delete_with_undo(api, env):
    cookie, ids = signed_in_with(api, ["one.jpg", "two.jpg", "three.jpg"])
    fake = library(cookie)
    assert "load_menus" in str(await handler("load_page")(fake))  # the menus follow the grid
    await handler("load_menus")(fake)
    assert fake.known_tags == [] and fake.colours
    fake.selected = [str(ids["one.jpg"]), str(ids["two.jpg"])]
    await handler("add_tag")(fake, {"tag": "Client X"})
    assert fake.known_tags == ["client x"]  # a bulk action reads the menus again
    with session_scope() as session:
        assert sorted(session.exec(select(AssetTag.asset_id).where(AssetTag.tag == "client x")).all()) == \
            sorted([ids["one.jpg"], ids["two.jpg"]])
    await handler("add_to_new_collection")(fake, {"name": "Spring shoot"})
    assert [(c["name"], c["count"]) for c in fake.collections] == [("Spring shoot", "2")]
    await handler("show_collection")(fake, fake.collections[0]["id"])
    assert fake.total == 2
    toast = await handler("delete_selected")(fake)
    assert "Undo" in str(toast) and fake.total == 0 and fake.library_size == 1
    await handler("undo_delete")(fake)
    assert fake.total == 2 and fake.library_size == 3


async def test_send_to_rename_hands_over_every_selected_id(api, env):
    cookie, ids = signed_in_with(api, ["a.jpg", "b.jpg"])
    fake = library(cookie)
    rename = types.SimpleNamespace(chosen=[], _apply=lambda user: None)

    async def get_state(_cls):
        return rename  # stands for SessionState and RenameState both

    fake.get_state = get_state
    fake.selected = [str(i) for i in ids.values()] + ["not-an-id"]
    await handler("send_to_rename")(fake)
    assert sorted(map(int, rename.chosen)) == sorted(ids.values())


async def test_bulk_actions_refuse_signed_out_callers(api, env):
    _, ids = signed_in_with(api, ["mine.jpg"])
    for cookie in ("", f"{COOKIE_NAME}=forged"):
        fake = library(cookie)
        fake.selected = [str(i) for i in ids.values()]
        for name, args in (("add_tag", ({"tag": "stolen"},)), ("delete_selected", ()), ("undo_delete", ()),
                           ("select_all_matching", ()), ("add_to_new_collection", ({"name": "x"},)),
                           ("create_collection", ({"name": "x"},)), ("delete_collection", ("1",)),
                           ("download_zip", ()), ("send_to_rename", ()), ("send_to_workflow", ()),
                           ("load_page", ()), ("handle_search", ("mine",)), ("load_menus", ())):
            result = await handler(name)(fake, *args)
            assert "signin" in str(result), name
        assert fake.cards == []
    with session_scope() as session:
        assert session.exec(select(AssetTag)).all() == []
        assert all(a.deleted_at is None for a in session.exec(select(Asset)).all())


async def test_a_link_that_cannot_be_read_shows_the_whole_library(api, env):
    cookie, _ = signed_in_with(api, ["a.jpg", "b.jpg"])
    fake = library(cookie, {"sort": "colourfulness", "q": "a"})
    toast = await handler("load_page")(fake)
    assert "could not be read" in str(toast) and fake.q == "" and fake.total == 2
