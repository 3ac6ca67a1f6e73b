"""The template pages' handlers driven as the websocket drives them, against the real services and database:
the library's search and filters, the editor's live preview, save, refusals naming the line, the edit conflict
(the text is never lost), samples, restore and compare; another workspace's template answers as missing."""

from __future__ import annotations

import inspect
import types

import pytest

from app.db import session_scope
from app.services.auth.sessions import COOKIE_NAME, create_session, user_for_session
from app.services.templates import library, versions
from app.services.templates.view import STARTER_SCHEMA, STARTER_SOURCE, starter_content
from state.template_editor import TemplateEditorState
from state.template_tools import TemplateToolsState
from state.templates import TemplatesState
from tests.integration.test_accounts import register
from tests.integration.test_state_guards import FakeState

LIBRARY_HELPERS = ("_reload", "_params", "_sync_url", "_research")
EDITOR_HELPERS = ("_template_id", "_load", "_show_content", "_render", "_content", "_load_samples", "_schema",
                  "_run_checks")


def signed_in(email: str) -> tuple[str, object]:
    user = register(email)
    with session_scope() as session:
        token = create_session(session=session, user_id=user.id)
    with session_scope() as session:
        actor = user_for_session(session=session, token=token)
    return f"{COOKIE_NAME}={token}", actor


def fake_of(state_cls, cookie: str, path: str, helpers=(), query: dict | None = None) -> FakeState:
    fake = FakeState(cookie)
    fake.router.url.path, fake.router.url.query_parameters = path, query or {}
    fields = state_cls.get_fields()
    for name in state_cls.base_vars:
        field = fields[name]
        setattr(fake, name, field.default_factory() if callable(field.default_factory) else field.default)
    for name in helpers:
        setattr(fake, name, types.MethodType(getattr(state_cls, name), fake))
    return fake


def editor(cookie: str, template_id: int) -> FakeState:
    return fake_of(TemplateEditorState, cookie, f"/templates/{template_id}", EDITOR_HELPERS)


async def run(state_cls, name, fake, *args):
    """A handler as the websocket runs it (some are async, some not)."""
    result = state_cls.event_handlers[name].fn(fake, *args)
    return await result if inspect.isawaitable(result) else result


def new_email(actor, name: str = "Welcome") -> int:
    with session_scope() as session:
        return library.create_template(session=session, actor=actor, kind="email", name=name,
                                       content=starter_content("email"), note="Starter").id


@pytest.fixture
def ada(any_db):  # SQLite and PostgreSQL: the save rule and the conflict are database work
    return signed_in("ada@example.com")


async def test_editor_previews_saves_and_names_the_line_of_a_refusal(ada):
    cookie, actor = ada
    template_id = new_email(actor)
    page = editor(cookie, template_id)
    await run(TemplateEditorState, "load_page", page)
    assert page.template["kind"] == "email" and page.base_number == 1 and page.can_edit
    assert "Hello there," in page.preview_html and page.preview_error == ""
    assert page.sample_values["first_name"] == "there"

    await run(TemplateEditorState, "set_sample_value", page, "first_name", "Ada")
    assert "Hello Ada," in page.preview_html
    await run(TemplateEditorState, "set_source", page, STARTER_SOURCE.replace("Thanks", "Many thanks"))
    assert "Many thanks" in page.preview_html and page.dirty
    toast = await run(TemplateEditorState, "save", page, {"click_key": page.click_key, "note": "Warmer"})
    assert "Saved as version 2." in str(toast)
    assert page.base_number == 2 and [v["number"] for v in page.versions] == ["2", "1"]
    assert page.versions[0]["note"] == "Warmer" and page.versions[0]["status"] == "draft"
    assert "Many thanks" in page.source and not page.dirty
    stored = {c["key"]: c for c in page.saved_checks}  # the service's checklist ran on the saved version
    assert "alt_proposals" in stored and all(c.get("ok") for c in stored.values() if c.get("blocking", True))

    # Save just after typing: the form carries what the box shows; its debounced copy arrives later, changing nothing.
    typed = page.source.replace("Many thanks", "Warm thanks")
    form = {"click_key": page.click_key, "note": "typed", "source": typed}
    toast = await run(TemplateEditorState, "save", page, form)
    assert "Saved as version 3." in str(toast) and "Warm thanks" in page.preview_html
    await run(TemplateEditorState, "set_source", page, typed)
    assert not page.dirty
    with session_scope() as session:
        assert "Warm thanks" in versions.get_version(session=session, actor=actor, template_id=template_id,
                                                     number=3).content["source"]

    broken = page.source.replace("</mj-button>", "")
    await run(TemplateEditorState, "set_source", page, broken)
    assert page.preview_error.startswith("Line ") and "Warm thanks" in page.preview_html  # the last good one
    await run(TemplateEditorState, "save", page, {"click_key": page.click_key, "note": "broken"})
    assert page.save_error.startswith("Line ") and page.save_line > 0
    assert page.source == broken and page.base_number == 3  # nothing saved, nothing lost

    await run(TemplateEditorState, "set_schema_text", page, '{"type": "object",\n "properties": {,}}')
    await run(TemplateEditorState, "save", page, {"click_key": page.click_key})
    assert page.save_error.startswith("Variables: Line 2")


