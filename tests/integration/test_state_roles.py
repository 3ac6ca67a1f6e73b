"""Page handlers that change work ask the same permission matrix as the API.

A viewer (or approver) of a team workspace sends each handler over the socket by hand: each answers with a
toast naming their role and changes nothing. The same handlers still work in the user's own workspace (the
other page tests cover that).
"""

import inspect

import pytest

from app.db import session_scope
from app.models import AuthSession, Membership
from app.services.auth.sessions import COOKIE_NAME, create_session
from app.services.secrets import token_digest
from app.services.workspaces.service import create_team
from state.approval_workflow import WorkflowSettingsState
from state.asset_detail import AssetDetailState
from state.generate import GenerateState
from state.library import LibraryState
from state.rename import RenameState
from state.review_panel import ReviewPanelState
from state.slides import SlidesState
from state.slides_form import SlidesFormState
from state.slides_template import SlidesTemplateState
from state.template_editor import TemplateEditorState
from state.template_pictures import TemplatePicturesState
from state.template_tools import TemplateToolsState
from state.templates import TemplatesState
from state.workflows import WorkflowsState
from tests.integration.test_accounts import register
from tests.integration.test_state_guards import FakeState, snapshot

WRITE_CALLS = [
    (LibraryState, "add_tag", ({"tag": "x"},)), (LibraryState, "remove_tag", ({"tag": "x"},)),
    (LibraryState, "add_to_collection", ("1",)), (LibraryState, "add_to_new_collection", ({"name": "x"},)),
    (LibraryState, "delete_selected", ()), (LibraryState, "undo_delete", ()),
    (LibraryState, "create_collection", ({"name": "x"},)),
    (LibraryState, "rename_collection", ({"collection_id": "1", "name": "x"},)),
    (LibraryState, "delete_collection", ("1",)),
    (AssetDetailState, "save_details", ({"filename": "x.jpg"},)), (AssetDetailState, "delete_picture", ()),
    (AssetDetailState, "save_mine_over", ()),
    (RenameState, "start_batch", ("k",)), (RenameState, "save_name", ("1", "x")), (RenameState, "save_alt", ("1", "x")),
    (RenameState, "toggle_accept", ("1", True)), (RenameState, "regenerate_row", ("1",)),
    (RenameState, "retry_failed_offline", ()), (RenameState, "add_keyword_to_all", ({"keyword": "x"},)),
    (RenameState, "apply_names", ()),
    (GenerateState, "generate", ({"prompt": "a fox"},)), (GenerateState, "cancel_current", ()),
    (GenerateState, "toggle_favourite", ("1", "")), (GenerateState, "delete_image", ("1",)),
    (GenerateState, "make_variation", ("1",)),
    (WorkflowsState, "save_recipe", ("k",)), (WorkflowsState, "delete_recipe", ("1",)),
    (WorkflowsState, "start", ("k",)),
    (WorkflowsState, "cancel_run", ()), (WorkflowsState, "retry_failed", ()),
    (SlidesFormState, "create_outline", ()),
    (SlidesState, "delete_deck", ("1",)), (SlidesState, "save_outline", ()), (SlidesState, "generate", ()),
    (SlidesState, "regenerate_slide", ("s1",)), (SlidesState, "confirm_regenerate", ()),
    (SlidesState, "rebuild_outline", ()), (SlidesState, "cancel_generation", ()), (SlidesState, "save_version", ()),
    (SlidesState, "restore_version", ("1",)), (SlidesState, "drop_slide", ("s1", "s2")),
    (SlidesState, "save_over_changes", ()), (SlidesState, "leave_deck", (True,)),
    (TemplatesState, "create", ({"name": "x"},)), (TemplatesState, "duplicate", ("1",)),
    (TemplatesState, "archive", ("1", True)),
    (TemplateEditorState, "save", ({"note": "x"},)), (TemplateEditorState, "save_sample", (False,)),
    (TemplateEditorState, "delete_sample", ()), (TemplateEditorState, "save_details", ({"name": "x"},)),
    (TemplateToolsState, "send_test", ({"addresses": "a@example.com"},)), (TemplateToolsState, "new_deck", ()),
    (SlidesTemplateState, "save", ({"name": "x"},)),
    (ReviewPanelState, "submit", ()), (ReviewPanelState, "activate", ("1",)), (WorkflowSettingsState, "save", ()),
    (TemplatePicturesState, "open_picker", ()), (TemplatePicturesState, "pick_picture", ("1",)),
    (TemplatePicturesState, "revoke", ("1",)),
]


@pytest.fixture(params=["viewer", "approver"])
def reader_cookie(env, request):
    owner = register("ada@example.com")
    reader = register("grace@example.com")
    with session_scope() as session:
        team = create_team(session=session, user_id=owner.id, name="Studio").id
        session.add(Membership(workspace_id=team, user_id=reader.id, role=request.param))
        token = create_session(session=session, user_id=reader.id)
    with session_scope() as session:  # this browser acts in the team workspace (the switcher's doing)
        row = session.get(AuthSession, token_digest(token))
        row.workspace_id = team
        session.add(row)
    return f"{COOKIE_NAME}={token}", request.param.capitalize()


async def call(state_cls, name, args, cookie):
    fake = FakeState(cookie)
    fake._editor = lambda: RenameState._editor(fake)  # the renamer's own helper, as the real state has it
    result = state_cls.event_handlers[name].fn(fake, *args)
    if inspect.isasyncgen(result):  # a handler that yields: its first answer is the refusal
        return await anext(result)
    return await result if inspect.isawaitable(result) else result


async def test_readers_are_refused_with_their_role_named(reader_cookie):
    cookie, label = reader_cookie
    before = snapshot()
    for state_cls, name, args in WRITE_CALLS:
        result = await call(state_cls, name, args, cookie)
        assert f"Your role in this workspace ({label}) does not allow that." in str(result), (name, result)
    assert snapshot() == before
