"""The workspace pages driven as the websocket drives them: the switcher, the team page (as an owner and as a
viewer), the invitation page (signed out, signed in, wrong address, closed links), sign-up from a link, and
/admin/workspaces. Real SQLite, real Redis; the services are feat/members'."""

from __future__ import annotations

import inspect
import types

import pytest
from sqlmodel import select

from app.db import session_scope
from app.display import storage_text
from app.models import AuthSession, Invitation, Membership, User, Workspace
from app.services.auth.sessions import COOKIE_NAME, create_session
from app.services.secrets import token_digest
from app.services.workspaces import invitations
from app.services.workspaces import service as workspaces
from state.admin_workspaces import AdminWorkspacesState
from state.invite import InviteState
from state.signup import SignUpState
from state.workspace import WorkspaceState
from state.workspace_switch import SwitcherState
from tests.integration.test_state_guards import FakeState
from tests.integration.test_workspaces_service import invite, register, team


def fake(state_cls, cookie: str, path: str = "/workspace", params: dict | None = None) -> FakeState:
    state = FakeState(cookie)
    state.router.url.path, state.router.url.query_parameters = path, params or {}
    for name, field in state_cls.get_fields().items():
        if name in inspect.get_annotations(state_cls):  # this page's own vars, not Reflex's
            setattr(state, name, field.default_factory() if callable(field.default_factory) else field.default)
    for name, member in vars(state_cls).items():
        if name.startswith("_") and not name.startswith("__") and callable(member):
            setattr(state, name, types.MethodType(member, state))
    return state


async def run(state_cls, name, state, *args):
    result = state_cls.event_handlers[name].fn(state, *args)
    return await result if inspect.isawaitable(result) else result


def signed_in(user) -> tuple[str, str]:
    with session_scope() as session:
        token = create_session(session=session, user_id=user.id)
    return f"{COOKIE_NAME}={token}", token


def acting_in(token: str) -> int | None:
    with session_scope() as session:
        return session.get(AuthSession, token_digest(token)).workspace_id


@pytest.fixture
def owner(env):
    register("ada@example.com")  # the site admin
    return register("olga@example.com")


async def test_create_a_team_and_switch_back_and_forth(owner):
    cookie, token = signed_in(owner)
    switcher = fake(SwitcherState, cookie)
    script = await run(SwitcherState, "create_team", switcher, {"name": "  Harbour   Studio "})
    assert "/workspace" in str(script) and switcher.create_open is False
    team_id = acting_in(token)
    with session_scope() as session:
        assert [(w.name, r) for w, r in workspaces.workspaces_of(session=session, user_id=owner.id)] == [
            ("Personal", "owner"), ("Harbour Studio", "owner")]
    # A name the service refuses stays in the dialog with the reason.
    await run(SwitcherState, "create_team", switcher, {"name": "   "})
    assert "name" in switcher.create_error
    # Switching reloads the page the user is on; an item page goes to its list.
    on_picture = fake(SwitcherState, cookie, path="/assets/12")
    script = await run(SwitcherState, "handle_switch", on_picture, str(owner.workspace_id))
    assert "window.location.assign(\"/assets\")" in str(script) and acting_in(token) == owner.workspace_id
    # Someone else's workspace, or nonsense, changes nothing.
    stranger = register("sam@example.com")
    with session_scope() as session:
        theirs = workspaces.create_team(session=session, user_id=stranger.id, name="Theirs").id
    for target in (str(theirs), "x", "-1"):
        answer = await run(SwitcherState, "handle_switch", fake(SwitcherState, cookie), target)
        assert acting_in(token) == owner.workspace_id, answer
    await run(SwitcherState, "handle_switch", fake(SwitcherState, cookie), str(team_id))
    assert acting_in(token) == team_id