async def test_a_stale_save_is_a_conflict_that_keeps_the_text(ada):
    cookie, actor = ada
    template_id = new_email(actor)
    first, second = editor(cookie, template_id), editor(cookie, template_id)
    for page in (first, second):
        await run(TemplateEditorState, "load_page", page)
    await run(TemplateEditorState, "set_source", first, STARTER_SOURCE.replace("Welcome aboard", "First"))
    await run(TemplateEditorState, "save", first, {"click_key": first.click_key, "note": "first"})
    mine = STARTER_SOURCE.replace("Welcome aboard", "Second")
    await run(TemplateEditorState, "set_source", second, mine)
    await run(TemplateEditorState, "save", second, {"click_key": second.click_key, "note": "second"})
    assert "Someone saved this template" in second.conflict and second.source == mine
    assert second.base_number == 1
    follow = await run(TemplateEditorState, "save_mine_on_top", second)
    assert second.base_number == 2 and second.conflict == "" and "save" in str(follow)
    toast = await run(TemplateEditorState, "save", second, {"click_key": second.click_key, "note": "second"})
    assert "Saved as version 3." in str(toast) and second.source == mine


async def test_restore_samples_and_compare(ada):
    cookie, actor = ada
    template_id = new_email(actor)
    page = editor(cookie, template_id)
    await run(TemplateEditorState, "load_page", page)
    await run(TemplateEditorState, "set_source", page, STARTER_SOURCE.replace("Get started", "Start now"))
    await run(TemplateEditorState, "save", page, {"click_key": page.click_key, "note": "button"})

    await run(TemplateEditorState, "set_sample_value", page, "first_name", "Grace")
    await run(TemplateEditorState, "set_sample_name", page, "Grace at the harbour")
    await run(TemplateEditorState, "save_sample", page, False)
    assert [s["name"] for s in page.samples] == ["Grace at the harbour"] and page.sample_id
    await run(TemplateEditorState, "pick_sample", page, "")
    assert "Hello there," in page.preview_html
    await run(TemplateEditorState, "pick_sample", page, page.samples[0]["id"])
    assert "Hello Grace," in page.preview_html

    tools = fake_of(TemplateToolsState, cookie, f"/templates/{template_id}", ("_compare", "_editor"))

    async def get_state(cls):
        return page if cls is TemplateEditorState else types.SimpleNamespace(_apply=lambda user: None)

    tools.get_state = get_state
    await run(TemplateToolsState, "open_compare", tools, "1")
    assert (tools.compare_a, tools.compare_b) == ("1", "2") and tools.diff_summary == "1 lines added, 1 removed"
    assert any(r["kind"] == "add" and "Start now" in r["text"] for r in tools.diff)
    assert "Get started" in tools.html_a and "Start now" in tools.html_b and "Hello Grace," in tools.html_b

    await run(TemplateEditorState, "restore", page, "1")
    assert "Get started" in page.source and page.dirty and page.note == "Back to version 1"
    await run(TemplateEditorState, "save", page, {"click_key": page.click_key, "note": page.note})
    assert page.base_number == 3


