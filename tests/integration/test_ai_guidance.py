"""What the pages say about AI: the admin's setup checklist on the dashboard (ticked by defaults, gone when
all are done) and, beside the pickers, whether any connection offers a capability."""

from __future__ import annotations

import pytest

from app.services.ai.connections import ConnectionInput, create_connection
from app.services.ai.defaults import DefaultInput, set_defaults
from state.ai_guide import AIGuideState
from state.dashboard import DashboardState
from tests.integration.test_admin_ai_page import cookie_for
from tests.integration.test_ai_connections import mark_tested
from tests.integration.test_state_guards import call


@pytest.fixture
def people(env):
    from tests.integration.test_accounts import register

    admin, member = register("ada@example.com"), register("grace@example.com")
    return admin, cookie_for(admin.id), cookie_for(member.id)


def connect(admin_id: int, preset: str, name: str, offers: list[tuple[str, list[str]]], **extra) -> int:
    row = create_connection(actor_id=admin_id, data=ConnectionInput(preset=preset, name=name, **extra))
    mark_tested(row.id, [{"id": model, "capabilities": caps} for model, caps in offers])
    return row.id


async def checklist(cookie: str) -> list[dict[str, str]]:
    fake, _ = await call(DashboardState, "load_page", (), cookie)
    return fake.setup


async def test_the_checklist_ticks_each_default_and_disappears_when_all_are_set(people):
    admin, admin_cookie, member_cookie = people
    items = await checklist(admin_cookie)
    assert [i["label"] for i in items] == [
        "Connect a vision model to name what is in photos",
        "Connect an image model for photographs and realistic renders",
        "Connect a text model to write slide text",
        "Connect a cut-out / upscale engine for workflows"]
    assert not any(i["done"] for i in items)
    assert await checklist(member_cookie) == []  # members never see it

    ollama = connect(admin.id, "ollama", "Ollama", [("llava:7b", ["vision", "text"])])
    # A tested connection is not enough: the item is done when the capability has a default.
    assert not any(i["done"] for i in await checklist(admin_cookie))
    set_defaults(actor_id=admin.id, items=[DefaultInput(capability="vision", connection_id=ollama, model="llava:7b")])
    assert [i["key"] for i in await checklist(admin_cookie) if i["done"]] == ["vision"]

    openai = connect(admin.id, "openai", "OpenAI", [("gpt-image-1", ["images"]), ("gpt-4o", ["text", "vision"])],
                     api_key="sk-test-key-1")
    fal = connect(admin.id, "fal", "fal", [("fal-ai/birefnet", ["cutout"])], api_key="fal-key-1",
                  options={"models": "fal-ai/birefnet"})
    set_defaults(actor_id=admin.id, items=[
        DefaultInput(capability="images", connection_id=openai, model="gpt-image-1"),
        DefaultInput(capability="text", connection_id=ollama, model="llava:7b")])
    assert [i["key"] for i in await checklist(admin_cookie) if not i["done"]] == ["workflows"]
    set_defaults(actor_id=admin.id, items=[DefaultInput(capability="cutout", connection_id=fal,
                                                        model="fal-ai/birefnet")])
    assert await checklist(admin_cookie) == []  # all done: the card is gone


async def test_pickers_know_whether_any_connection_offers_a_capability(people):
    admin, _, member_cookie = people
    fake, _ = await call(AIGuideState, "load_page", (), member_cookie)
    assert fake.connected == {"vision": False, "images": False, "text": False, "workflows": False}
    connect(admin.id, "ollama", "Ollama", [("llava:7b", ["vision"]), ("llama3.2:3b", ["text"])])
    fake, _ = await call(AIGuideState, "load_page", (), member_cookie)
    assert fake.connected == {"vision": True, "images": False, "text": True, "workflows": False}
    _, refused = await call(AIGuideState, "load_page", (), "")
    assert refused  # nobody signed in: to the sign-in page
