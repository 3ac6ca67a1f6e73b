"""The Generate page's button carries a key per click: a double click (the same key sent twice)
starts one generation; the next click, with the re-armed key, starts another."""

from sqlmodel import func, select

from app.db import session_scope
from app.models import Generation
from app.services.auth.sessions import COOKIE_NAME, create_session
from state.generate import GenerateState
from tests.integration.test_accounts import register
from tests.integration.test_state_guards import FakeState


def page_state(cookie: str) -> FakeState:
    """The handler's view of the page: a fake router (as in test_state_guards) with the form filled in."""
    fake = FakeState(cookie)
    fields = {"prompt": "a calm forest morning", "negative_prompt": "", "style": "none", "size": "1024x1024",
              "count": "1", "seed": "", "provider": "local", "model": "", "form_error": "", "submitting": False,
              "current": {}, "current_images": [], "balance": 0, "following": True, "click_key": "", "busy": False,
              "providers": [{"name": "local", "negative": "", "seed": "yes"}]}
    for name, value in fields.items():
        setattr(fake, name, value)
    fake._info = lambda: GenerateState._info(fake)
    fake._first_click = lambda *args: GenerateState._first_click(fake, *args)
    return fake


async def click(fake, key):
    # The form sends what its boxes show and the click's key (a hidden field).
    result = GenerateState.event_handlers["generate"].fn(fake, {"prompt": fake.prompt, "click_key": key})
    async for _ in result:
        pass


def generations() -> int:
    with session_scope() as session:
        return session.exec(select(func.count()).select_from(Generation)).one()


async def test_a_double_click_starts_one_generation(env):
    user = register("ada@example.com")
    with session_scope() as session:
        cookie = f"{COOKIE_NAME}={create_session(session=session, user_id=user.id)}"
    fake = page_state(cookie)
    await click(fake, "click-1")
    rearmed = fake.click_key
    await click(fake, "click-1")  # the second event of a double click carries the same key
    assert generations() == 1 and fake.form_error == ""
    assert rearmed and rearmed != "click-1"
    await click(fake, rearmed)
    assert generations() == 2
