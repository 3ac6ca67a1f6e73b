"""Credentials die when they should: reset, password change, disabling, and open SSE streams."""

import json
import threading
import time

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from app.db import session_scope
from app.models import AuditEvent, User
from app.services import jobs
from app.services.auth import accounts
from tests.integration.test_api_auth import ORIGIN, PASSWORD, assert_error, login, register
from tests.integration.test_api_tokens_admin import bearer, new_token

NEW_PASSWORD = "a brand new passphrase"


def second_session(api) -> TestClient:
    other = TestClient(api.app, base_url="http://localhost:3000")
    assert login(other).status_code == 200
    return other


def audit_actions() -> list[str]:
    with session_scope() as session:
        return [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()]


def audit_detail(action: str) -> str:
    with session_scope() as session:
        return session.exec(select(AuditEvent).where(AuditEvent.action == action)).all()[-1].detail


def test_a_reset_revokes_every_session_and_token(api, any_db):
    register(api)
    login(api)
    secret = new_token(api)["token"]
    other = second_session(api)
    with session_scope() as session:
        _, reset_token = accounts.start_password_reset(session=session, email="ada@example.com")
    confirmed = api.post("/api/v1/auth/password-reset/confirm", headers=ORIGIN,
                         json={"token": reset_token, "new_password": NEW_PASSWORD})
    assert confirmed.status_code == 200, confirmed.text
    assert_error(TestClient(api.app).get("/api/v1/me", headers=bearer(secret)), 401, "invalid_token")
    assert api.get("/api/v1/me").status_code == 401
    assert other.get("/api/v1/me").status_code == 401
    assert "auth.credentials_revoked" in audit_actions()
    assert "1 API token" in audit_detail("auth.credentials_revoked")


def test_a_password_change_revokes_tokens_unless_told_to_keep_them(api, any_db):
    register(api)
    login(api)
    first, second = new_token(api, "one")["token"], new_token(api, "two")["token"]
    kept = api.post("/api/v1/me/password", headers=ORIGIN, json={
        "current_password": PASSWORD, "new_password": NEW_PASSWORD, "revoke_tokens": False})
    assert kept.status_code == 200, kept.text
    script = TestClient(api.app)
    assert script.get("/api/v1/me", headers=bearer(first)).status_code == 200
    changed = api.post("/api/v1/me/password", headers=ORIGIN, json={
        "current_password": NEW_PASSWORD, "new_password": PASSWORD})  # revoke_tokens defaults to true
    assert changed.status_code == 200, changed.text
    assert "token" in changed.json()["message"]
    for secret in (first, second):
        assert_error(script.get("/api/v1/me", headers=bearer(secret)), 401, "invalid_token")
    assert api.get("/api/v1/me").status_code == 200  # the session that made the change stays
    assert "2 API tokens" in audit_detail("auth.credentials_revoked")


def test_disabling_an_account_revokes_so_enabling_brings_nothing_back(api, any_db):
    register(api)  # the first account is the admin
    register(api, email="grace@example.com")
    grace = TestClient(api.app, base_url="http://localhost:3000")
    assert login(grace, email="grace@example.com").status_code == 200
    grace_secret = new_token(grace)["token"]
    login(api)
    with session_scope() as session:
        grace_id = session.exec(select(User.id).where(User.email == "grace@example.com")).one()
    for active in (False, True):
        response = api.patch(f"/api/v1/admin/users/{grace_id}", json={"is_active": active}, headers=ORIGIN)
        assert response.status_code == 200, response.text
    assert grace.get("/api/v1/me").status_code == 401
    assert_error(TestClient(api.app).get("/api/v1/me", headers=bearer(grace_secret)), 401, "invalid_token")
    assert "auth.credentials_revoked" in audit_actions()
    assert login(grace, email="grace@example.com").status_code == 200  # a fresh sign-in works


def _follow(api, job_id, headers, events, closed):
    def read():
        with TestClient(api.app).stream("GET", f"/api/v1/jobs/{job_id}/events", headers=headers) as response:
            for line in response.iter_lines():
                if line.startswith("data:"):
                    events.append(json.loads(line[5:]))
        closed.set()
    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    deadline = time.time() + 10
    while not events and time.time() < deadline:
        time.sleep(0.05)
    assert events, "the stream sent the job's state first"
    return thread


@pytest.fixture
def ada_job(api, env, monkeypatch):
    from app import queue
    from tests.integration.test_jobs import TEST_KINDS

    monkeypatch.setitem(queue.KINDS, "test.three", TEST_KINDS["test.three"])
    register(api)
    login(api)
    with session_scope() as session:
        ada = session.exec(select(User).where(User.email == "ada@example.com")).one()
    # No worker: it stays queued.
    return jobs.submit(kind="test.three", workspace_id=ada.personal_workspace_id, params={})


def test_an_open_stream_closes_soon_after_its_token_is_revoked(api, ada_job, monkeypatch):
    from app.api import routes_jobs

    monkeypatch.setattr(routes_jobs, "RECHECK_SECONDS", 0.5)
    token = new_token(api)
    events, closed = [], threading.Event()
    _follow(api, ada_job.id, bearer(token["token"]), events, closed)
    assert api.delete(f"/api/v1/tokens/{token['id']}", headers=ORIGIN).status_code == 204
    assert closed.wait(10), "the stream went on after its token was revoked"
    assert events[-1]["error"]["code"] == "credentials_revoked"


def test_no_event_is_sent_after_the_session_ends(api, ada_job):
    events, closed = [], threading.Event()
    _follow(api, ada_job.id, {"Cookie": f"atelier_session={api.cookies.get('atelier_session')}"}, events, closed)
    assert api.post("/api/v1/auth/logout", headers=ORIGIN).status_code == 200
    jobs.start(ada_job.id, rq_id=ada_job.rq_id, worker_name="test")  # a change the stream would pass on
    assert closed.wait(10), "the stream went on after its session ended"
    assert all(e.get("status") != "running" for e in events)


async def test_the_settings_page_revokes_tokens_unless_unticked(env):
    from app.services.auth import api_tokens
    from app.services.auth.sessions import COOKIE_NAME, create_session
    from state.settings import SettingsState
    from tests.integration.test_accounts import register as register_user
    from tests.integration.test_state_guards import FakeState

    user = register_user("ada@example.com")
    with session_scope() as session:
        cookie = f"{COOKIE_NAME}={create_session(session=session, user_id=user.id)}"
        _, first = api_tokens.create_token(session=session, user_id=user.id, name="one")

    def live(secret):
        with session_scope() as session:
            return api_tokens.user_for_token(session=session, secret=secret) is not None

    change = SettingsState.event_handlers["change_password"].fn
    for revoke, current, new in ((False, PASSWORD, NEW_PASSWORD), (True, NEW_PASSWORD, PASSWORD)):
        fake = FakeState(cookie)
        fake.revoke_tokens, fake.password_error, fake._load_tokens = revoke, "", lambda _user_id: None
        await change(fake, {"current_password": current, "new_password": new, "confirm": new})
        assert fake.password_error == "" and fake.revoke_tokens is True  # re-ticked for next time
        assert live(first) is not revoke
    assert audit_detail("auth.credentials_revoked").startswith("password changed: 0 sessions, 1 API token")
