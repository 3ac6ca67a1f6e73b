"""/api/v1/workspaces, members and invitations through the production middleware, one browser per person."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest
from rq import SimpleWorker
from sqlmodel import select
from starlette.testclient import TestClient

from app.db import session_scope
from app.models import ApiToken, AuditEvent, Invitation, Membership, OutboxEmail, User
from app.queue import get_queue
from app.redis_client import get_redis
from app.services.auth import api_tokens
from app.storage import get_storage
from tests import images
from tests.integration.test_api_auth import ORIGIN, PASSWORD, assert_error

API = "/api/v1"


@pytest.fixture
def browsers(any_db):
    """browser(email) → a signed-in client of its own (the first one registered is the site admin)."""
    from app.api.middleware import BodyLimit, SecurityHeaders
    from tests.conftest import shared_api

    app = SecurityHeaders(BodyLimit(shared_api()))
    with contextlib.ExitStack() as stack:
        def browser(email: str | None = None, *, sign_in: bool = True, **register) -> TestClient:
            client = stack.enter_context(TestClient(app, base_url="http://localhost:3000"))
            if email:
                made = client.post(f"{API}/auth/register", headers=ORIGIN,
                                   json={"email": email, "password": PASSWORD, **register})
                assert made.status_code == 201, made.text
                if sign_in:
                    signed = client.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD},
                                         headers=ORIGIN)
                    assert signed.status_code == 200, signed.text
            return client
        yield browser


def make_team(client, name="Studio") -> int:
    made = client.post(f"{API}/workspaces", json={"name": name}, headers=ORIGIN)
    assert made.status_code == 201, made.text
    assert made.json()["role"] == "owner" and made.json()["kind"] == "team"
    return made.json()["id"]


def send_invite(client, workspace_id, email, role="editor"):
    return client.post(f"{API}/workspaces/{workspace_id}/invitations", json={"email": email, "role": role},
                       headers=ORIGIN)


def token_of(sent) -> str:
    assert sent.status_code == 201, sent.text
    return sent.json()["link"].rsplit("token=", 1)[1]


def join(owner, member, member_email, workspace_id, role="editor") -> None:
    token = token_of(send_invite(owner, workspace_id, member_email, role))
    accepted = member.post(f"{API}/invitations/{token}/accept", headers=ORIGIN)
    assert accepted.status_code == 200, accepted.text


def audit_actions() -> list[str]:
    with session_scope() as session:
        return list(session.exec(select(AuditEvent.action)).all())


def test_invitation_lifecycle_from_the_email_to_the_member_list(browsers):
    owner = browsers("olga@example.com", name="Olga")
    team = make_team(owner)
    sent = send_invite(owner, team, "Ed@Example.com", "editor")
    token = token_of(sent)
    assert sent.json()["status"] == "pending" and sent.json()["email"] == "ed@example.com"
    with session_scope() as session:
        mail = session.exec(select(OutboxEmail).where(OutboxEmail.to_address == "ed@example.com")).one()
    assert sent.json()["link"] in mail.body_text and "Studio" in mail.subject
    assert sent.json()["link"].startswith("http://localhost:3000/invite?token=")

    anonymous = browsers()
    shown = anonymous.get(f"{API}/invitations/{token}")
    assert shown.status_code == 200, shown.text
    assert {k: shown.json()[k] for k in ("workspace_name", "inviter", "role", "email", "has_account")} == {
        "workspace_name": "Studio", "inviter": "Olga", "role": "editor", "email": "ed@example.com",
        "has_account": False}
    assert_error(anonymous.post(f"{API}/invitations/{token}/accept", headers=ORIGIN), 401, "auth_required")

    editor = browsers("ed@example.com")
    accepted = editor.post(f"{API}/invitations/{token}/accept", headers=ORIGIN)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["workspace"]["role"] == "editor"
    assert accepted.json()["workspace"]["current"] is False  # accepting switches nothing
    mine = editor.get(f"{API}/workspaces").json()["workspaces"]
    assert [(w["kind"], w["role"]) for w in mine] == [("personal", "owner"), ("team", "editor")]
    listed = owner.get(f"{API}/workspaces/{team}/members").json()["members"]
    assert [(m["email"], m["role"]) for m in listed] == [("olga@example.com", "owner"), ("ed@example.com", "editor")]

    assert_error(editor.post(f"{API}/invitations/{token}/accept", headers=ORIGIN), 410, "invitation_used")
    assert_error(anonymous.get(f"{API}/invitations/{token}"), 410, "invitation_used")
    assert owner.get(f"{API}/workspaces/{team}/invitations").json()["invitations"] == []
    closed = owner.get(f"{API}/workspaces/{team}/invitations?include_closed=true").json()["invitations"]
    assert [i["status"] for i in closed] == ["accepted"]
    assert {"workspace.created", "invitation.created", "invitation.accepted"} <= set(audit_actions())

    switched = editor.post(f"{API}/workspaces/{team}/switch", headers=ORIGIN)
    assert switched.status_code == 200 and switched.json()["current"] is True
    assert editor.get(f"{API}/me").json()["workspace_id"] == team


def test_expired_revoked_foreign_and_unknown_links_fail_cleanly(browsers):
    owner = browsers("olga@example.com")
    team = make_team(owner)
    late = token_of(send_invite(owner, team, "late@example.com"))
    gone_sent = send_invite(owner, team, "gone@example.com")
    gone = token_of(gone_sent)
    other = token_of(send_invite(owner, team, "someone@example.com"))
    with session_scope() as session:
        row = session.exec(select(Invitation).where(Invitation.email == "late@example.com")).one()
        row.expires_at = row.expires_at - timedelta(days=8)
        session.add(row)
    revoked = owner.delete(f"{API}/workspaces/{team}/invitations/{gone_sent.json()['id']}", headers=ORIGIN)
    assert revoked.status_code == 204
    assert_error(owner.delete(f"{API}/workspaces/{team}/invitations/{gone_sent.json()['id']}", headers=ORIGIN),
                 409, "invitation_closed")

    late_user = browsers("late@example.com")
    gone_user = browsers("gone@example.com")
    stranger = browsers("sam@example.com")
    assert_error(late_user.post(f"{API}/invitations/{late}/accept", headers=ORIGIN), 410, "invitation_expired")
    assert_error(gone_user.post(f"{API}/invitations/{gone}/accept", headers=ORIGIN), 410, "invitation_revoked")
    assert_error(stranger.post(f"{API}/invitations/{other}/accept", headers=ORIGIN), 403, "invitation_other_email")
    assert_error(stranger.get(f"{API}/invitations/not-a-real-token"), 404, "invitation_unknown")
    assert_error(stranger.post(f"{API}/invitations/{'x' * 201}/accept", headers=ORIGIN), 422, "validation_failed")
    with session_scope() as session:
        # Nothing half-made: no one joined, and the foreign attempt left the invitation open for its owner.
        assert session.exec(select(Membership).where(Membership.workspace_id == team)).all()[0].role == "owner"
        assert len(session.exec(select(Membership).where(Membership.workspace_id == team)).all()) == 1
        row = session.exec(select(Invitation).where(Invitation.email == "someone@example.com")).one()
        assert row.accepted_at is None and row.revoked_at is None

    # An expired invitation can be sent again: a new link that works.
    late_id = next(i["id"] for i in owner.get(f"{API}/workspaces/{team}/invitations").json()["invitations"]
                   if i["email"] == "late@example.com")
    again = owner.post(f"{API}/workspaces/{team}/invitations/{late_id}/resend", headers=ORIGIN)
    assert again.status_code == 200 and again.json()["sent_count"] == 2
    fresh = again.json()["link"].rsplit("token=", 1)[1]
    # The old link is refused, saying it was replaced (not that it was mistyped).
    assert_error(late_user.post(f"{API}/invitations/{late}/accept", headers=ORIGIN), 410, "invitation_replaced")
    assert late_user.post(f"{API}/invitations/{fresh}/accept", headers=ORIGIN).status_code == 200


def test_bad_invitation_input(browsers):
    owner = browsers("olga@example.com")
    team = make_team(owner)
    editor = browsers("ed@example.com")
    join(owner, editor, "ed@example.com", team)
    assert_error(send_invite(owner, team, "ed@example.com"), 409, "already_member")
    assert_error(send_invite(owner, team, "not an email"), 422, "invalid_email")
    assert_error(send_invite(owner, team, "x@example.com", "owner"), 422, "owner_by_transfer")
    assert_error(send_invite(owner, team, "x@example.com", "god"), 422, "invalid_role")
    personal = owner.get(f"{API}/me").json()["workspace_id"]
    assert_error(send_invite(owner, personal, "x@example.com"), 409, "personal_workspace")
    first, second = send_invite(owner, team, "x@example.com", "viewer"), send_invite(owner, team, "X@example.com")
    assert first.json()["id"] == second.json()["id"] and second.json()["role"] == "editor"
    assert len(owner.get(f"{API}/workspaces/{team}/invitations").json()["invitations"]) == 1


def test_non_members_get_404_and_members_without_the_right_get_403(browsers):
    owner = browsers("olga@example.com")
    team = make_team(owner)
    viewer, stranger = browsers("vic@example.com"), browsers("sam@example.com")
    join(owner, viewer, "vic@example.com", team, "viewer")
    vic_id = viewer.get(f"{API}/me").json()["id"]
    for client, status, code in ((stranger, 404, "workspace_not_found"), (viewer, 403, "role_forbidden")):
        assert_error(client.patch(f"{API}/workspaces/{team}", json={"name": "Mine"}, headers=ORIGIN), status, code)
        assert_error(send_invite(client, team, "z@example.com"), status, code)
        assert_error(client.get(f"{API}/workspaces/{team}/invitations"), status, code)
        assert_error(client.patch(f"{API}/workspaces/{team}/members/{vic_id}", json={"role": "admin"},
                                  headers=ORIGIN), status, code)
        assert_error(client.request("DELETE", f"{API}/workspaces/{team}", json={"confirm_name": "Studio"},
                                    headers=ORIGIN), status, code)
    assert_error(stranger.get(f"{API}/workspaces/{team}"), 404, "workspace_not_found")
    assert_error(stranger.get(f"{API}/workspaces/{team}/members"), 404, "workspace_not_found")
    assert_error(stranger.post(f"{API}/workspaces/{team}/switch", headers=ORIGIN), 404, "workspace_not_found")
    assert viewer.get(f"{API}/workspaces/{team}/members").status_code == 200
    shown = viewer.get(f"{API}/workspaces/{team}").json()
    assert shown["role"] == "viewer" and "members.manage" not in shown["actions"] and shown["members"] == 2
    assert_error(owner.get(f"{API}/workspaces/999999"), 404, "workspace_not_found")


def test_roles_the_last_owner_transfer_and_leave(browsers):
    owner = browsers("olga@example.com")
    team = make_team(owner)
    admin, editor = browsers("ada@example.com"), browsers("ed@example.com")
    join(owner, admin, "ada@example.com", team, "admin")
    join(owner, editor, "ed@example.com", team, "editor")
    ids = {m["email"]: m["user_id"] for m in owner.get(f"{API}/workspaces/{team}/members").json()["members"]}
    url = f"{API}/workspaces/{team}/members"

    changed = admin.patch(f"{url}/{ids['ed@example.com']}", json={"role": "approver"}, headers=ORIGIN)
    assert changed.status_code == 200 and changed.json()["role"] == "approver"
    assert_error(admin.patch(f"{url}/{ids['olga@example.com']}", json={"role": "viewer"}, headers=ORIGIN),
                 403, "owner_protected")
    assert_error(admin.delete(f"{url}/{ids['olga@example.com']}", headers=ORIGIN), 403, "owner_protected")
    assert_error(owner.patch(f"{url}/{ids['olga@example.com']}", json={"role": "admin"}, headers=ORIGIN),
                 409, "last_owner")
    assert_error(owner.patch(f"{url}/{ids['ed@example.com']}", json={"role": "owner"}, headers=ORIGIN),
                 422, "owner_by_transfer")
    assert_error(owner.post(f"{API}/workspaces/{team}/leave", headers=ORIGIN), 409, "owner_must_transfer")
    assert_error(admin.post(f"{API}/workspaces/{team}/transfer", json={"user_id": ids["ed@example.com"]},
                            headers=ORIGIN), 403, "role_forbidden")
    stranger_id = browsers("sam@example.com").get(f"{API}/me").json()["id"]
    assert_error(owner.post(f"{API}/workspaces/{team}/transfer", json={"user_id": stranger_id}, headers=ORIGIN),
                 404, "member_not_found")

    moved = owner.post(f"{API}/workspaces/{team}/transfer", json={"user_id": ids["ada@example.com"]}, headers=ORIGIN)
    assert moved.status_code == 200 and moved.json()["role"] == "admin"
    roles = {m["email"]: m["role"] for m in owner.get(f"{url}").json()["members"]}
    assert roles == {"olga@example.com": "admin", "ada@example.com": "owner", "ed@example.com": "approver"}
    assert owner.post(f"{API}/workspaces/{team}/leave", headers=ORIGIN).status_code == 204
    assert_error(owner.get(f"{API}/workspaces/{team}"), 404, "workspace_not_found")
    personal = editor.get(f"{API}/me").json()["workspace_id"]
    assert_error(editor.post(f"{API}/workspaces/{personal}/leave", headers=ORIGIN), 409, "personal_workspace")
    actions = audit_actions()
    assert {"member.role_changed", "workspace.transferred", "member.left"} <= set(actions)


def upload(client, *files):
    return client.post(f"{API}/assets", files=[("files", f) for f in files], headers=ORIGIN)


def run_workers():
    SimpleWorker([get_queue("assets")], connection=get_redis()).work(burst=True)


def test_removal_ends_the_members_access_at_once(browsers):
    owner = browsers("olga@example.com")
    team = make_team(owner)
    editor = browsers("ed@example.com")
    join(owner, editor, "ed@example.com", team)
    personal = editor.get(f"{API}/me").json()["workspace_id"]
    for client in (owner, editor):
        assert client.post(f"{API}/workspaces/{team}/switch", headers=ORIGIN).status_code == 200
    asset = upload(owner, ("shared.jpg", images.jpeg(64, 48, seed=1), "image/jpeg")).json()["assets"][0]["id"]
    assert editor.get(f"{API}/assets/{asset}").status_code == 200
    ed = editor.get(f"{API}/me").json()
    with session_scope() as session:
        row, secret = api_tokens.create_token(session=session, user_id=ed["id"], name="script")
        row.workspace_id = team
        session.add(row)
    scripted = browsers()
    bearer = {"Authorization": f"Bearer {secret}"}
    assert scripted.get(f"{API}/assets/{asset}", headers=bearer).status_code == 200

    removed = owner.delete(f"{API}/workspaces/{team}/members/{ed['id']}", headers=ORIGIN)
    assert removed.status_code == 204, removed.text
    # The very next request: the asset is not theirs to see, and the session acts in their own workspace.
    assert_error(editor.get(f"{API}/assets/{asset}"), 404, "not_found")
    assert editor.get(f"{API}/me").json()["workspace_id"] == personal and ed["workspace_id"] == team
    assert_error(editor.get(f"{API}/workspaces/{team}/members"), 404, "workspace_not_found")
    assert_error(scripted.get(f"{API}/assets/{asset}", headers=bearer), 401, "invalid_token")
    with session_scope() as session:
        assert session.exec(select(ApiToken).where(ApiToken.user_id == ed["id"])).one().revoked_at is not None
    assert "member.removed" in audit_actions()


def test_removal_while_the_session_points_there_falls_back_on_the_next_request(browsers):
    """The membership goes by another path (a direct delete): sessions.user_for_session still falls back."""
    owner = browsers("olga@example.com")
    team = make_team(owner)
    editor = browsers("ed@example.com")
    join(owner, editor, "ed@example.com", team)
    editor.post(f"{API}/workspaces/{team}/switch", headers=ORIGIN)
    ed_id = editor.get(f"{API}/me").json()["id"]
    with session_scope() as session:
        session.delete(session.get(Membership, (team, ed_id)))
    me = editor.get(f"{API}/me").json()
    personal = me["workspace_id"]
    assert personal != team and me["workspace_role"] == "owner"


def test_deleting_a_workspace_takes_its_work_and_files(browsers):
    owner = browsers("olga@example.com")
    team = make_team(owner, "Doomed")
    editor = browsers("ed@example.com")
    join(owner, editor, "ed@example.com", team)
    for _ in range(2):  # an invitation sent twice: its first link is kept as replaced
        assert send_invite(owner, team, "late@example.com").status_code == 201
    owner.post(f"{API}/workspaces/{team}/switch", headers=ORIGIN)
    made = upload(owner, ("a.jpg", images.jpeg(80, 60, seed=2), "image/jpeg"),
                  ("b.png", images.png(40, 30), "image/png")).json()
    ids = [a["id"] for a in made["assets"]]
    delete = f"{API}/workspaces/{team}"
    busy = owner.request("DELETE", delete, json={"confirm_name": "Doomed"}, headers=ORIGIN)
    assert_error(busy, 409, "workspace_busy")
    run_workers()
    with session_scope() as session:
        from app.models import Asset

        keys = [k for a in session.exec(select(Asset).where(Asset.workspace_id == team)).all()
                for k in (a.storage_key, a.thumb_key) if k]
    assert len(keys) == 4 and all(get_storage().exists(k) for k in keys)
    assert_error(editor.request("DELETE", delete, json={"confirm_name": "Doomed"}, headers=ORIGIN),
                 403, "role_forbidden")
    assert_error(owner.request("DELETE", delete, json={"confirm_name": "doomed"}, headers=ORIGIN),
                 422, "confirmation_mismatch")
    gone = owner.request("DELETE", delete, json={"confirm_name": "Doomed"}, headers=ORIGIN)
    assert gone.status_code == 200, gone.text
    assert gone.json()["files_deleted"] == 4 and gone.json()["rows"]["asset"] == 2
    assert (gone.json()["rows"]["invitation"], gone.json()["rows"]["replaced_invitation_link"]) == (2, 1)
    assert not any(get_storage().exists(k) for k in keys)
    assert_error(owner.get(f"{API}/assets/{ids[0]}"), 404, "not_found")
    assert_error(owner.get(delete), 404, "workspace_not_found")
    assert owner.get(f"{API}/me").json()["workspace_role"] == "owner"  # back home
    assert [w["kind"] for w in editor.get(f"{API}/workspaces").json()["workspaces"]] == ["personal"]
    personal = owner.get(f"{API}/me").json()["workspace_id"]
    assert_error(owner.request("DELETE", f"{API}/workspaces/{personal}", json={"confirm_name": "Personal"},
                               headers=ORIGIN), 409, "personal_workspace")
    assert "workspace.deleted" in audit_actions()


def test_admin_sees_every_workspace_with_usage(browsers):
    admin = browsers("olga@example.com")
    member = browsers("ed@example.com")
    team = make_team(member, "Ed's team")
    member.post(f"{API}/workspaces/{team}/switch", headers=ORIGIN)
    size = len(images.jpeg(64, 64, seed=5))
    upload(member, ("x.jpg", images.jpeg(64, 64, seed=5), "image/jpeg"))
    page = admin.get(f"{API}/admin/workspaces?kind=team")
    assert page.status_code == 200, page.text
    row = page.json()["workspaces"][0]
    assert (row["name"], row["owners"], row["members"], row["storage_bytes"]) == ("Ed's team", ["ed@example.com"],
                                                                                  1, size)
    assert page.json()["total"] == 1
    assert admin.get(f"{API}/admin/workspaces").json()["total"] == 3
    assert_error(member.get(f"{API}/admin/workspaces"), 403, "forbidden")


def test_tokens_are_bound_to_their_workspace(browsers):
    owner = browsers("olga@example.com")
    team = make_team(owner)
    me = owner.get(f"{API}/me").json()
    with session_scope() as session:
        _, secret = api_tokens.create_token(session=session, user_id=me["id"], name="personal")
    bearer = {"Authorization": f"Bearer {secret}"}
    scripted = browsers()
    listed = scripted.get(f"{API}/workspaces", headers=bearer).json()["workspaces"]
    assert [w["id"] for w in listed] == [me["workspace_id"]]
    assert_error(scripted.get(f"{API}/workspaces/{team}/members", headers=bearer), 404, "workspace_not_found")
    assert_error(scripted.post(f"{API}/workspaces/{me['workspace_id']}/switch", headers=bearer), 409, "token_bound")


def test_signup_by_invitation_only(browsers, monkeypatch):
    from app.settings import get_settings

    monkeypatch.setenv("SIGNUP_MODE", "invite")
    get_settings.cache_clear()
    owner = browsers("olga@example.com")  # the first account is always let in
    team = make_team(owner)
    anonymous = browsers()

    def register(email, **extra):
        return anonymous.post(f"{API}/auth/register", json={"email": email, "password": PASSWORD, **extra},
                              headers=ORIGIN)

    assert_error(register("walk-in@example.com"), 403, "signup_closed")
    token = token_of(send_invite(owner, team, "new@example.com", "viewer"))
    assert_error(register("other@example.com", invitation_token=token), 403, "invitation_other_email")
    assert_error(register("new@example.com", invitation_token="nope"), 404, "invitation_unknown")
    made = register("NEW@example.com", invitation_token=token)
    assert made.status_code == 201, made.text
    with session_scope() as session:
        user = session.exec(select(User).where(User.email == "new@example.com")).one()
        assert session.get(Membership, (team, user.id)).role == "viewer"
        assert session.exec(select(User).where(User.email == "other@example.com")).first() is None
    assert_error(register("again@example.com", invitation_token=token), 410, "invitation_used")


def test_signup_by_domain(browsers, monkeypatch):
    from app.settings import get_settings

    monkeypatch.setenv("SIGNUP_MODE", "domains")
    monkeypatch.setenv("SIGNUP_DOMAINS", "Example.com, @studio.example.org")
    get_settings.cache_clear()
    browsers("olga@elsewhere.org")
    anonymous = browsers()
    for email, status in (("ed@example.com", 201), ("viv@studio.example.org", 201), ("eve@evil.example", 403),
                          ("eve@example.com.evil.org", 403), ("eve@sub.example.com", 403)):
        made = anonymous.post(f"{API}/auth/register", json={"email": email, "password": PASSWORD}, headers=ORIGIN)
        assert made.status_code == status, (email, made.text)
        if status == 403:
            assert made.json()["error"]["code"] == "signup_domain"


def test_signup_approval(browsers, monkeypatch):
    from app.settings import get_settings

    monkeypatch.setenv("SIGNUP_APPROVAL", "true")
    get_settings.cache_clear()
    admin = browsers("olga@example.com")
    assert admin.get(f"{API}/me").json()["pending"] is False  # the first account never waits
    waiting = browsers("ed@example.com", sign_in=False)
    login = {"email": "ed@example.com", "password": PASSWORD}
    assert_error(waiting.post(f"{API}/auth/login", json=login, headers=ORIGIN), 403, "approval_pending")
    # The wrong password still says only that the credentials are wrong.
    assert_error(waiting.post(f"{API}/auth/login", json={**login, "password": "wrong password!"}, headers=ORIGIN),
                 401, "invalid_credentials")
    pending = admin.get(f"{API}/admin/users/pending").json()["users"]
    assert [u["email"] for u in pending] == ["ed@example.com"]
    assert_error(waiting.get(f"{API}/admin/users/pending"), 401, "auth_required")
    approved = admin.post(f"{API}/admin/users/{pending[0]['id']}/approve", headers=ORIGIN)
    assert approved.status_code == 200 and approved.json()["pending"] is False
    assert_error(admin.post(f"{API}/admin/users/{pending[0]['id']}/approve", headers=ORIGIN), 409, "not_pending")
    assert waiting.post(f"{API}/auth/login", json=login, headers=ORIGIN).status_code == 200
    assert waiting.get(f"{API}/me").status_code == 200
    assert {"admin.approve_user"} <= set(audit_actions())

    # Invited by a site admin: no wait. Invited by any other member: the admin still approves.
    team = make_team(admin)
    token = token_of(send_invite(admin, team, "vip@example.com"))
    made = waiting.post(f"{API}/auth/register", headers=ORIGIN,
                        json={"email": "vip@example.com", "password": PASSWORD, "invitation_token": token})
    assert made.status_code == 201 and made.json()["pending"] is False
    ed_team = make_team(waiting, "Ed's")
    token = token_of(send_invite(waiting, ed_team, "friend@example.com"))
    made = waiting.post(f"{API}/auth/register", headers=ORIGIN,
                        json={"email": "friend@example.com", "password": PASSWORD, "invitation_token": token})
    assert made.status_code == 201 and made.json()["pending"] is True


def test_a_read_token_reads_members_and_may_change_nothing(browsers):
    owner = browsers("olga@example.com")
    team = make_team(owner)
    with session_scope() as session:
        row, secret = api_tokens.create_token(session=session, user_id=owner.get(f"{API}/me").json()["id"],
                                              name="read")
        row.workspace_id, row.scopes = team, "read"
        session.add(row)
    scripted, bearer = browsers(), {"Authorization": f"Bearer {secret}"}
    assert scripted.get(f"{API}/workspaces/{team}/members", headers=bearer).status_code == 200
    assert_error(scripted.post(f"{API}/workspaces/{team}/invitations", headers=bearer,
                               json={"email": "x@example.com", "role": "viewer"}), 403, "insufficient_scope")
    assert_error(scripted.patch(f"{API}/workspaces/{team}", json={"name": "X"}, headers=bearer),
                 403, "insufficient_scope")
    assert_error(scripted.post(f"{API}/workspaces", json={"name": "X"}, headers=bearer), 403, "insufficient_scope")
