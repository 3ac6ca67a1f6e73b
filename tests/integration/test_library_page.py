"""The Assets page's library handlers, driven as the websocket drives them: the search in the URL, select
all matching (the search, not the page), shift-click ranges, bulk actions with Undo, and refusals."""

import types
from urllib.parse import parse_qs, urlsplit

from sqlmodel import select

from app import routes
from app.db import session_scope
from app.models import Asset, AssetTag
from app.services.auth.sessions import COOKIE_NAME, current_user
from app.services.library.search import SearchQuery
from components.library.grid import EAGER_TILES
from components.library.prefetch import PREFETCH_JS, THUMB_URL_JS
from state.handoff import HandoffState
from state.library import LibraryState
from tests import images
from tests.integration.test_api_auth import login, register
from tests.integration.test_rename import run_jobs, upload
from tests.integration.test_state_guards import FakeState

PRIVATE = ("_query", "_show", "_url", "_sync_url", "_reload", "_show_grid", "_research", "_ids", "_bulk", "_set_menus")


class RecordingState(FakeState):
    """A FakeState that lists the vars assigned once `recording` is set: each one is a delta the browser renders."""

    def __setattr__(self, name, value):
        if self.__dict__.get("recording") is not None and not name.startswith("_"):
            self.recording.append(name)
        super().__setattr__(name, value)


def library(cookie: str, params: dict | None = None, cls: type = FakeState) -> FakeState:
    """A stand-in for LibraryState with its fields at their defaults and its private helpers bound."""
    fake = cls(cookie)
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


async def test_the_head_script_prefetches_the_thumbnails_the_grid_then_shows(api, env):
    """components/library/prefetch.py asks the REST API for the page's first pictures with the page's own URL
    query; its thumbnail URLs must be the grid's, or the browser fetches every picture twice."""
    names = ["beach-1.jpg", "beach-2.jpg", "forest.jpg", "alpine.jpg"]
    cookie, _ = signed_in_with(api, names)
    assert f"limit={EAGER_TILES}" in PREFETCH_JS and f"!== '{routes.ASSETS}'" in PREFETCH_JS
    for query in ({}, {"q": "beach"}, {"sort": "name", "order": "asc"}):
        fake = library(cookie, query)
        await handler("load_page")(fake)
        search = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
        answer = api.get(routes.ASSETS_API + (search + "&" if search else "?") + f"limit={EAGER_TILES}")
        assert answer.status_code == 200
        prefetched = [THUMB_URL_JS.replace("${a.id}", str(a["id"])).replace("${a.status}", a["status"])
                      for a in answer.json()["assets"] if a["status"] == "ready"]
        assert prefetched and prefetched == [c["thumb"] for c in fake.cards[:EAGER_TILES]]


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
    # The menus follow the grid once the browser is idle (load_later, called back by the page's script); the
    # processing count and the job follower are chained on the server, whatever the client runs.
    later = str(await handler("load_page")(fake))
    assert "requestIdleCallback" in later and "load_later" in later and "load_menus" not in later
    assert "AssetsState.load_page" in later
    assert "load_menus" in str(handler("load_later")(fake))
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
    handoff = HandoffState(_reflex_internal_init=True)
    shared = types.SimpleNamespace(_apply=lambda user: None)

    async def get_state(cls):
        return handoff if cls is HandoffState else shared

    fake.get_state = get_state
    fake.selected = [str(i) for i in ids.values()] + ["not-an-id"]
    events = await handler("send_to_rename")(fake)
    assert routes.RENAME in str(events)
    assert handoff.take_chosen(routes.WORKFLOWS) == []  # meant for Rename only
    assert sorted(map(int, handoff.take_chosen(routes.RENAME))) == sorted(ids.values())


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


async def test_a_reload_assigns_only_what_changed(api, env):
    cookie, _ = signed_in_with(api, ["a.jpg", "b.jpg"])
    fake = library(cookie, cls=RecordingState)
    await handler("load_page")(fake)
    workspace_id = current_user(cookie.split("=", 1)[1]).workspace_id
    fake.recording = []
    fake._reload(workspace_id)
    assert fake.recording == []  # the upload follower's reload every few seconds sends nothing when nothing changed
    signed_in_with_more(api, ["c.jpg"])
    fake._reload(workspace_id)
    assert set(fake.recording) == {"cards", "total", "total_label", "library_size", "library_label"}
    assert len(fake.cards) == 3


def signed_in_with_more(api, names):
    upload(api, [(n, images.jpeg(120, 80, seed=9 + i), "image/jpeg") for i, n in enumerate(names)])
    run_jobs()


async def test_past_the_count_cap_the_library_says_so(api, env, monkeypatch):
    for module in ("app.services.library.search", "app.services.library.cards", "state.library"):
        monkeypatch.setattr(f"{module}.COUNT_CAP", 2)
    cookie, _ = signed_in_with(api, ["beach-1.jpg", "beach-2.jpg", "forest.jpg"])
    fake = library(cookie)
    await handler("load_page")(fake)
    assert (fake.total, fake.total_capped, fake.total_label) == (2, True, "2+")
    assert (fake.library_size, fake.library_label, len(fake.cards)) == (3, "2+", 3)
    await handler("handle_search")(fake, "forest")  # a search: the library's size is counted on its own
    assert (fake.total, fake.total_label, len(fake.cards)) == (1, "1", 1)
    assert (fake.library_size, fake.library_label) == (3, "2+")


def test_the_session_applied_again_unchanged_sends_nothing(api, env):
    from state.session import SessionState

    cookie, _ = signed_in_with(api, ["a.jpg"])
    user = current_user(cookie.split("=", 1)[1])
    shared = SessionState(_reflex_internal_init=True)
    shared._apply(user)
    assert shared.user_id == user.id and shared.workspaces and "user_id" in shared.dirty_vars
    shared.dirty_vars.clear()
    shared._apply(user)  # every page event does this: nothing changed, so no delta re-renders the shell
    assert shared.dirty_vars == set()
    shared._apply(None)
    assert {"user_id", "email", "workspaces", "workspace_id"} <= shared.dirty_vars and shared.user_id == 0
