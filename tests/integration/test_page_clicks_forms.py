"""More buttons that make something once (New template's Create, Save version, Test send, Add term, Save
recipe) carry a key per click: both events of a double click carry the same key, so one effect and no error."""

from __future__ import annotations

from sqlmodel import func, select

from app.db import session_scope
from state.templates import TemplatesState
from tests.integration.test_accounts import register
from tests.integration.test_template_pages import LIBRARY_HELPERS, fake_of, run, signed_in


def count(model) -> int:
    with session_scope() as session:
        return session.exec(select(func.count()).select_from(model)).one()


async def test_a_double_click_on_create_makes_one_template(env):
    from app.models import Template

    cookie, _ = signed_in("ada@example.com")
    page = fake_of(TemplatesState, cookie, "/templates", LIBRARY_HELPERS)
    await run(TemplatesState, "load_page", page)
    await run(TemplatesState, "open_new", page, True)  # opening the dialog arms the key
    form = {"name": "Welcome", "click_key": page.click_key}
    first = await run(TemplatesState, "create", page, form)
    second = await run(TemplatesState, "create", page, form)
    assert count(Template) == 1 and first is not None and second is None and page.new_error == ""
    await run(TemplatesState, "open_new", page, True)
    await run(TemplatesState, "create", page, {"name": "Order news", "click_key": page.click_key})
    assert count(Template) == 2


async def test_a_double_click_on_save_version_saves_one_and_an_unchanged_save_saves_none(env):
    from app.models import TemplateVersion
    from state.template_editor import TemplateEditorState
    from tests.integration.test_template_pages import editor, new_email

    cookie, actor = signed_in("ada@example.com")
    template_id = new_email(actor)
    page = editor(cookie, template_id)
    await run(TemplateEditorState, "load_page", page)
    form = {"note": "Warmer", "source": page.source.replace("Thanks", "Warm thanks"), "click_key": page.click_key}
    first = await run(TemplateEditorState, "save", page, form)
    second = await run(TemplateEditorState, "save", page, form)  # before: "Saved as version 3", the same text
    assert "Saved as version 2." in str(first) and second is None and page.save_error == ""
    assert count(TemplateVersion) == 2
    again = await run(TemplateEditorState, "save", page, {**form, "click_key": page.click_key})
    assert "Nothing changed since version 2." in str(again) and page.save_error == ""
    assert count(TemplateVersion) == 2 and page.base_number == 2


async def test_a_double_click_on_send_test_sends_each_email_once(env):
    import types

    from app.models import OutboxEmail
    from state.template_editor import TemplateEditorState
    from state.template_tools import TemplateToolsState
    from tests.integration.test_template_pages import editor, new_email

    cookie, actor = signed_in("ada@example.com")
    template_id = new_email(actor)
    page = editor(cookie, template_id)
    await run(TemplateEditorState, "load_page", page)
    tools = fake_of(TemplateToolsState, cookie, f"/templates/{template_id}", ("_editor",))

    async def get_state(cls):
        return page if cls is TemplateEditorState else types.SimpleNamespace(_apply=lambda user: None)

    tools.get_state = get_state
    await run(TemplateToolsState, "open_send", tools, True)  # opening the dialog arms the key
    form = {"addresses": "grace@example.com, ada@example.com", "click_key": tools.click_key}
    await run(TemplateToolsState, "send_test", tools, form)
    await run(TemplateToolsState, "send_test", tools, form)  # before: four emails, two test sends used up
    assert count(OutboxEmail) == 2 and tools.send_error == "" and "to 2 addresses" in tools.send_result
    await run(TemplateToolsState, "send_test", tools, {**form, "click_key": tools.click_key})
    assert count(OutboxEmail) == 4


async def test_a_double_click_on_add_term_adds_it_once_and_shows_no_error(env):
    from app.models import DenylistTerm
    from state.admin_generation import AdminModerationState
    from tests.integration.test_admin_ai_page import cookie_for
    from tests.integration.test_state_guards import FakeState

    admin = register("ada@example.com")  # the first account is the admin
    page = FakeState(cookie_for(admin.id))
    page.form_error, page.click_key, page.term_query, page.decision_filter = "", "", "", "all"
    page._reload = lambda: None
    add = AdminModerationState.event_handlers["add_term"].fn
    await AdminModerationState.event_handlers["load_page"].fn(page)
    before = count(DenylistTerm)  # the seeded list
    form = {"term": "zorblax quux", "kind": "phrase", "category": "other", "click_key": page.click_key}
    first = await add(page, form)
    second = await add(page, form)  # before: "That term is on the list already." under the form
    assert "Added to the denylist." in str(first) and second is None and page.form_error == ""
    assert count(DenylistTerm) == before + 1


async def test_a_double_click_on_save_recipe_saves_one_and_shows_no_error(api, env):
    from app.models import Recipe
    from state.workflows import WorkflowsState
    from tests.integration.test_page_clicks import signed_in_with_images
    from tests.integration.test_state_guards import FakeState

    cookie, _ = signed_in_with_images(api, n=1)
    fake = FakeState(cookie)
    fake.mode, fake.form_error, fake.click_key, fake.draft_name = "draft", "", "", "Square crop"
    fake.draft_steps = [{"id": "s1", "op": "rotate_flip", "params": '{"angle": 90}'}]
    fake._draft_definition = lambda: WorkflowsState._draft_definition(fake)
    fake._reload_recipes = lambda _workspace: None
    save = WorkflowsState.event_handlers["save_recipe"].fn
    first = await save(fake, "click-1")
    second = await save(fake, "click-1")  # before: a second toast, "Add at least one step first."
    assert "saved" in str(first) and second is None and fake.form_error == ""
    assert count(Recipe) == 1 and fake.click_key not in ("", "click-1")
