"""Every admin and private event handler re-checks the session and role on the server.

Events can be sent over the websocket by hand, so the page's on_load redirect protects nothing;
these tests call each handler as a signed-in member (and as nobody) and check it refuses and
changes nothing.
"""

import inspect
from types import SimpleNamespace

import pytest
from sqlmodel import select

from app.db import session_scope
from app.models import (
    ApiToken,
    AuditEvent,
    CreditEntry,
    Deck,
    DeckVersion,
    DenylistTerm,
    Generation,
    Recipe,
    StylePreset,
    User,
)
from app.services.auth.sessions import COOKIE_NAME, create_session
from state.admin import AdminAuditState, AdminHealthState, AdminJobsState, AdminOutboxState, AdminUsersState
from state.admin_billing import AdminBillingState
from state.admin_generation import AdminModerationState, AdminStylesState
from state.asset_detail import AssetDetailState
from state.assets import AssetsState
from state.billing import BillingState
from state.generate import GenerateState
from state.generate_styles import GenerateStylesState
from state.handoff import HandoffState
from state.library import LibraryState
from state.rename import RenameState
from state.settings import SettingsState
from state.slides import SlidesState
from state.slides_form import SlidesFormState
from state.slides_template import SlidesTemplateState
from state.sso_settings import SsoSettingsState
from state.template_editor import TemplateEditorState
from state.template_pictures import TemplatePicturesState
from state.template_tools import TemplateToolsState
from state.templates import TemplatesState
from state.workflows import WorkflowsState
from tests.integration.test_accounts import register

ADMIN_CALLS = [
    (AdminUsersState, "load_page", ()), (AdminUsersState, "handle_search", ("a",)),
    (AdminUsersState, "set_role", ("2", "admin")), (AdminUsersState, "toggle_active", ("2", "yes")),
    (AdminUsersState, "grant_credits", ({"user_id": "2", "amount": "500", "reason": "x"},)),
    (AdminUsersState, "set_grant_open", ("2", True)),
    (AdminJobsState, "load_page", ()), (AdminJobsState, "handle_status_filter", ("failed",)),
    (AdminJobsState, "handle_kind_filter", ("assets.process",)),
    (AdminJobsState, "retry_job", ("job",)), (AdminJobsState, "cancel_job", ("job",)),
    (AdminOutboxState, "load_page", ()), (AdminHealthState, "load_page", ()), (AdminAuditState, "load_page", ()),
    (AdminStylesState, "load_page", ()), (AdminStylesState, "open_editor", ("photo",)),
    (AdminStylesState, "save_style", ({"key": "evil", "name": "Evil", "template": "{prompt}"},)),
    (AdminStylesState, "delete_style", ("photo",)),
    (AdminModerationState, "load_page", ()), (AdminModerationState, "handle_term_query", ("a",)),
    (AdminModerationState, "handle_decision_filter", ("refused",)),
    (AdminModerationState, "add_term", ({"term": "harmless", "kind": "word", "category": "other"},)),
    (AdminModerationState, "delete_term", ("1",)),
    (AdminBillingState, "load_page", ()),
    (AdminBillingState, "save_plan", ({"key": "evil", "name": "Evil", "monthly_rename_quota": "9"},)),
    (AdminBillingState, "save_pack", ({"name": "Free money", "credits": "999", "stripe_price_id": "price_x"},)),
]
PRIVATE_CALLS = [
    (SettingsState, "load_page", ()), (SettingsState, "create_token", ({"token_name": "stolen"},)),
    (SettingsState, "revoke_token", ("1",)), (SettingsState, "save_profile", ({"name": "pwned"},)),
    (SettingsState, "change_password", ({"current_password": "x", "new_password": "y" * 12, "confirm": "y" * 12},)),
    (SsoSettingsState, "load_page", ()), (SsoSettingsState, "unlink", ("1",)),
    (AssetsState, "load_page", ()), (LibraryState, "load_page", ()), (LibraryState, "load_more", ()),
    (LibraryState, "add_tag", ({"tag": "x"},)), (LibraryState, "delete_selected", ()),
    (LibraryState, "rename_collection", ({"collection_id": "1", "name": "x"},)),
    (AssetDetailState, "load_page", ()), (AssetDetailState, "save_details", ({"filename": "x.jpg"},)),
    (AssetDetailState, "delete_picture", ()), (AssetDetailState, "save_mine_over", ()),
    (AssetDetailState, "reload_picture", ()), (RenameState, "search_library", ("a",)),
    (WorkflowsState, "search_library", ("a",)), (WorkflowsState, "choose_all", ()),
    (GenerateState, "load_page", ()), (GenerateState, "generate", ({"prompt": "a fox"},)),
    (GenerateState, "cancel_current", ()),
    (GenerateState, "toggle_favourite", ("1", "")), (GenerateState, "delete_image", ("1",)),
    (GenerateState, "use_settings", ("1",)), (GenerateState, "make_variation", ("1",)),
    (GenerateState, "load_more", ()), (GenerateState, "handle_filter_style", ("photo",)),
    (WorkflowsState, "load_page", ()), (WorkflowsState, "start", ()), (WorkflowsState, "add_step", ()),
    (WorkflowsState, "save_recipe", ("k",)), (WorkflowsState, "delete_recipe", ("1",)),
    (WorkflowsState, "open_run", ("1",)), (WorkflowsState, "cancel_run", ()), (WorkflowsState, "retry_failed", ()),
    (SlidesFormState, "load_page", ()), (SlidesFormState, "create_outline", ()),
    (SlidesFormState, "handle_document", ([],)), (SlidesFormState, "handle_brand_kit", ([],)),
    (SlidesState, "load_page", ()), (SlidesState, "open_deck", ("1",)), (SlidesState, "new_deck", ()),
    (SlidesState, "delete_deck", ("1",)), (SlidesState, "save_outline", ()), (SlidesState, "generate", ()),
    (SlidesState, "regenerate_slide", ("s1",)), (SlidesState, "confirm_regenerate", ()),
    (SlidesState, "rebuild_outline", ()),
    (SlidesState, "cancel_generation", ()), (SlidesState, "save_version", ()),
    (SlidesState, "restore_version", ("1",)), (SlidesState, "drop_slide", ("s1", "s2")),
    (SlidesState, "save_over_changes", ()), (SlidesState, "discard_edits", ()), (SlidesState, "leave_deck", (True,)),
    (BillingState, "load_page", ()), (BillingState, "buy_pack", ("1",)), (BillingState, "subscribe", ("1",)),
    (BillingState, "open_portal", ()), (BillingState, "save_budget", ({"monthly_cap": "1"},)),
    (TemplatesState, "load_page", ()), (TemplatesState, "create", ({"name": "x"},)),
    (TemplatesState, "duplicate", ("1",)), (TemplatesState, "archive", ("1", True)),
    (TemplateEditorState, "load_page", ()), (TemplateEditorState, "save", ({"note": "x"},)),
    (TemplateEditorState, "save_sample", (False,)), (TemplateEditorState, "delete_sample", ()),
    (TemplateEditorState, "restore", ("1",)), (TemplateEditorState, "save_details", ({"name": "x"},)),
    (TemplateEditorState, "recheck", ()), (TemplateToolsState, "send_test", ({"addresses": "a@example.com"},)),
    (TemplateToolsState, "new_deck", ()), (SlidesTemplateState, "save", ({"name": "x"},)),
    (GenerateStylesState, "load_page", ()), (GenerateStylesState, "choose", ("1",)),
    (TemplatePicturesState, "open_picker", ()), (TemplatePicturesState, "search_picker", ("x",)),
    (TemplatePicturesState, "pick_picture", ("1",)), (TemplatePicturesState, "load_links", ()),
    (TemplatePicturesState, "revoke", ("1",)),
]