async def test_the_team_page_for_an_owner_and_for_a_viewer(owner):
    team_id = team(owner, "Harbour Studio")
    cookie, token = signed_in(owner)
    with session_scope() as session:
        workspaces.switch(session=session, session_token=token, user_id=owner.id, workspace_id=team_id)
    page = fake(WorkspaceState, cookie)
    await run(WorkspaceState, "load_page", page)
    assert [m["email"] for m in page.members] == ["olga@example.com"] and page.members[0]["is_me"] == "yes"
    assert page.usage == {"members": "1", "storage": "0 bytes", "credits": page.usage["credits"]}

    await run(WorkspaceState, "invite", page, {"invite_email": "Vera@Example.com"})
    WorkspaceState.event_handlers["set_invite_role"].fn(page, "viewer")
    assert "changes nothing" in WorkspaceState.computed_vars["invite_role_help"].fget(page)
    await run(WorkspaceState, "invite", page, {"invite_email": "ed@example.com"})
    assert page.invite_error == ""
    assert {(i["email"], i["role"]) for i in page.invitations} == {("vera@example.com", "editor"),
                                                                  ("ed@example.com", "viewer")}
    # Owner is not a role one invites with, whatever the browser sends.
    WorkspaceState.event_handlers["set_invite_role"].fn(page, "owner")
    assert page.invite_role == "editor"

    # The viewer joins by the link; their page lists members and nothing to manage; their handlers refuse.
    viewer = register("ed@example.com")
    with session_scope() as session:
        row = session.exec(select(Invitation).where(Invitation.email == "ed@example.com")).one()
    _, token_for_ed = invite(owner, team_id, "ed@example.com", role="viewer")  # a fresh link (resend)
    v_cookie, v_token = signed_in(viewer)
    accept_page = fake(InviteState, v_cookie, path="/invite", params={"token": token_for_ed})
    await run(InviteState, "load_page", accept_page)
    assert accept_page.status == "open" and accept_page.offer["workspace"] == "Harbour Studio"
    assert accept_page.offer["role_label"] == "Viewer" and accept_page.other_email == ""
    script = await run(InviteState, "accept", accept_page)
    assert "/dashboard" in str(script) and acting_in(v_token) == team_id

    v_page = fake(WorkspaceState, v_cookie)
    await run(WorkspaceState, "load_page", v_page)
    assert len(v_page.members) == 2 and v_page.invitations == []
    await run(WorkspaceState, "invite", v_page, {"invite_email": "mal@example.com"})
    assert "Viewer" in v_page.invite_error
    answer = await run(WorkspaceState, "remove", v_page, str(owner.id))
    assert "does not allow" in str(answer)
    v_page.delete_typed = "Harbour Studio"
    await run(WorkspaceState, "delete_workspace", v_page)
    assert acting_in(v_token) == team_id

    # The owner changes the viewer's role, then removes them: their session goes back to their own.
    await run(WorkspaceState, "load_page", page)
    await run(WorkspaceState, "change_role", page, str(viewer.id), "editor")
    with session_scope() as session:
        assert session.get(Membership, (team_id, viewer.id)).role == "editor"
    await run(WorkspaceState, "remove", page, str(viewer.id))
    assert acting_in(v_token) is None and [m["email"] for m in page.members] == ["olga@example.com"]
    assert row.id  # the first invitation row was reused by the resend, not duplicated

    # Delete needs the exact name.
    page.delete_typed = "harbour studio"
    answer = await run(WorkspaceState, "delete_workspace", page)
    assert "name" in str(answer).lower()
    page.delete_typed = "Harbour Studio"
    script = await run(WorkspaceState, "delete_workspace", page)
    assert "/dashboard" in str(script) and acting_in(token) is None


async def test_the_invitation_page_for_closed_links_and_the_wrong_address(owner):
    team_id = team(owner, "Harbour Studio")
    _, link_token = invite(owner, team_id, "vera@example.com", role="viewer")
    for token, words in (("", "not valid"), ("nope", "not valid"), ("x" * 5000, "not valid")):
        page = fake(InviteState, "", path="/invite", params={"token": token})
        await run(InviteState, "load_page", page)
        assert page.status == "closed" and words in page.problem
    # Signed out: what it offers, and the way back here through sign-in or sign-up.
    page = fake(InviteState, "", path="/invite", params={"token": link_token})
    await run(InviteState, "load_page", page)
    assert page.status == "open" and page.offer["has_account"] == ""
    assert InviteState.computed_vars["sign_up_href"].fget(page).startswith("/signup?next=/invite%3Ftoken%3D")
    # Signed in as someone else: no join, a reason.
    cookie, _ = signed_in(register("mal@example.com"))
    page = fake(InviteState, cookie, path="/invite", params={"token": link_token})
    await run(InviteState, "load_page", page)
    assert "vera@example.com" in page.other_email
    await run(InviteState, "accept", page)
    assert page.status == "closed" and "another email address" in page.problem
    # Revoked: a clear message.
    with session_scope() as session:
        row = session.exec(select(Invitation)).one()
        row.revoked_at = row.created_at
        session.add(row)
    page = fake(InviteState, "", path="/invite", params={"token": link_token})
    await run(InviteState, "load_page", page)
    assert page.status == "closed" and "withdrawn" in page.problem


