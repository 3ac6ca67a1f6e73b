"""The AI connections page's handlers, driven like the browser drives them: a member gets nothing, a key
never stays in the page state, a connection added against a fake Ollama is tested and becomes a default."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from app.db import session_scope
from app.models import AIConnection, AIDefault, AuditEvent
from app.services.ai import resolve
from app.services.ai.connections import ConnectionInput, create_connection
from app.services.auth.sessions import COOKIE_NAME, create_session
from state.admin_ai import OFFLINE, AdminAIState
from tests.fake_ollama import FakeOllama
from tests.integration.test_accounts import register
from tests.integration.test_state_guards import FakeState

KEY = "sk-live-Very-Secret-Key-0123456789"
FIELDS = {"connections": [], "offers": {}, "presets": [], "editing": "", "form_preset": "", "form_values": {},
          "form_has_key": False, "form_error": "", "testing": "", "last_test": {"id": "", "ok": "", "text": ""},
          "defaults": [], "default_options": {}, "default_errors": {}}


class PageState(FakeState):
    """FakeState with the page's fields and the lock a background event takes."""

    def __init__(self, cookie: str):
        super().__init__(cookie)
        for name, value in FIELDS.items():
            setattr(self, name, json.loads(json.dumps(value)))

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return False


async def fire(fake: PageState, name: str, *args):
    result = AdminAIState.event_handlers[name].fn(fake, *args)
    return await result if hasattr(result, "__await__") else result


async def choose(fake: PageState, capability: str, choice: str, price: str):
    """Submit one row of the Defaults section."""
    return await fire(fake, "save_default", {"capability": capability, "choice": choice, "price": price})


def cookie_for(user_id: int) -> str:
    with session_scope() as session:
        return f"{COOKIE_NAME}={create_session(session=session, user_id=user_id)}"


@pytest.fixture
def people(env):
    admin, member = register("ada@example.com"), register("grace@example.com")
    return cookie_for(admin.id), cookie_for(member.id), admin


def stored() -> tuple:
    with session_scope() as session:
        return ([(c.id, c.name, c.enabled, c.secret, c.tested_at) for c in session.exec(select(AIConnection))],
                [(d.capability, d.connection_id, d.model, d.price) for d in session.exec(select(AIDefault))],
                len(session.exec(select(AuditEvent)).all()))


def handlers(result) -> str:
    """What the events a handler answered with call (their handlers' reprs name the functions)."""
    events = result if isinstance(result, list) else [result]
    return " ".join(repr(e.handler.fn) for e in events if hasattr(e, "handler"))


def in_state(fake: PageState) -> str:
    return json.dumps({name: getattr(fake, name) for name in FIELDS}, default=str)


CALLS = [("load_page", ()), ("open_add", ()), ("choose_preset", ("ollama",)), ("open_editor", ("1",)),
         ("close_editor", ()),
         ("save_connection", ({"name": "Evil", "api_key": KEY, "base_url": "http://evil.example"},)),
         ("test_connection", ("1",)), ("toggle_enabled", ("1", False)), ("delete_connection", ("1",)),
         ("save_default", ({"capability": "text", "choice": OFFLINE, "price": "9"},))]


@pytest.mark.parametrize("name, args", CALLS, ids=[c[0] for c in CALLS])
async def test_a_member_or_nobody_gets_nothing_and_changes_nothing(people, name, args):
    _, member_cookie, admin = people
    create_connection(actor_id=admin.id, data=ConnectionInput(preset="openai", name="Studio", api_key=KEY))
    before = stored()
    for cookie in (member_cookie, "", f"{COOKIE_NAME}=forged"):
        fake = PageState(cookie)
        fake.editing, fake.form_preset = "new", "openai"  # as if a form were open: still refused
        result = await fire(fake, name, *args)
        assert result, f"{name} answered a refused caller with nothing"
        assert stored() == before
        assert fake.connections == [] and fake.presets == [] and fake.offers == {} and fake.defaults == []
        assert fake.form_values == {} and fake.testing == "" and KEY not in in_state(fake)


async def test_the_key_never_stays_in_the_page_state(people):
    admin_cookie, _, _ = people
    fake = PageState(admin_cookie)
    await fire(fake, "load_page")
    assert len(fake.presets) >= 12 and fake.connections == []
    await fire(fake, "open_add")
    await fire(fake, "choose_preset", "openai")
    assert fake.form_values == {"name": "OpenAI", "base_url": "https://api.openai.com/v1"}
    # A server-side refusal shows next to the form; the key field is cleared, the key is nowhere in state.
    bad = await fire(fake, "save_connection", {"name": "OpenAI", "base_url": "ftp://x", "api_key": KEY})
    assert "http://" in fake.form_error and fake.editing == "new" and KEY not in in_state(fake)
    assert "base_url" not in fake.form_error  # what the form calls it, not the attribute
    assert "_set_value" in handlers(bad)  # the password field is emptied
    result = await fire(fake, "save_connection", {"name": "OpenAI", "base_url": "", "api_key": KEY})
    assert fake.form_error == "" and fake.editing == "" and KEY not in in_state(fake)
    assert "test_connection" in handlers(result)  # added, then tested at once
    row = fake.connections[0]
    assert row["has_key"] == "yes" and row["status"] == "untested" and KEY not in json.dumps(fake.offers)
    assert resolve.snapshot(int(row["id"])).api_key == KEY
    # Editing: the form starts without any key; a blank key keeps it, a new one replaces it.
    await fire(fake, "open_editor", row["id"])
    assert fake.form_has_key and "api_key" not in fake.form_values and fake.form_preset == "openai"
    await fire(fake, "save_connection", {"name": "OpenAI main", "base_url": "https://api.openai.com/v1",
                                         "api_key": ""})
    assert resolve.snapshot(int(row["id"])).api_key == KEY and fake.connections[0]["name"] == "OpenAI main"
    await fire(fake, "open_editor", row["id"])
    await fire(fake, "save_connection", {"name": "OpenAI main", "base_url": "", "api_key": "sk-new-key-42"})
    assert resolve.snapshot(int(row["id"])).api_key == "sk-new-key-42" and "sk-new" not in in_state(fake)