class FakeState(SimpleNamespace):
    """Just enough of an rx.State for a handler: router data and get_state."""

    def __init__(self, cookie: str):
        super().__init__(router=SimpleNamespace(
            headers=SimpleNamespace(cookie=cookie, raw_headers={}),
            url=SimpleNamespace(path="/admin/users", query_parameters={}),
            session=SimpleNamespace(client_ip="203.0.113.9")))

    async def get_state(self, cls):
        if cls is HandoffState:  # a real one (one per page state): pages hand work over through it
            self.__dict__.setdefault("_handoff", HandoffState(_reflex_internal_init=True))
            return self._handoff
        return SimpleNamespace(_apply=lambda user: None)


async def call(state_cls, name, args, cookie):
    fn = state_cls.event_handlers[name].fn
    fake = FakeState(cookie)
    result = fn(fake, *args)
    if inspect.isasyncgen(result):  # a handler that yields: its first answer is the refusal
        result = await anext(result)
    elif inspect.isawaitable(result):
        result = await result
    return fake, result


def snapshot():
    with session_scope() as session:
        return (
            [(u.id, u.role, u.is_active, u.name) for u in session.exec(select(User)).all()],
            len(session.exec(select(ApiToken)).all()), len(session.exec(select(CreditEntry)).all()),
            [e.action for e in session.exec(select(AuditEvent)).all() if e.action.startswith("admin.")],
            [(st.key, st.template) for st in session.exec(select(StylePreset)).all()],
            len(session.exec(select(DenylistTerm)).all()), len(session.exec(select(Generation)).all()),
            len(session.exec(select(Recipe)).all()), len(session.exec(select(Deck)).all()),
            len(session.exec(select(DeckVersion)).all()),
        )


@pytest.fixture
def people(env):
    admin = register("ada@example.com")
    member = register("grace@example.com")
    with session_scope() as session:
        member_cookie = f"{COOKIE_NAME}={create_session(session=session, user_id=member.id)}"
    return admin, member, member_cookie


@pytest.mark.parametrize("state_cls, name, args", ADMIN_CALLS, ids=lambda v: getattr(v, "__name__", str(v)))
async def test_admin_handlers_refuse_members(people, state_cls, name, args):
    before = snapshot()
    fake, result = await call(state_cls, name, args, people[2])
    assert result, "a refused handler answers with a redirect and a message"
    assert snapshot() == before
    for leaked in ("users", "rows", "emails", "checks", "events", "workers", "terms"):
        assert not getattr(fake, leaked, None), f"{name} filled {leaked} for a member"


@pytest.mark.parametrize("state_cls, name, args", PRIVATE_CALLS + ADMIN_CALLS,
                         ids=lambda v: getattr(v, "__name__", str(v)))
async def test_handlers_refuse_without_a_session(people, state_cls, name, args):
    before = snapshot()
    for cookie in ("", f"{COOKIE_NAME}=forged-or-revoked"):
        _, result = await call(state_cls, name, args, cookie)
        assert result
    assert snapshot() == before
