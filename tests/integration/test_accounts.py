"""Account services on real SQLite and PostgreSQL."""

import re
import types
from datetime import timedelta

import pytest
from sqlmodel import select

from app.db import session_scope
from app.errors import Conflict, Forbidden, InvalidCredentials, ValidationFailed
from app.models import AuditEvent, PasswordReset, User
from app.services.auth import accounts
from app.services.auth.sessions import COOKIE_NAME
from state.admin import AdminUsersState
from state.signup import SignUpState
from tests.integration.test_api_auth import ORIGIN

PASSWORD = "correct horse battery"


def register(email: str, password: str = PASSWORD, name: str = ""):
    with session_scope() as session:
        return accounts.register_user(session=session, email=email, password=password, name=name)


def test_first_account_is_admin_and_later_ones_members(any_db):
    first = register("Ada@Example.com", name="  Ada   Lovelace ")
    second = register("grace@example.com")
    assert (first.role, second.role) == ("admin", "member")
    assert first.email == "ada@example.com"
    assert first.name == "Ada Lovelace"


def test_duplicate_email_is_a_conflict_whatever_its_case(any_db):
    register("ada@example.com")
    with pytest.raises(Conflict):
        register("ADA@example.com")


@pytest.mark.parametrize("email", ["", "not-an-email", "a@", "ada@exa mple.com", "x" * 300 + "@example.com"])
def test_invalid_emails_are_refused(env, email):
    with pytest.raises(ValidationFailed):
        register(email)


@pytest.mark.parametrize("password", ["short", "aaaaaaaaaaaa", "ada@example.com", "p" * 300])
def test_weak_passwords_are_refused(env, password):
    with pytest.raises(ValidationFailed, match="password"):
        register("ada@example.com", password=password)


def test_names_with_control_characters_are_refused(env):
    with pytest.raises(ValidationFailed):
        register("ada@example.com", name="Ada\x00")


def test_authenticate_gives_one_answer_for_every_failure(any_db):
    register("ada@example.com")
    messages = set()
    for email, password in [("ada@example.com", "wrong password!"), ("nobody@example.com", PASSWORD),
                            ("not an email", PASSWORD)]:
        with pytest.raises(InvalidCredentials) as caught, session_scope() as session:
            accounts.authenticate(session=session, email=email, password=password)
        messages.add(caught.value.message)
    assert len(messages) == 1


async def test_every_way_in_records_the_sign_in_for_the_admin_page(api, env):
    """Sign-up signs the new account in (a ticket traded for a session): Admin → Users showed "never" for it,
    since only the password check stamped last_login_at. Every session start stamps it now."""
    from tests.integration.test_state_guards import FakeState  # that module imports this one

    admin = api.post("/api/v1/auth/register", json={"email": "ada@example.com", "password": PASSWORD},
                     headers=ORIGIN).json()
    assert api.post("/api/v1/auth/login", json={"email": "ada@example.com", "password": PASSWORD},
                    headers=ORIGIN).status_code == 200  # the REST sign-in
    admin_cookie = f"{COOKIE_NAME}={api.cookies.get(COOKIE_NAME)}"
    form = FakeState("")
    form.next_path, form.error, form.waiting = "", "", ""
    script = SignUpState.event_handlers["handle_submit"].fn(
        form, {"email": "grace@example.com", "name": "Grace", "password": PASSWORD, "confirm": PASSWORD})
    ticket = re.search(r"ticket=([\w-]+)", str(script)).group(1)
    api.cookies.clear()
    assert api.get(f"/api/v1/auth/complete?ticket={ticket}", follow_redirects=False).status_code == 303

    page = FakeState(admin_cookie)
    page.query = ""
    page._search = types.MethodType(AdminUsersState._search, page)
    await AdminUsersState.event_handlers["load_page"].fn(page)
    last = {row["email"]: row["last_login"] for row in page.users}
    assert last["grace@example.com"] != "never" and last["ada@example.com"] != "never"
    with session_scope() as session:
        assert session.get(User, admin["id"]).last_login_at is not None


async def test_a_refused_grant_keeps_its_dialog_open_with_the_reason(env):
    """Record sat inside rx.dialog.close: an empty field or a refused amount closed the dialog with the
    input gone. The dialog's open state lives in the state now and only a recorded grant closes it."""
    from app.services.auth.sessions import create_session
    from tests.integration.test_state_guards import FakeState

    admin = register("ada@example.com")
    member = register("grace@example.com")
    with session_scope() as session:
        cookie = f"{COOKIE_NAME}={create_session(session=session, user_id=admin.id)}"
    page = FakeState(cookie)
    page.query, page.users, page.total = "", [], 0
    page._search = types.MethodType(AdminUsersState._search, page)
    handlers = AdminUsersState.event_handlers
    await handlers["set_grant_open"].fn(page, str(member.id), True)
    assert page.grant_user_id == str(member.id) and page.grant_error == ""

    grant = handlers["grant_credits"].fn
    for form, says in [({"amount": "", "reason": "Welcome"}, "Enter a whole number"),
                       ({"amount": "50", "reason": "  "}, "a reason is required"),
                       ({"amount": "-1000", "reason": "Refund"}, "below zero")]:
        await grant(page, {"user_id": str(member.id), **form})
        assert says in page.grant_error and page.grant_user_id == str(member.id)  # still open, error inside

    page._search()
    before = {u["email"]: int(u["credits"]) for u in page.users}["grace@example.com"]
    toast = await grant(page, {"user_id": str(member.id), "amount": "50", "reason": "Welcome"})
    assert page.grant_user_id == "" and page.grant_error == "" and "+50 credits" in str(toast)
    assert {u["email"]: int(u["credits"]) for u in page.users}["grace@example.com"] == before + 50


