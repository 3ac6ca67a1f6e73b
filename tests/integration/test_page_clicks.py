"""The start buttons (Generate, Workflows, Rename, Slides) and the other buttons that make something once
(Create team workspace, Create token, Send invitation and Resend, Apply to library and Undo) carry a key per
click: a double click makes one of each."""

from sqlmodel import func, select

from app.db import session_scope
from app.models import RenameBatch, WorkflowRun
from app.services.auth.sessions import COOKIE_NAME
from state.rename import RenameState
from state.workflows import WorkflowsState
from tests import images
from tests.integration.test_api_auth import login, register
from tests.integration.test_rename import run_jobs, upload
from tests.integration.test_state_guards import FakeState


def count(model) -> int:
    with session_scope() as session:
        return session.exec(select(func.count()).select_from(model)).one()


def signed_in_with_images(api, n=2):
    register(api)
    login(api)
    ids = [a["id"] for a in upload(api, [(f"i{i}.jpg", images.jpeg(80, 60, seed=i), "image/jpeg") for i in range(n)])]
    run_jobs()
    return f"{COOKIE_NAME}={api.cookies.get(COOKIE_NAME)}", ids


async def test_a_double_click_starts_one_workflow_run(api, env):
    cookie, ids = signed_in_with_images(api)
    fake = FakeState(cookie)
    fake.chosen, fake.mode, fake.op_id, fake.form_error, fake.following = [str(i) for i in ids], "operation", \
        "rotate_flip", "", True
    fake.run, fake.click_key = {}, ""
    fake._current_params = lambda: {"angle": 90}
    fake._reload_run = fake._reload_recipes = lambda _owner: None
    start = WorkflowsState.event_handlers["start"].fn
    await start(fake, "click-1")
    await start(fake, "click-1")
    assert count(WorkflowRun) == 1 and fake.form_error == ""
    assert fake.click_key not in ("", "click-1")
    await start(fake, fake.click_key)
    assert count(WorkflowRun) == 2


async def test_a_double_click_starts_one_rename_batch(api, env):
    cookie, ids = signed_in_with_images(api)
    fake = FakeState(cookie)
    fake.keywords, fake.case, fake.max_length, fake.template, fake.language = "", "kebab", "60", \
        "{keywords}-{subject}-{detail}", "en"
    fake.alt_text, fake.keep_exif, fake.write_metadata, fake.provider, fake.ocr = True, True, False, "local", False
    fake.form_error, fake.click_key = "", ""
    start = RenameState.event_handlers["start_batch"].fn
    fake.chosen = [str(i) for i in ids]
    for _ in range(2):  # the double click; before the key, the second event showed "Choose at least one image."
        await start(fake, "click-1")
    assert count(RenameBatch) == 1 and fake.form_error == ""


async def test_a_double_click_creates_one_deck(api, env):
    from types import SimpleNamespace

    from app.models import Deck
    from state.slides_form import SlidesFormState

    register(api)
    login(api)
    fake = FakeState(f"{COOKIE_NAME}={api.cookies.get(COOKIE_NAME)}")
    fake.topic, fake.source_text, fake.slide_count, fake.audience, fake.tone = "Cycling to work", "", "5", "", ""
    fake.language, fake.theme, fake.notes, fake.provider, fake.image_provider = "en", "studio", True, "local", \
        "default"
    fake.brand_key, fake.form_error, fake.creating, fake.click_key = "", "", False, ""
    opened = []

    async def get_state(_cls):
        return SimpleNamespace(_apply=lambda user: None, open_created=lambda user_id, deck_id: opened.append(deck_id))

    fake.get_state = get_state
    create = SlidesFormState.event_handlers["create_outline"].fn
    await create(fake, "click-1")
    await create(fake, "click-1")
    assert count(Deck) == 1 and len(opened) == 1


