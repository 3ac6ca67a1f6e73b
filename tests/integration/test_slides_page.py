"""The Slides page's state (state/slides.py) on a real State, real SQLite and a real session: what happens to
the outline editor's unsaved edits when the user leaves the page and comes back in the same tab."""

from __future__ import annotations

import reflex as rx
from reflex.istate.data import RouterData

from app.services.auth.sessions import COOKIE_NAME
from state.slides import REPLACED_NOTE, STALE_MESSAGE, SlidesState
from tests.integration.test_api_auth import ORIGIN, login, register
from tests.integration.test_slides import MARKDOWN, create, put_outline


def page_state(cookie: str) -> SlidesState:
    root = rx.State(_reflex_internal_init=True)
    root.router = RouterData.from_router_data({"headers": {"cookie": cookie}, "pathname": "/slides",
                                               "asPath": "/slides"})
    return root.substates[SlidesState.get_name()]


async def run(page: SlidesState, name: str, *args):
    return await SlidesState.event_handlers[name].fn(page, *args)


def title_of(page: SlidesState, slide_id: str) -> str:
    return next(r["title"] for r in page.rows if r["id"] == slide_id)


async def test_unsaved_edits_survive_leaving_the_page_and_a_change_elsewhere_asks_first(api, env):
    register(api)
    login(api)
    deck = create(api, source_text=MARKDOWN, slides=6)
    page = page_state(f"{COOKIE_NAME}={api.cookies.get(COOKIE_NAME)}")
    await run(page, "load_page")
    await run(page, "open_deck", str(deck["id"]))
    second = page.rows[1]["id"]
    SlidesState.event_handlers["edit_slide"].fn(page, second, "title", "Why solar — edited by Zoë")
    assert page.dirty

    # Assets, then Slides again: on_load runs load_page on the same state. The edit and its badge stay.
    await run(page, "load_page")
    assert title_of(page, second) == "Why solar — edited by Zoë" and page.dirty and not page.edits_stale

    # Another tab saves a change meanwhile: coming back keeps the typing and says the deck moved on.
    stored = api.get(f"/api/v1/slides/{deck['id']}").json()
    stored["outline"]["slides"][1]["title"] = "Why solar — changed in another tab"
    put_outline(api, stored, stored["outline"])
    await run(page, "load_page")
    assert title_of(page, second) == "Why solar — edited by Zoë" and page.dirty and page.edits_stale

    # A plain save does not write over that change; the user is asked instead.
    refused = await run(page, "save_outline")
    assert STALE_MESSAGE in str(refused) and page.dirty and page.edits_stale
    assert api.get(f"/api/v1/slides/{deck['id']}").json()["outline"]["slides"][1]["title"] == \
        "Why solar — changed in another tab"

    # Saving over it, as chosen: stored, and the other tab's outline is one restore away.
    saved = await run(page, "save_over_changes")
    assert "saved" in str(saved) and not page.dirty and not page.edits_stale
    now = api.get(f"/api/v1/slides/{deck['id']}").json()
    assert now["outline"]["slides"][1]["title"] == "Why solar — edited by Zoë"
    versions = api.get(f"/api/v1/slides/{deck['id']}/versions").json()["versions"]
    kept = next(v for v in versions if v["note"] == REPLACED_NOTE)
    restored = api.post(f"/api/v1/slides/{deck['id']}/versions/{kept['number']}/restore", headers=ORIGIN).json()
    assert restored["outline"]["slides"][1]["title"] == "Why solar — changed in another tab"


async def test_discarding_unsaved_edits_shows_the_stored_outline(api, env):
    register(api)
    login(api)
    deck = create(api, source_text=MARKDOWN, slides=6)
    page = page_state(f"{COOKIE_NAME}={api.cookies.get(COOKIE_NAME)}")
    await run(page, "open_deck", str(deck["id"]))
    second = page.rows[1]["id"]
    SlidesState.event_handlers["edit_slide"].fn(page, second, "title", "Mine")
    stored = api.get(f"/api/v1/slides/{deck['id']}").json()
    stored["outline"]["slides"][1]["title"] = "Theirs"
    put_outline(api, stored, stored["outline"])
    await run(page, "load_page")
    assert title_of(page, second) == "Mine" and page.edits_stale
    await run(page, "discard_edits")
    assert title_of(page, second) == "Theirs" and not page.dirty and not page.edits_stale


async def test_opening_another_deck_over_unsaved_edits_asks_first(api, env):
    register(api)
    login(api)
    first = create(api, source_text=MARKDOWN, slides=6)
    other = create(api, source_text=MARKDOWN, slides=5)
    page = page_state(f"{COOKIE_NAME}={api.cookies.get(COOKIE_NAME)}")
    await run(page, "load_page")
    await run(page, "open_deck", str(first["id"]))
    second = page.rows[1]["id"]

    def edit(title: str) -> None:
        SlidesState.event_handlers["edit_slide"].fn(page, second, "title", title)

    def stored_title(deck_id: int) -> str:
        return api.get(f"/api/v1/slides/{deck_id}").json()["outline"]["slides"][1]["title"]

    # Another deck, a new deck, or the open deck again: nothing is dropped, the page asks (or stays).
    edit("Edited, then another deck")
    await run(page, "open_deck", str(other["id"]))
    assert page.leaving_to == str(other["id"]) and page.deck["id"] == str(first["id"]) and page.dirty
    SlidesState.event_handlers["stay_on_deck"].fn(page)
    assert page.leaving_to == "" and title_of(page, second) == "Edited, then another deck"
    await run(page, "new_deck")
    assert page.leaving_to == "new" and page.has_deck and page.dirty
    SlidesState.event_handlers["stay_on_deck"].fn(page)
    await run(page, "open_deck", str(first["id"]))
    assert page.leaving_to == "" and page.dirty and title_of(page, second) == "Edited, then another deck"

    # Save and continue: stored, then the other deck is open.
    await run(page, "open_deck", str(other["id"]))
    await run(page, "leave_deck", True)
    assert stored_title(first["id"]) == "Edited, then another deck"
    assert page.deck["id"] == str(other["id"]) and not page.dirty and page.leaving_to == ""

    # Discard: nothing stored, the new-deck form is shown.
    await run(page, "open_deck", str(first["id"]))
    edit("Left behind")
    await run(page, "new_deck")
    await run(page, "leave_deck", False)
    assert stored_title(first["id"]) == "Edited, then another deck"
    assert not page.has_deck and not page.dirty and page.leaving_to == ""
