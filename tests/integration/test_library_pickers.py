"""The pickers on Rename and Workflows search the library like the Assets page: workflow outputs stay out
unless the switch is on, and All takes every match of the search, not only the tiles shown."""

import types

from app.db import session_scope
from app.models import Asset
from state.rename import RenameState
from state.workflows import WorkflowsState
from tests.integration.test_library_page import signed_in_with
from tests.integration.test_state_guards import FakeState


def picker(state_cls, cookie: str, private: tuple[str, ...]) -> FakeState:
    fake = FakeState(cookie)
    fields = state_cls.get_fields()
    for name in state_cls.base_vars:
        field = fields[name]
        setattr(fake, name, field.default_factory() if callable(field.default_factory) else field.default)
    for name in private:
        setattr(fake, name, types.MethodType(getattr(state_cls, name), fake))
    return fake


def made_by_a_workflow(asset_id: int, source: int) -> None:
    with session_scope() as session:
        asset = session.get(Asset, asset_id)
        asset.origin, asset.source_asset_id = "workflow", source
        session.add(asset)


async def test_rename_picker_searches_and_all_takes_every_match(api, env, monkeypatch):
    names = [f"harbour-{i}.jpg" for i in range(4)] + ["forest.jpg", "harbour-resized.jpg"]
    cookie, ids = signed_in_with(api, names)
    made_by_a_workflow(ids["harbour-resized.jpg"], ids["harbour-0.jpg"])
    monkeypatch.setattr("state.rename.LIBRARY_PAGE", 2)  # two tiles on screen
    fake = picker(RenameState, cookie, ("_load_lists",))
    handlers = RenameState.event_handlers
    await handlers["search_library"].fn(fake, "harbour")
    assert fake.library_total == "4" and len(fake.library) == 2  # the resized copy is left out
    assert all(tile["filename"] for tile in fake.library)  # names shown under the thumbnails
    await handlers["choose_all"].fn(fake)
    assert sorted(map(int, fake.chosen)) == sorted(ids[f"harbour-{i}.jpg"] for i in range(4))
    await handlers["set_include_derived"].fn(fake, True)
    assert fake.library_total == "5"
    await handlers["choose_all"].fn(fake)
    assert str(ids["harbour-resized.jpg"]) in fake.chosen and str(ids["forest.jpg"]) not in fake.chosen


async def test_workflows_picker_keeps_a_selection_sent_from_the_library(api, env):
    cookie, ids = signed_in_with(api, ["a.jpg", "b.jpg", "c.jpg"])
    fake = picker(WorkflowsState, cookie, ("_reload_library",))
    fake.chosen = [str(ids["a.jpg"]), str(ids["c.jpg"])]  # what "Send to a workflow" handed over
    await WorkflowsState.event_handlers["search_library"].fn(fake, "b")
    assert [t["name"] for t in fake.library] == ["b.jpg"]
    assert fake.chosen == [str(ids["a.jpg"]), str(ids["c.jpg"])]
    await WorkflowsState.event_handlers["choose_all"].fn(fake)
    assert fake.chosen == [str(ids["b.jpg"])]
