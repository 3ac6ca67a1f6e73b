"""Page events follow the same network lists, client-address rule and security events as the API."""

import pytest
from sqlmodel import select

from app.db import session_scope
from app.models import AuditEvent
from app.services.auth.sessions import COOKIE_NAME, create_session
from state.session import admin_or_away
from state.signin import SignInState
from tests.conftest import clear_caches
from tests.integration.test_state_guards import ADMIN_CALLS, FakeState, call, people, snapshot  # noqa: F401


async def _admin(fake):
    """The admin the admin pages' guard lets through, or None."""
    return (await admin_or_away(fake))[0]


def security_rows(action):
    with session_scope() as session:
        return [(e.ip, e.target, e.detail) for e in session.exec(select(AuditEvent).where(AuditEvent.action == action))]


@pytest.fixture
def admin_cookie(people):  # noqa: F811
    with session_scope() as session:
        return f"{COOKIE_NAME}={create_session(session=session, user_id=people[0].id)}"


async def test_an_admin_outside_the_admin_networks_is_refused_on_every_admin_handler(admin_cookie, monkeypatch):
    assert await _admin(FakeState(admin_cookie)) is not None  # any network while no list is set
    monkeypatch.setenv("ADMIN_ALLOW_NETWORKS", "10.0.0.0/8")
    clear_caches()
    before = snapshot()
    for state_cls, name, args in ADMIN_CALLS:
        fake, result = await call(state_cls, name, args, admin_cookie)
        assert result, f"{name} answered nothing"
        for leaked in ("users", "rows", "emails", "checks", "events", "workers", "terms"):
            assert not getattr(fake, leaked, None), f"{name} filled {leaked} outside the admin networks"
    assert snapshot() == before
    rows = security_rows("security.network_refused")
    assert rows and {ip for ip, _, _ in rows} == {"203.0.113.9"} and rows[0][2] == "admin"


async def test_behind_a_trusted_proxy_the_forwarded_address_decides(admin_cookie, monkeypatch):
    monkeypatch.setenv("ADMIN_ALLOW_NETWORKS", "10.0.0.0/8")
    monkeypatch.setenv("TRUSTED_PROXIES", "203.0.113.0/24")
    clear_caches()
    fake = FakeState(admin_cookie)
    fake.router.headers.raw_headers = {"x-forwarded-for": "10.1.2.3"}
    assert await _admin(fake) is not None  # the admin at 10.1.2.3, behind the proxy at 203.0.113.9
    fake = FakeState(admin_cookie)
    fake.router.headers.raw_headers = {"x-forwarded-for": "198.51.100.7"}
    assert await _admin(fake) is None
    # Without the proxy trusted, the header is the client's word and is ignored: the peer decides.
    monkeypatch.setenv("TRUSTED_PROXIES", "")
    clear_caches()
    fake = FakeState(admin_cookie)
    fake.router.headers.raw_headers = {"x-forwarded-for": "10.1.2.3"}
    assert await _admin(fake) is None


def test_a_page_sign_in_throttle_is_a_security_event(people, monkeypatch):  # noqa: F811
    monkeypatch.setenv("SIGNIN_LIMIT_PER_IP", "2/minute")
    clear_caches()
    for i in range(3):
        fake = FakeState("")
        fake.router.url.path = "/sign-in"
        fake.error = ""
        SignInState.event_handlers["handle_submit"].fn(fake, {"email": f"x{i}@example.com",
                                                               "password": "wrong password"})
    assert "Try again" in fake.error
    assert security_rows("security.throttled") == [("203.0.113.9", "/sign-in", fake.error)]