def test_disabled_accounts_cannot_sign_in(any_db):
    admin = register("ada@example.com")
    member = register("grace@example.com")
    with session_scope() as session:
        accounts.set_active(session=session, actor_id=admin.id, user_id=member.id, active=False)
    with pytest.raises(InvalidCredentials), session_scope() as session:
        accounts.authenticate(session=session, email="grace@example.com", password=PASSWORD)


def test_the_last_admin_cannot_be_demoted_or_disabled(any_db):
    admin = register("ada@example.com")
    with pytest.raises(Forbidden), session_scope() as session:
        accounts.set_role(session=session, actor_id=admin.id, user_id=admin.id, role="member")
    with pytest.raises(Forbidden), session_scope() as session:
        accounts.set_active(session=session, actor_id=admin.id, user_id=admin.id, active=False)
    member = register("grace@example.com")
    with session_scope() as session:
        accounts.set_role(session=session, actor_id=admin.id, user_id=member.id, role="admin")
        accounts.set_role(session=session, actor_id=admin.id, user_id=admin.id, role="member")
    with session_scope() as session:
        actions = session.exec(select(AuditEvent.action).where(AuditEvent.action == "admin.set_role")).all()
    assert len(actions) == 2


def test_unknown_roles_are_refused(any_db):
    admin = register("ada@example.com")
    with pytest.raises(ValidationFailed), session_scope() as session:
        accounts.set_role(session=session, actor_id=admin.id, user_id=admin.id, role="owner")


def test_change_password_needs_the_current_one(any_db):
    user = register("ada@example.com")
    with pytest.raises(InvalidCredentials), session_scope() as session:
        accounts.change_password(session=session, user_id=user.id, current="nope nope nope", new="another passphrase")
    with session_scope() as session:
        accounts.change_password(session=session, user_id=user.id, current=PASSWORD, new="another passphrase")
    with session_scope() as session:
        assert accounts.authenticate(session=session, email="ada@example.com", password="another passphrase")


def test_reset_token_works_once(any_db):
    register("ada@example.com")
    with session_scope() as session:
        _, token = accounts.start_password_reset(session=session, email="ada@example.com")
    with session_scope() as session:
        accounts.finish_password_reset(session=session, token=token, new="brand new passphrase")
    with pytest.raises(ValidationFailed, match="invalid or has expired"), session_scope() as session:
        accounts.finish_password_reset(session=session, token=token, new="another new passphrase")
    with session_scope() as session:
        assert accounts.authenticate(session=session, email="ada@example.com", password="brand new passphrase")


def test_reset_token_expires(any_db):
    register("ada@example.com")
    with session_scope() as session:
        _, token = accounts.start_password_reset(session=session, email="ada@example.com")
    with session_scope() as session:
        row = session.exec(select(PasswordReset)).one()
        row.expires_at = row.expires_at - timedelta(hours=2)
        session.add(row)
    with pytest.raises(ValidationFailed), session_scope() as session:
        accounts.finish_password_reset(session=session, token=token, new="brand new passphrase")


def test_reset_for_unknown_or_disabled_accounts_makes_no_token(any_db):
    with session_scope() as session:
        assert accounts.start_password_reset(session=session, email="nobody@example.com") is None
        assert accounts.start_password_reset(session=session, email="garbage") is None
        assert session.exec(select(PasswordReset)).all() == []


def test_search_users_by_email_or_name(any_db):
    register("ada@example.com", name="Ada Lovelace")
    register("grace@example.com", name="Grace Hopper")
    with session_scope() as session:
        found, total = accounts.search_users(session=session, query="hopp")
        everyone, count = accounts.search_users(session=session)
        assert [u.email for u in found] == ["grace@example.com"] and total == 1
        assert count == 2 and len(everyone) == 2
        assert session.exec(select(User)).all()


def test_the_reset_pages_start_fresh_and_say_when_the_link_is_missing(env):
    """After asking for a link, /reset said "we have sent it a link" for good in that tab (even after a
    reload), so a mistyped address could not be corrected; /reset/confirm without a token showed the
    form and failed only after submitting."""
    from app import routes
    from app.app import PAGES
    from components.pages.auth import reset_confirm_page
    from state.reset import ResetConfirmState, ResetRequestState
    from tests.integration.test_state_guards import FakeState

    register("ada@example.com")
    page = FakeState("")
    page.sent_message, page.error = "", ""
    handlers = ResetRequestState.event_handlers
    handlers["handle_submit"].fn(page, {"email": "ada@exmaple.com"})
    assert page.sent_message
    handlers["ask_again"].fn(page)  # "Use another address"
    assert page.sent_message == "" and page.error == ""
    handlers["handle_submit"].fn(page, {"email": "ada@example.com"})
    handlers["load_page"].fn(page)  # a reload or a later visit
    assert page.sent_message == ""
    loads = {route: on_load for route, _, _, on_load in PAGES}
    assert loads[routes.RESET] is ResetRequestState.load_page
    assert loads[routes.RESET_CONFIRM] is ResetConfirmState.load_page

    page.router.url.query_parameters = {}
    assert ResetConfirmState.computed_vars["has_token"].fget(page) is False
    page.router.url.query_parameters = {"token": "abc"}
    assert ResetConfirmState.computed_vars["has_token"].fget(page) is True
    rendered = str(reset_confirm_page().render())
    assert "has_token" in rendered and "no link code in it" in rendered
