"""The Workflows and Rename pages' start buttons carry a key per click, like the Generate page's:
a double click starts one run or batch."""

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