async def test_a_double_click_creates_one_team_workspace(env):
    from app.models import Workspace
    from state.workspace_switch import SwitcherState
    from tests.integration.test_workspace_pages import fake, run, signed_in
    from tests.integration.test_workspaces_service import register as register_user

    olga = register_user("olga@example.com")
    switcher = fake(SwitcherState, signed_in(olga)[0])
    await run(SwitcherState, "set_create_open", switcher, True)  # opening the dialog arms the key
    form = {"name": "Harbour Studio", "click_key": switcher.click_key}
    await run(SwitcherState, "create_team", switcher, form)
    await run(SwitcherState, "create_team", switcher, form)
    assert count(Workspace) == 2  # her personal one and one team
    await run(SwitcherState, "set_create_open", switcher, True)
    await run(SwitcherState, "create_team", switcher, {"name": "Second Studio", "click_key": switcher.click_key})
    assert count(Workspace) == 3


async def test_a_double_click_creates_one_api_token(env):
    from app.models import ApiToken
    from state.settings import SettingsState
    from tests.integration.test_workspace_pages import fake, run, signed_in
    from tests.integration.test_workspaces_service import register as register_user

    olga = register_user("olga@example.com")
    page = fake(SettingsState, signed_in(olga)[0], path="/settings")
    await run(SettingsState, "load_page", page)
    form = {"token_name": "ci", "token_workspace": "personal", "token_expiry": "30", "click_key": page.click_key}
    await run(SettingsState, "create_token", page, form)
    secret = page.new_secret
    await run(SettingsState, "create_token", page, form)
    # One token, and the secret on screen is its secret (the second event made none and showed none).
    assert count(ApiToken) == 1 and page.new_secret == secret and len(page.tokens) == 1
    await run(SettingsState, "create_token", page, {**form, "click_key": page.click_key})
    assert count(ApiToken) == 2 and page.new_secret != secret


async def test_a_double_click_sends_one_invitation_and_one_resend(env):
    from app.models import OutboxEmail
    from state.workspace import WorkspaceState
    from tests.integration.test_workspace_pages import fake, run, signed_in
    from tests.integration.test_workspaces_service import register as register_user
    from tests.integration.test_workspaces_service import team

    olga = register_user("olga@example.com")
    team_id = team(olga, "Harbour Studio")
    cookie, token = signed_in(olga)
    with session_scope() as session:
        from app.services.workspaces import service as workspaces

        workspaces.switch(session=session, session_token=token, user_id=olga.id, workspace_id=team_id)
    page = fake(WorkspaceState, cookie)
    await run(WorkspaceState, "load_page", page)
    form = {"invite_email": "vera@example.com", "click_key": page.click_key}
    await run(WorkspaceState, "invite", page, form)
    await run(WorkspaceState, "invite", page, form)
    assert count(OutboxEmail) == 1 and page.invitations[0]["sent"] == "1"
    resend = page.click_key
    await run(WorkspaceState, "resend", page, page.invitations[0]["id"], resend)
    await run(WorkspaceState, "resend", page, page.invitations[0]["id"], resend)
    assert count(OutboxEmail) == 2 and page.invitations[0]["sent"] == "2"


async def test_a_double_click_applies_the_names_once(api, env):
    from tests.integration.test_rename import make_batch

    register(api)
    login(api)
    batch, _ = make_batch(api, count=2)
    fake = FakeState(f"{COOKIE_NAME}={api.cookies.get(COOKIE_NAME)}")
    fake.batch_id, fake.click_key = batch["id"], "click-1"
    apply = RenameState.event_handlers["apply_names"].fn
    first = await apply(fake, False, "click-1")
    second = await apply(fake, False, "click-1")  # before the key, a second toast: "0 assets renamed"
    assert "2 assets renamed" in str(first) and second is None
    key = fake.click_key  # re-armed by the first click
    undo = await apply(fake, True, key)
    assert "2 assets restored" in str(undo) and await apply(fake, True, key) is None
