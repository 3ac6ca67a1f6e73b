"""A provider's groups claim → a role in a team workspace, re-applied at every sign-in."""

from __future__ import annotations

from app.db import session_scope
from app.models import Membership
from tests.integration.sso_helpers import audit_actions, configure, register, sso_sign_in

MAP = '{"designers": "editor", "leads": "admin", "reviewers": "approver"}'


def _team(owner_email: str = "owner@corp.example") -> int:
    from sqlmodel import select

    from app.models import User
    from app.services.workspaces import service as workspaces

    with session_scope() as session:
        owner = session.exec(select(User).where(User.email == owner_email)).one()
        return workspaces.create_team(session=session, user_id=owner.id, name="Studio Team").id


def _membership(workspace_id: int, user_id: int) -> Membership | None:
    with session_scope() as session:
        return session.get(Membership, (workspace_id, user_id))


def _again(api, oidc, groups):
    oidc.user["groups"] = groups
    api.cookies.clear()
    answer = sso_sign_in(api, oidc)
    assert answer.status_code == 303 and answer.headers["location"] == "/dashboard", answer.headers
    return api.get("/api/v1/me").json()


def test_groups_map_to_a_role_and_are_reapplied(api, any_db, oidc, monkeypatch):
    register(api, "owner@corp.example")
    team = _team()
    configure(oidc, monkeypatch, ROLE_CLAIM="groups", ROLE_MAP=MAP, WORKSPACE_ID=str(team))

    me = _again(api, oidc, ["staff", "designers"])
    # The session starts in the team workspace, with the mapped role.
    assert (me["workspace_id"], me["workspace_role"]) == (team, "editor")
    row = _membership(team, me["id"])
    assert (row.role, row.role_source) == ("editor", "sso:testidp")

    me = _again(api, oidc, ["designers", "leads"])  # the strongest mapped role wins
    assert (me["workspace_id"], me["workspace_role"]) == (team, "admin")

    me = _again(api, oidc, "reviewers")  # a single string claim is one value
    assert me["workspace_role"] == "approver"

    # Out of every mapped group: the membership this provider made goes, and they land in their own workspace.
    me = _again(api, oidc, ["staff"])
    assert _membership(team, me["id"]) is None
    assert me["workspace_id"] != team and me["workspace_role"] == "owner"
    assert audit_actions().count("sso.role_mapped") == 4


def test_a_membership_from_an_invitation_survives_a_missing_claim(api, any_db, oidc, monkeypatch):
    register(api, "owner@corp.example")
    team = _team()
    configure(oidc, monkeypatch, ROLE_CLAIM="groups", ROLE_MAP=MAP, WORKSPACE_ID=str(team))
    me = _again(api, oidc, [])
    with session_scope() as session:
        session.add(Membership(workspace_id=team, user_id=me["id"], role="viewer", role_source=""))
    _again(api, oidc, [])
    assert _membership(team, me["id"]).role == "viewer"
    # A mapped claim takes over the role (the provider is the authority for people in mapped groups).
    _again(api, oidc, ["designers"])
    row = _membership(team, me["id"])
    assert (row.role, row.role_source) == ("editor", "sso:testidp")


def test_owner_is_never_changed_and_a_removed_member_stays_out(api, any_db, oidc, monkeypatch):
    register(api, "owner@corp.example")
    team = _team()
    configure(oidc, monkeypatch, ROLE_CLAIM="groups", ROLE_MAP=MAP, WORKSPACE_ID=str(team))
    oidc.user.update(email="owner@corp.example", sub="owner-sub")
    me = _again(api, oidc, ["reviewers"])
    assert _membership(team, me["id"]).role == "owner"

    oidc.user.update(email="bob@corp.example", sub="bob-sub")
    bob = _again(api, oidc, ["designers"])
    # The owner removes Bob through the members service; his group claim must not bring him back.
    from app.models import User
    from app.services.workspaces import members
    from app.services.workspaces.service import acting

    with session_scope() as session:
        owner = acting(session=session, user=session.get(User, me["id"]), workspace_id=team)
        members.remove_member(session=session, actor=owner, workspace_id=team, user_id=bob["id"])
    bob = _again(api, oidc, ["designers"])
    assert bob["workspace_id"] != team
    assert _membership(team, bob["id"]).role == "removed"


def test_mapping_to_a_missing_workspace_is_skipped(api, any_db, oidc, monkeypatch):
    configure(oidc, monkeypatch, ROLE_CLAIM="groups", ROLE_MAP=MAP, WORKSPACE_ID="999")
    me = _again(api, oidc, ["designers"])
    assert me["workspace_role"] == "owner"  # signed in to their own workspace; health shows the problem