async def test_inviting_an_address_again_says_the_earlier_link_ended_and_that_link_says_why(owner):
    """The walk: an invitation sent twice; its first email's link said "check that you copied all of it"."""
    team_id = team(owner, "Harbour Studio")
    cookie, token = signed_in(owner)
    with session_scope() as session:
        workspaces.switch(session=session, session_token=token, user_id=owner.id, workspace_id=team_id)
    _, first_link = invite(owner, team_id, "vera@example.com")
    page = fake(WorkspaceState, cookie)
    await run(WorkspaceState, "load_page", page)
    answer = await run(WorkspaceState, "invite", page, {"invite_email": "Vera@example.com",
                                                        "click_key": page.click_key})
    assert "sent again to vera@example.com" in str(answer) and "earlier email no longer works" in str(answer)
    opened = fake(InviteState, "", path="/invite", params={"token": first_link})
    await run(InviteState, "load_page", opened)
    assert opened.status == "closed" and "This link was replaced" in opened.problem
    assert "copied all of it" not in opened.problem


async def test_signing_up_from_a_link_joins_and_lands_in_the_team(owner):
    team_id = team(owner, "Harbour Studio")
    _, link_token = invite(owner, team_id, "edith@example.com")
    page = fake(SignUpState, "", path="/signup", params={"next": f"/invite?token={link_token}"})
    SignUpState.event_handlers["load_page"].fn(page)
    assert page.invite_email == "edith@example.com" and "Harbour Studio as Editor" in page.invite_notice
    script = SignUpState.event_handlers["handle_submit"].fn(page, {
        "email": "edith@example.com", "name": "Edith", "password": "seven seas sailing",
        "confirm": "seven seas sailing"})
    assert page.error == "" and "complete" in str(script)
    with session_scope() as session:
        joined = session.exec(select(Membership).where(Membership.workspace_id == team_id,
                                                       Membership.role == "editor")).all()
    assert len(joined) == 1
    # Back on the invitation page with ?joined=: it switches there and goes to the dashboard.
    with session_scope() as session:
        edith = session.exec(select(User).where(User.email == "edith@example.com")).one()
    cookie, token = signed_in(edith)
    back = fake(InviteState, cookie, path="/invite", params={"joined": str(team_id)})
    script = await run(InviteState, "load_page", back)
    assert "/dashboard" in str(script) and acting_in(token) == team_id


async def test_admin_workspaces_lists_and_filters(owner):
    team(owner, "Harbour Studio")
    with session_scope() as session:
        ada = session.exec(select(User).where(User.email == "ada@example.com")).one()
    cookie, _ = signed_in(ada)
    page = fake(AdminWorkspacesState, cookie, path="/admin/workspaces")
    await run(AdminWorkspacesState, "load_page", page)
    assert page.total == 3 and {w["name"] for w in page.workspaces} == {"Personal", "Harbour Studio"}
    await run(AdminWorkspacesState, "handle_kind", page, "team")
    assert [(w["name"], w["owners"], w["members"]) for w in page.workspaces] == [
        ("Harbour Studio", "olga@example.com", "1")]
    await run(AdminWorkspacesState, "handle_search", page, "nothing like it")
    assert page.workspaces == [] and page.total == 0
    # A member is turned away before anything loads.
    member_cookie, _ = signed_in(owner)
    other = fake(AdminWorkspacesState, member_cookie, path="/admin/workspaces")
    assert await run(AdminWorkspacesState, "load_page", other) and other.workspaces == []


def test_storage_reads_like_people_write_it():
    assert [storage_text(n) for n in (0, 1023, 2048, 5 * 1024**2 + 1, 3 * 1024**3)] == [
        "0 bytes", "1023 bytes", "2 KB", "5.0 MB", "3.0 GB"]


CALLS = [
    (SwitcherState, "handle_switch", ("1",)), (SwitcherState, "create_team", ({"name": "Stolen"},)),
    (WorkspaceState, "load_page", ()), (WorkspaceState, "save_name", ({"workspace_name": "pwned"},)),
    (WorkspaceState, "change_role", ("2", "admin")), (WorkspaceState, "remove", ("2",)),
    (WorkspaceState, "invite", ({"invite_email": "x@example.com"},)), (WorkspaceState, "resend", ("1",)),
    (WorkspaceState, "revoke", ("1",)), (WorkspaceState, "transfer", ()), (WorkspaceState, "leave", ()),
    (WorkspaceState, "delete_workspace", ()), (InviteState, "accept", ()),
    (AdminWorkspacesState, "load_page", ()), (AdminWorkspacesState, "handle_search", ("a",)),
    (AdminWorkspacesState, "approve", ("2",)), (AdminWorkspacesState, "reject", ("2",)),
]


