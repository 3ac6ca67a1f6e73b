"""Workspace members and invitations at the service layer, on real SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from app.db import session_scope
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.models import AuditEvent, Invitation, Membership, OutboxEmail, User
from app.services.auth import accounts
from app.services.workspaces import invitations, members
from app.services.workspaces import service as workspaces
from app.services.workspaces.invitations import InvitationClosed
from tests.integration.test_email import smtp  # noqa: F401  (the fixture)

PASSWORD = "correct horse battery"


def register(email: str, **kw):
    with session_scope() as session:
        return accounts.register_user(session=session, email=email, password=PASSWORD, **kw)


def team(owner, name="Studio"):
    with session_scope() as session:
        return workspaces.create_team(session=session, user_id=owner.id, name=name).id


def invite(actor, workspace_id, email, role="editor"):
    with session_scope() as session:
        row, link = invitations.invite(session=session, actor=actor, workspace_id=workspace_id, email=email,
                                       role=role)
        return row.id, link.rsplit("token=", 1)[1]


def accept(token, user):
    with session_scope() as session:
        return invitations.accept(session=session, token=token, user=user).role


def role(workspace_id, user):
    with session_scope() as session:
        return workspaces.role_in(session=session, workspace_id=workspace_id, user_id=user.id)


@pytest.fixture
def trio(any_db):
    owner, editor, stranger = register("olga@example.com"), register("ed@example.com"), register("sam@example.com")
    workspace_id = team(owner)
    _, token = invite(owner, workspace_id, "ED@example.com")
    accept(token, editor)
    return owner, editor, stranger, workspace_id


def test_invite_mails_a_link_and_accepting_joins_with_the_role(trio):
    _, editor, _, workspace_id = trio
    assert role(workspace_id, editor) == "editor"
    with session_scope() as session:
        mail = session.exec(select(OutboxEmail).where(OutboxEmail.to_address == "ed@example.com")).one()
        assert "Studio" in mail.body_text and "/invite?token=" in mail.body_text
        listed = members.list_members(session=session, workspace_id=workspace_id)
        assert [(m["email"], m["role"]) for m in listed] == [("olga@example.com", "owner"),
                                                             ("ed@example.com", "editor")]
        actions = set(session.exec(select(AuditEvent.action)).all())
    assert {"invitation.created", "invitation.accepted"} <= actions


def test_a_link_works_once_and_only_for_its_address(trio):
    owner, _, stranger, workspace_id = trio
    _, token = invite(owner, workspace_id, "viv@example.com", role="viewer")
    with pytest.raises(Forbidden) as foreign:
        accept(token, stranger)
    assert foreign.value.code == "invitation_other_email"
    assert role(workspace_id, stranger) is None
    viv = register("viv@example.com")
    assert accept(token, viv) == "viewer"
    with pytest.raises(InvitationClosed) as used:
        accept(token, viv)
    assert used.value.code == "invitation_used"


def closed_code(token: str) -> tuple[str, str]:
    with session_scope() as session, pytest.raises((InvitationClosed, NotFound)) as closed:
        invitations.preview(session=session, token=token)
    return closed.value.code, closed.value.message


def test_reinviting_refreshes_instead_of_duplicating_and_the_old_link_says_it_was_replaced(trio):
    owner, _, _, workspace_id = trio
    first_id, first = invite(owner, workspace_id, "new@example.com", role="viewer")
    second_id, second = invite(owner, workspace_id, "New@Example.com", role="approver")
    assert first_id == second_id and first != second
    with session_scope() as session:
        shown = invitations.preview(session=session, token=second)
        assert (shown["role"], shown["workspace_name"], shown["inviter"]) == ("approver", "Studio", "olga@example.com")
        assert session.get(Invitation, first_id).sent_count == 2
        invitations.resend(session=session, actor=owner, workspace_id=workspace_id, invitation_id=first_id)
    # The older links do not open it, and say why instead of "check that you copied all of it".
    for old in (first, second):
        code, message = closed_code(old)
        assert code == "invitation_replaced" and "replaced" in message and "newest invitation email" in message
    assert closed_code("not-a-link")[0] == "invitation_unknown"
    # Once it is used, an old link says that (what matters now), not that it was replaced.
    newcomer = register("new@example.com")
    with session_scope() as session:
        invitations.join(session=session, row=session.get(Invitation, first_id), user_id=newcomer.id)
    assert closed_code(first)[0] == "invitation_used"


def test_expired_and_revoked_links_say_so(trio):
    owner, _, _, workspace_id = trio
    late_id, late = invite(owner, workspace_id, "late@example.com")
    gone_id, gone = invite(owner, workspace_id, "gone@example.com")
    with session_scope() as session:
        row = session.get(Invitation, late_id)
        row.expires_at = row.expires_at - timedelta(days=30)
        session.add(row)
        invitations.revoke(session=session, actor=owner, workspace_id=workspace_id, invitation_id=gone_id)
    with session_scope() as session:
        for token, code in ((late, "invitation_expired"), (gone, "invitation_revoked")):
            with pytest.raises(InvitationClosed) as closed:
                invitations.preview(session=session, token=token)
            assert closed.value.code == code


def test_inviting_a_member_is_a_conflict_and_editors_cannot_invite(trio):
    owner, editor, stranger, workspace_id = trio
    with pytest.raises(Conflict) as member:
        invite(owner, workspace_id, "ed@example.com")
    assert member.value.code == "already_member"
    with pytest.raises(Forbidden):
        invite(editor, workspace_id, "x@example.com")
    with pytest.raises(NotFound):
        invite(stranger, workspace_id, "x@example.com")
    with pytest.raises(ValidationFailed):
        invite(owner, workspace_id, "x@example.com", role="owner")


def test_the_last_owner_rule_and_transfer(trio):
    owner, editor, _, workspace_id = trio
    with session_scope() as session:
        with pytest.raises(ValidationFailed):
            members.set_role(session=session, actor=owner, workspace_id=workspace_id, user_id=editor.id, role="owner")
        with pytest.raises(Conflict) as last:
            members.set_role(session=session, actor=owner, workspace_id=workspace_id, user_id=owner.id, role="admin")
        assert last.value.code == "last_owner"
        with pytest.raises(Conflict):
            members.leave(session=session, user_id=owner.id, workspace_id=workspace_id)
    with session_scope() as session:
        members.set_role(session=session, actor=owner, workspace_id=workspace_id, user_id=editor.id, role="admin")
    with session_scope() as session:
        # An admin cannot touch the owner.
        with pytest.raises(Forbidden):
            members.set_role(session=session, actor=editor, workspace_id=workspace_id, user_id=owner.id,
                             role="viewer")
        members.transfer_ownership(session=session, actor=owner, workspace_id=workspace_id, to_user_id=editor.id)
    assert (role(workspace_id, owner), role(workspace_id, editor)) == ("admin", "owner")
    with session_scope() as session:
        members.leave(session=session, user_id=owner.id, workspace_id=workspace_id)
    assert role(workspace_id, owner) is None


def test_personal_workspaces_cannot_be_left_or_shared(trio):
    owner, *_ = trio
    with session_scope() as session:
        personal = session.get(User, owner.id).personal_workspace_id
        with pytest.raises(Conflict):
            members.leave(session=session, user_id=owner.id, workspace_id=personal)
        with pytest.raises(Conflict):
            invitations.invite(session=session, actor=owner, workspace_id=personal, email="x@example.com",
                               role="viewer")


def test_removal_takes_the_role_and_an_invitation_brings_them_back(trio):
    owner, editor, _, workspace_id = trio
    with session_scope() as session:
        members.remove_member(session=session, actor=owner, workspace_id=workspace_id, user_id=editor.id)
    with session_scope() as session:
        # A tombstone without a role (single sign-on's groups must not bring them back), listed nowhere.
        assert session.get(Membership, (workspace_id, editor.id)).role == "removed"
        assert workspaces.role_in(session=session, workspace_id=workspace_id, user_id=editor.id) is None
        assert editor.id not in [m["user_id"] for m in members.list_members(session=session, workspace_id=workspace_id)]
        assert workspace_id not in [w.id for w, _ in workspaces.workspaces_of(session=session, user_id=editor.id)]
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "member.removed")).one()
    _, token = invite(owner, workspace_id, editor.email, role="viewer")
    with session_scope() as session:
        invitations.accept(session=session, token=token, user=editor)
        assert workspaces.role_in(session=session, workspace_id=workspace_id, user_id=editor.id) == "viewer"


def test_the_invitation_reaches_a_real_smtp_server_and_a_rolled_back_one_sends_nothing(smtp):  # noqa: F811
    import email
    import email.policy

    from tests.integration.test_email import run_email_queue

    owner = register("olga@example.com", name="Olga")
    workspace_id = team(owner)
    with pytest.raises(RuntimeError), session_scope() as session:
        invitations.invite(session=session, actor=owner, workspace_id=workspace_id, email="lost@example.com",
                           role="viewer")
        raise RuntimeError("the request failed after the invite")
    _, token = invite(owner, workspace_id, "ed@example.com")
    run_email_queue()
    assert [m.rcpt_tos for m in smtp.messages] == [["ed@example.com"]]
    message = email.message_from_bytes(smtp.messages[0].content, policy=email.policy.default)
    assert message["Subject"] == "Olga invited you to Studio on Atelier"
    assert f"/invite?token={token}" in message.get_content()
    with session_scope() as session:
        assert session.exec(select(Invitation.email)).all() == ["ed@example.com"]
        assert session.exec(select(OutboxEmail.status)).all() == ["sent"]


def test_signup_allowed_is_one_call_for_every_way_in(env, monkeypatch):
    from app.services.auth.signup_policy import signup_allowed
    from app.settings import get_settings

    monkeypatch.setenv("SIGNUP_MODE", "invite")
    get_settings.cache_clear()
    signup_allowed("first@example.com")  # nobody yet: the first account (the admin) is let in
    owner = register("olga@example.com")
    with pytest.raises(Forbidden) as closed:
        signup_allowed("walk-in@example.com")
    assert closed.value.code == "signup_closed"
    _, token = invite(owner, team(owner), "ed@example.com")
    signup_allowed("ed@example.com", token)
    with pytest.raises(Forbidden):
        signup_allowed("other@example.com", token)
    monkeypatch.setenv("SIGNUP_MODE", "domains")
    monkeypatch.setenv("SIGNUP_DOMAINS", "")
    get_settings.cache_clear()
    with pytest.raises(ValueError):
        get_settings()
