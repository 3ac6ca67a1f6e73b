"""What the Rename, Generate, Workflows and Slides forms say about a value out of range: a sentence naming the
field as the form labels it and the range it takes, never an attribute name or pydantic's own words."""

import pytest

from app.services.auth.sessions import COOKIE_NAME
from app.services.workflows.catalog import catalog
from app.services.workflows.form import defaults
from app.services.workflows.runs import remote_available
from state.rename import RenameState
from state.slides_form import SlidesFormState
from state.workflows import WorkflowsState
from tests.integration.test_api_auth import login, register
from tests.integration.test_generate_clicks import click, page_state
from tests.integration.test_page_clicks import signed_in_with_images
from tests.integration.test_state_guards import FakeState


@pytest.mark.parametrize("typed", ["0", "300", "", "9"])
async def test_rename_max_length(api, env, typed):
    cookie, ids = signed_in_with_images(api, n=1)
    fake = FakeState(cookie)
    fake.keywords, fake.case, fake.max_length, fake.template, fake.language = "", "kebab", typed, \
        "{keywords}-{subject}-{detail}", "en"
    fake.alt_text, fake.keep_exif, fake.write_metadata, fake.provider, fake.ocr = True, True, False, "local", False
    fake.form_error, fake.click_key, fake.chosen = "", "", [str(i) for i in ids]
    await RenameState.event_handlers["start_batch"].fn(fake, "")
    # Before: the page showed the bare attribute name "max_length".
    assert fake.form_error == "Max length must be a whole number from 10 to 120."


async def test_generate_seed_beyond_the_largest(api, env):
    register(api)
    login(api)
    fake = page_state(f"{COOKIE_NAME}={api.cookies.get(COOKIE_NAME)}")
    fake.seed = "9999999999"  # the box takes 10 digits
    await click(fake, "")
    assert fake.form_error == "Seed must be a whole number from 0 to 4294967295."


async def test_workflow_settings_left_empty(api, env):
    cookie, ids = signed_in_with_images(api, n=1)
    fake = FakeState(cookie)
    fake.chosen, fake.mode, fake.op_id, fake.form_error, fake.following, fake.run = [str(i) for i in ids], \
        "operation", "resize", "", True, {}
    schema = next(op["schema"] for op in catalog(remote_available=remote_available()) if op["id"] == "resize")
    fake.values = defaults(schema)  # width and height have no default: empty boxes
    for name in ("_op", "_current_params", "_settings_error"):
        setattr(fake, name, getattr(WorkflowsState, name).__get__(fake))
    await WorkflowsState.event_handlers["start"].fn(fake, "")
    # Before: "width: is required; height: is required".
    assert fake.form_error == ("Width is required: a whole number from 1 to 16384 px. "
                               "Height is required: a whole number from 1 to 16384 px.")
    fake.values = {**fake.values, "width": "0", "height": "99999"}
    await WorkflowsState.event_handlers["add_step"].fn(fake)
    assert fake.form_error == ("Width must be a whole number from 1 to 16384 px. "
                               "Height must be a whole number from 1 to 16384 px.")


@pytest.mark.parametrize("typed", ["0", "", "61"])
async def test_slides_count(api, env, typed):
    register(api)
    login(api)
    fake = FakeState(f"{COOKIE_NAME}={api.cookies.get(COOKIE_NAME)}")
    fake.topic, fake.source_text, fake.slide_count, fake.audience, fake.tone = "Cycling to work", "", typed, "", ""
    fake.language, fake.theme, fake.notes, fake.provider, fake.image_provider = "en", "studio", True, "local", \
        "default"
    fake.brand_key, fake.form_error, fake.creating, fake.click_key = "", "", False, ""
    await SlidesFormState.event_handlers["create_outline"].fn(fake, "")
    # Before: "Check the form: Input should be greater than or equal to 1".
    assert fake.form_error == "Slides must be a whole number from 1 to 60."