def everything():
    with session_scope() as session:
        return ([(w.id, w.name) for w in session.exec(select(Workspace)).all()],
                [(m.workspace_id, m.user_id, m.role) for m in session.exec(select(Membership)).all()],
                [(i.id, i.sent_count, i.revoked_at) for i in session.exec(select(Invitation)).all()],
                [(u.id, u.pending, u.is_active) for u in session.exec(select(User)).all()])


@pytest.mark.parametrize("state_cls, name, args", CALLS, ids=lambda v: getattr(v, "__name__", str(v)))
async def test_every_handler_refuses_without_a_session(owner, state_cls, name, args):
    team_id = team(owner, "Harbour Studio")
    invite(owner, team_id, "vera@example.com")
    before = everything()
    for cookie in ("", f"{COOKIE_NAME}=forged-or-revoked"):
        state = fake(state_cls, cookie)
        state.transfer_to, state.delete_typed, state._token = "2", "Harbour Studio", "x"
        assert await run(state_cls, name, state, *args)
    assert everything() == before


async def test_sign_ups_waiting_for_approval_are_told_and_approved_on_the_admin_page(owner, monkeypatch):
    from tests.conftest import clear_caches

    monkeypatch.setenv("SIGNUP_APPROVAL", "true")
    clear_caches()
    page = fake(SignUpState, "", path="/signup")
    SignUpState.event_handlers["load_page"].fn(page)
    script = SignUpState.event_handlers["handle_submit"].fn(page, {
        "email": "newcomer@example.com", "name": "New", "password": "seven seas sailing",
        "confirm": "seven seas sailing"})
    assert script is None and "approves new accounts" in page.waiting
    with session_scope() as session:
        ada = session.exec(select(User).where(User.email == "ada@example.com")).one()
    cookie, _ = signed_in(ada)
    admin_page = fake(AdminWorkspacesState, cookie, path="/admin/workspaces")
    await run(AdminWorkspacesState, "load_page", admin_page)
    assert [p["email"] for p in admin_page.pending] == ["newcomer@example.com"]
    toast = await run(AdminWorkspacesState, "approve", admin_page, admin_page.pending[0]["id"])
    assert "can sign in now" in str(toast) and admin_page.pending == []
    with session_scope() as session:
        assert session.exec(select(User).where(User.email == "newcomer@example.com")).one().pending is False


async def test_rename_resend_revoke_transfer_and_leave(owner):
    team_id = team(owner, "Harbour Studio")
    editor = register("ed@example.com")
    _, link_token = invite(owner, team_id, "ed@example.com", role="admin")
    with session_scope() as session:
        invitations.accept(session=session, token=link_token, user=editor)
    cookie, token = signed_in(owner)
    with session_scope() as session:
        workspaces.switch(session=session, session_token=token, user_id=owner.id, workspace_id=team_id)
    page = fake(WorkspaceState, cookie)
    await run(WorkspaceState, "load_page", page)
    toast = await run(WorkspaceState, "save_name", page, {"workspace_name": "Harbour & Co"})
    assert "Renamed to Harbour & Co" in str(toast)

    await run(WorkspaceState, "invite", page, {"invite_email": "vera@example.com"})
    first_id = page.invitations[0]["id"]
    await run(WorkspaceState, "resend", page, first_id)
    assert page.invitations[0]["sent"] == "2"
    await run(WorkspaceState, "revoke", page, first_id)
    assert page.invitations == []

    # Ownership to the admin; the old owner becomes an admin and may then leave.
    WorkspaceState.event_handlers["set_transfer_to"].fn(page, str(editor.id))
    assert WorkspaceState.computed_vars["transfer_label"].fget(page) == "ed@example.com"
    script = await run(WorkspaceState, "transfer", page)
    assert "/workspace" in str(script)
    with session_scope() as session:
        assert session.get(Membership, (team_id, editor.id)).role == "owner"
        assert session.get(Membership, (team_id, owner.id)).role == "admin"
    script = await run(WorkspaceState, "leave", page)
    assert "/dashboard" in str(script) and acting_in(token) is None
    with session_scope() as session:
        assert session.get(Membership, (team_id, owner.id)) is None
