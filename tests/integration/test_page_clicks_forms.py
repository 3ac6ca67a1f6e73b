"""More buttons that make something once (New template's Create, Save version, Test send, Add term, Save
recipe) carry a key per click: both events of a double click carry the same key, so one effect and no error."""

from __future__ import annotations

from sqlmodel import func, select

from app.db import session_scope
from state.templates import TemplatesState
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
