"""The template pages where templates meet the other products, driven as the websocket drives them: Slides' "Save as
template", the slide template's outline and "New deck from this template" (active version only), and the Generate
page's image style picker filling the form from the active version."""

from __future__ import annotations

import types

import pytest

from app.db import session_scope
from app.models import AuthSession
from app.services.auth.sessions import COOKIE_NAME, create_session
from app.services.secrets import token_digest
from state.generate import GenerateState
from state.generate_styles import NONE, GenerateStylesState
from state.slides import SlidesState
from state.slides_template import SlidesTemplateState
from state.template_editor import TemplateEditorState
from state.template_tools import TemplateToolsState
from tests.integration.templates_helpers import IMAGE_STYLE, Team, approve_latest, headers, make
from tests.integration.test_template_pages import EDITOR_HELPERS, fake_of, run


def cookie_in_team(team: Team, role: str) -> str:
    with session_scope() as session:
        token = create_session(session=session, user_id=team.users[role].id)
    with session_scope() as session:  # this browser acts in the team (the switcher's doing)
        row = session.get(AuthSession, token_digest(token))
        row.workspace_id = team.workspace_id
        session.add(row)
    return f"{COOKIE_NAME}={token}"


def with_states(fake, states: dict):
    async def get_state(cls):
        return states.get(cls) or types.SimpleNamespace(_apply=lambda user: None)

    fake.get_state = get_state
    return fake


@pytest.fixture
def team(api, env):
    return Team()


async def test_a_deck_saved_as_a_template_makes_new_decks_once_approved(api, team):
    cookie = cookie_in_team(team, "editor")
    deck = api.post("/api/v1/slides", json={"topic": "Solar for schools", "slides": 4}, headers=headers(team, "editor"))
    assert deck.status_code == 201, deck.text
    slides = types.SimpleNamespace(deck={"id": str(deck.json()["id"]), "title": "Solar for schools"}, dirty=True)
    dialog = with_states(fake_of(SlidesTemplateState, cookie, "/slides"), {SlidesState: slides})
    await run(SlidesTemplateState, "show", dialog, True)
    assert dialog.open and dialog.name == "Solar for schools"
    await run(SlidesTemplateState, "save", dialog, {"name": "School pitch"})
    assert "Save the deck's edits first" in dialog.error and dialog.saved_url == ""  # the saved deck is what goes
    slides.dirty = False
    await run(SlidesTemplateState, "save", dialog, {"name": "School pitch"})
    assert dialog.error == "" and dialog.saved_url.startswith("/templates/")
    template_id = int(dialog.saved_url.rsplit("/", 1)[-1])

    page = fake_of(TemplateEditorState, cookie, f"/templates/{template_id}", EDITOR_HELPERS)
    await run(TemplateEditorState, "load_page", page)
    assert page.template["kind"] == "slide" and page.template["name"] == "School pitch"
    assert len(page.outline) >= 2 and page.outline[0]["number"] == "1" and page.template["active_number"] == ""
    tools = with_states(fake_of(TemplateToolsState, cookie, f"/templates/{template_id}", ("_editor",)),
                        {TemplateEditorState: page})
    refused = await run(TemplateToolsState, "new_deck", tools)
    assert "approved" in str(refused).lower() or "active" in str(refused).lower()
    approve_latest(template_id)
    await run(TemplateEditorState, "load_page", page)
    assert page.template["active_number"] == "1" and page.versions[0]["active"] == "yes"
    made = await run(TemplateToolsState, "new_deck", tools)
    assert "/slides?deck=" in str(made)

    viewer = fake_of(TemplateEditorState, cookie_in_team(team, "viewer"), f"/templates/{template_id}",
                     EDITOR_HELPERS)
    await run(TemplateEditorState, "load_page", viewer)
    assert viewer.template["kind"] == "slide" and not viewer.can_edit


async def test_the_image_style_editor_shows_the_prompt_with_the_sample_data(api, team):
    cookie = cookie_in_team(team, "editor")
    style = make(team.actor("editor"), kind="image_style", name="Watercolor")
    page = fake_of(TemplateEditorState, cookie, f"/templates/{style}", EDITOR_HELPERS)
    await run(TemplateEditorState, "load_page", page)
    preview = TemplateEditorState.computed_vars["prompt_preview"].fget
    assert preview(page) == "a lighthouse in a quiet watercolor, soft light"
    await run(TemplateEditorState, "set_sample_value", page, "subject", "a red boat")
    assert preview(page) == "a red boat in a quiet watercolor, soft light"
    await run(TemplateEditorState, "set_prompt", page, "{{ subject }} and {{ weather }}")
    assert "weather" in preview(page)  # undeclared: said, not drawn
    form = {"click_key": page.click_key, "note": "x", "prompt": "{{ subject }} at dusk"}
    toast = await run(TemplateEditorState, "save", page, form)
    assert "Saved as version 2." in str(toast) and preview(page) == "a red boat at dusk"


async def test_generate_offers_approved_image_styles_and_fills_the_form(api, team):
    cookie = cookie_in_team(team, "editor")
    draft_only = make(team.actor("editor"), kind="image_style", name="Draft style")
    style = make(team.actor("editor"), kind="image_style", name="Watercolor")
    approve_latest(style)
    form = types.SimpleNamespace(prompt="", negative_prompt="", provider="local", style="none", size="1024x1024",
                                 model="", count="1", seed="", providers=[{"name": "local"}],
                                 _fit_to_provider=lambda: None)
    picker = with_states(fake_of(GenerateStylesState, cookie, "/generate"), {GenerateState: form})
    await run(GenerateStylesState, "load_page", picker)
    assert [o["name"] for o in picker.options] == ["Watercolor"] and picker.chosen == NONE
    await run(GenerateStylesState, "choose", picker, str(style))
    assert picker.chosen == str(style)
    assert form.prompt == "a lighthouse in a quiet watercolor, soft light"
    assert form.negative_prompt == IMAGE_STYLE["negative_prompt"]
    assert (form.size, form.count, form.seed) == ("512x512", "2", "7")
    refused = await run(GenerateStylesState, "choose", picker, str(draft_only))  # a draft does not leave
    assert picker.chosen == NONE and "error" in str(refused).lower()

    linked = with_states(fake_of(GenerateStylesState, cookie, "/generate", query={"style_template": str(style)}),
                         {GenerateState: form})
    follow = await run(GenerateStylesState, "load_page", linked)
    assert "choose" in str(follow)