async def test_an_ollama_connection_is_tested_and_its_vision_model_made_the_default(people):
    admin_cookie, _, _ = people
    fake = PageState(admin_cookie)
    await fire(fake, "load_page")
    with FakeOllama() as ollama:
        await fire(fake, "open_add")
        await fire(fake, "choose_preset", "ollama")
        await fire(fake, "save_connection", {"name": "Studio Ollama", "base_url": ollama.base_url})
        connection_id = fake.connections[0]["id"]
        # Not tested yet: it cannot be a default.
        await choose(fake, "vision", f"conn:{connection_id}:llava:7b", "1")
        assert "Test" in fake.default_errors["vision"] and resolve.default_ref("vision") == ""
        await fire(fake, "test_connection", connection_id)
    assert fake.last_test["ok"] == "yes", fake.last_test
    assert fake.last_test["text"].startswith("Studio Ollama: connected in") and "2 models" in fake.last_test["text"]
    row = fake.connections[0]
    assert row["status"] == "ok" and row["latency"].endswith(" ms") and row["models"] == "2 models"
    assert any(chip.startswith("llava:7b") and "vision" in chip for chip in fake.offers[connection_id])
    vision = {o["value"] for o in fake.default_options["vision"]}
    assert vision == {f"conn:{connection_id}:llava:7b", OFFLINE}
    await choose(fake, "vision", f"conn:{connection_id}:llava:7b", "2")
    assert "vision" not in fake.default_errors
    assert resolve.default_ref("vision") == f"conn:{connection_id}:llava:7b"
    assert next(r for r in fake.defaults if r["capability"] == "vision")["price"] == "2"
    # Bad prices and unknown models are answered inline.
    await choose(fake, "vision", f"conn:{connection_id}:llava:7b", "20000")
    assert "10000" in fake.default_errors["vision"]
    await choose(fake, "vision", f"conn:{connection_id}:gpt-9", "1")
    assert "gpt-9" in fake.default_errors["vision"]
    # A default cannot be deleted or disabled: the refusal is the message.
    answer = await fire(fake, "delete_connection", connection_id)
    assert "default" in str(answer) and len(fake.connections) == 1
    answer = await fire(fake, "toggle_enabled", connection_id, False)
    assert "default" in str(answer) and fake.connections[0]["enabled"] == "yes"
    await fire(fake, "save_default", {"capability": "vision", "choice": OFFLINE, "price": "0"})
    await fire(fake, "delete_connection", connection_id)
    assert fake.connections == [] and resolve.default_ref("vision") == ""


async def test_a_failed_test_says_why(people):
    admin_cookie, _, _ = people
    fake = PageState(admin_cookie)
    await fire(fake, "load_page")
    await fire(fake, "open_add")
    await fire(fake, "choose_preset", "ollama")
    await fire(fake, "save_connection", {"name": "Nowhere", "base_url": "http://127.0.0.1:9"})
    await fire(fake, "test_connection", fake.connections[0]["id"])
    assert fake.last_test["ok"] == ""
    assert fake.last_test["text"] == "Nowhere: the test failed; the reason is on its card below."
    assert fake.connections[0]["status"] == "failed" and "refused" in fake.connections[0]["error"]



async def test_the_style_and_moderation_forms_name_fields_by_their_labels(people):
    from state.admin_generation import AdminModerationState, AdminStylesState

    admin_cookie, _, _ = people
    styles = FakeState(admin_cookie)
    styles.form_error, styles.editing = "", "new"
    save_style = AdminStylesState.event_handlers["save_style"].fn
    await save_style(styles, {"key": "", "name": "Poster", "template": "{prompt}"})
    assert styles.form_error.startswith("Key ") and "Input should" not in styles.form_error
    await save_style(styles, {"key": "poster", "name": "Poster", "template": "{prompt}", "position": "third"})
    assert styles.form_error == "Position must be a whole number."
    styles._reload = lambda: None
    toast = await save_style(styles, {"key": "wash", "name": "Wash Poster", "template": "{prompt}"})
    assert "Style “Wash Poster” saved." in str(toast), styles.form_error  # typographic quotes, not Python's 'repr'
    styles.editing = "new"
    await save_style(styles, {"key": "wash", "name": "Wash", "template": "{prompt}"})
    assert styles.form_error == "A style called “wash” exists already."
    terms = FakeState(admin_cookie)
    terms.form_error, terms.click_key = "", ""
    form = {"term": "x" * 300, "category": "spam", "click_key": "click-1"}
    await AdminModerationState.event_handlers["add_term"].fn(terms, form)
    assert terms.form_error.startswith("Term ") and "String should" not in terms.form_error