async def test_library_search_filters_archive_and_another_workspace(ada):
    cookie, actor = ada
    email_id = new_email(actor, "Spring newsletter")
    with session_scope() as session:
        library.create_template(session=session, actor=actor, kind="image_style", name="Soft light",
                                content=starter_content("image_style"), tags=["brand"])
    page = fake_of(TemplatesState, cookie, "/templates", LIBRARY_HELPERS)
    await run(TemplatesState, "load_page", page)
    assert sorted(c["name"] for c in page.cards) == ["Soft light", "Spring newsletter"]
    assert page.known_tags == ["brand"]
    email_card = next(c for c in page.cards if c["kind"] == "email")
    assert email_card["status"] == "v1 draft" and email_card["kind_label"] == "Email"

    page = fake_of(TemplatesState, cookie, "/templates", LIBRARY_HELPERS,
                   query={"kind": "image_style", "q": "soft"})
    await run(TemplatesState, "load_page", page)
    assert [c["name"] for c in page.cards] == ["Soft light"]
    script = await run(TemplatesState, "set_filter", page, "kind", "any")
    assert "/templates?q=soft" in str(script)

    await run(TemplatesState, "archive", page, str(email_id), True)
    await run(TemplatesState, "clear_filters", page)
    assert [c["name"] for c in page.cards] == ["Soft light"]
    await run(TemplatesState, "set_show_archived", page, True)
    assert [c["name"] for c in page.cards] == ["Spring newsletter"] and page.cards[0]["archived"] == "yes"

    page = fake_of(TemplatesState, cookie, "/templates", LIBRARY_HELPERS,
                   query={"kind": "nonsense", "status": "weird"})
    await run(TemplatesState, "load_page", page)
    assert page.kind == "any" and page.status == "any" and page.error == ""

    grace_cookie, _ = signed_in("grace@example.com")
    stranger = editor(grace_cookie, email_id)
    await run(TemplateEditorState, "load_page", stranger)
    assert stranger.missing and stranger.template == {}
    others = fake_of(TemplatesState, grace_cookie, "/templates", LIBRARY_HELPERS)
    await run(TemplatesState, "load_page", others)
    assert others.cards == []


def test_the_starter_is_a_valid_email_version():
    from app.services.templates.content import check_content

    assert check_content("email", {"source": STARTER_SOURCE, "schema": STARTER_SCHEMA})["source"] == STARTER_SOURCE


async def test_a_test_send_goes_through_the_outbox_with_the_editors_sample_data(ada):
    from sqlmodel import select

    from app.models import OutboxEmail

    cookie, actor = ada
    template_id = new_email(actor, "Order news")
    page = editor(cookie, template_id)
    await run(TemplateEditorState, "load_page", page)
    await run(TemplateEditorState, "set_sample_value", page, "first_name", "Grace")
    tools = fake_of(TemplateToolsState, cookie, f"/templates/{template_id}", ("_editor",))

    async def get_state(cls):
        return page if cls is TemplateEditorState else types.SimpleNamespace(_apply=lambda user: None)

    tools.get_state = get_state
    await run(TemplateToolsState, "open_send", tools, True)
    assert tools.send_open and tools.send_sample == "default"
    await run(TemplateToolsState, "send_test", tools, {"click_key": tools.click_key, "addresses": ""})
    assert tools.send_error == "Add at least one address." and tools.send_result == ""
    many = ", ".join(f"p{i}@example.com" for i in range(11))
    await run(TemplateToolsState, "send_test", tools, {"click_key": tools.click_key, "addresses": many})
    assert "At most 10 addresses" in tools.send_error
    form = {"click_key": tools.click_key, "addresses": "grace@example.com; ada@example.com"}
    await run(TemplateToolsState, "send_test", tools, form)
    assert tools.send_error == "" and tools.send_result == "Sent version 1 to 2 addresses."
    with session_scope() as session:
        sent = session.exec(select(OutboxEmail).where(OutboxEmail.to_address == "grace@example.com")).one()
        assert sent.subject == "[Test] Order news (version 1)" and "Hello Grace," in sent.body_text


async def test_the_new_dialog_offers_slide_deck_as_the_way_to_the_slides_page(ada):
    """The walk: "Slide deck" stayed unchecked and Create made an email template."""
    cookie, _ = ada
    page = fake_of(TemplatesState, cookie, "/templates", LIBRARY_HELPERS)
    await run(TemplatesState, "load_page", page)
    await run(TemplatesState, "open_new", page, True)
    await run(TemplatesState, "set_new_kind", page, "slide")
    assert page.new_kind == "slide"  # checked: the dialog shows the hint and "Open Slides" instead of Create
    page.new_name = "Quarterly deck"
    form = {"name": "Quarterly deck", "click_key": page.click_key}
    await run(TemplatesState, "create", page, form)  # sent anyway (any event can be)
    assert "Slides page" in page.new_error and page.new_open
    from sqlmodel import select

    from app.models import Template

    with session_scope() as session:
        assert session.exec(select(Template)).all() == []  # before: an email template named "Quarterly deck"
    await run(TemplatesState, "set_new_kind", page, "nonsense")
    assert page.new_kind == "slide"
    await run(TemplatesState, "set_new_kind", page, "email")
    assert page.new_kind == "email" and page.new_error == ""
