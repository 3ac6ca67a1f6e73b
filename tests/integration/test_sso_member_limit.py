"""Single sign-on's group mapping respects the plan's member limit: past it a new member is neither added nor
signed in (the sign-in page says why, the audit log records it); people already in the team sign in as before."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlmodel import select

from app import routes
from app.db import session_scope
from app.models import AuditEvent, Membership, User
from app.services.auth.sso.errors import message_for
from tests.integration.sso_helpers import configure, counts, register, sso_error, sso_sign_in
from tests.integration.test_billing_plans import edit_free
from tests.integration.test_sso_roles import MAP, _again, _team


def test_a_full_plan_keeps_a_new_member_out_and_lets_members_in(api, any_db, oidc, monkeypatch):
    register(api, "owner@corp.example")
    team = _team()
    configure(oidc, monkeypatch, ROLE_CLAIM="groups", ROLE_MAP=MAP, WORKSPACE_ID=str(team))
    edit_free(member_limit=2)  # the owner and one more
    oidc.user.update(email="ann@corp.example", sub="ann-sub")
    ann = _again(api, oidc, ["designers"])
    assert (ann["workspace_id"], ann["workspace_role"]) == (team, "editor")

    before = counts()
    oidc.user.update(email="bob@corp.example", sub="bob-sub", groups=["designers"])
    api.cookies.clear()
    refused = sso_sign_in(api, oidc)
    assert sso_error(refused) == "sso_plan_member_limit"
    assert urlsplit(refused.headers["location"]).path == routes.SIGN_IN
    assert "no room for another member" in message_for("sso_plan_member_limit")
    assert counts() == before  # no account, identity, session or membership for Bob
    with session_scope() as session:
        failed = session.exec(select(AuditEvent).where(AuditEvent.action == "sso.failed")).all()
        assert [(e.target, e.detail.split(":")[0]) for e in failed] == [("testidp", "sso_plan_member_limit")]
        assert "bob@corp.example" in failed[0].detail and f"workspace {team}" in failed[0].detail

    # Ann is a member already: she signs in, and a new role from her groups still applies.
    oidc.user.update(email="ann@corp.example", sub="ann-sub")
    assert _again(api, oidc, ["leads"])["workspace_role"] == "admin"

    # With room on the plan again, Bob's next sign-in adds him.
    edit_free(member_limit=3)
    oidc.user.update(email="bob@corp.example", sub="bob-sub")
    bob = _again(api, oidc, ["designers"])
    with session_scope() as session:
        row = session.get(Membership, (team, bob["id"]))
        assert (row.role, row.role_source) == ("editor", "sso:testidp")
        assert session.exec(select(User).where(User.email == "bob@corp.example")).one().id == bob["id"]
