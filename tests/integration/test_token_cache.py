"""The bearer-token cache: hits skip the database, and every revocation still ends a token at its next request —
in this process and from another one — through the credentials epoch (app/auth_epoch.py). Run through the API
as the tests run it (the token cache reads the epoch itself) and through the production stack with the guard
(the epoch comes with the rate-limit counters)."""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event
from starlette.testclient import TestClient

from app.db import get_engine, session_scope
from app.models import ApiToken, Membership, utcnow
from tests.integration.test_api_auth import assert_error, login, register
from tests.integration.test_api_tokens_admin import bearer, new_token

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(params=["api", "guarded"])
def app(request, env, monkeypatch):
    from app.api import build_api
    from app.api.guard import Guard
    from app.api.middleware import BodyLimit, SecurityHeaders
    from app.services.auth import token_cache

    token_cache.clear()
    if request.param == "api":
        return SecurityHeaders(BodyLimit(build_api()))
    return SecurityHeaders(Guard(BodyLimit(build_api())))


@contextmanager
def token_reads():
    """Counts the SQL statements that read the api_token table."""
    seen: list[str] = []

    def before(_conn, _cursor, statement, *_args):
        if "FROM api_token" in statement:
            seen.append(statement)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


def signed_in(app) -> tuple[TestClient, dict]:
    browser = TestClient(app, base_url="http://localhost:3000")
    register(browser)
    login(browser)
    return browser, new_token(browser)


def test_a_cached_token_skips_the_database_and_dies_with_its_revocation(app, any_db):
    browser, made = signed_in(app)
    script = TestClient(app)
    assert script.get("/api/v1/me", headers=bearer(made["token"])).status_code == 200  # fills the cache
    with token_reads() as reads:
        for _ in range(3):
            answer = script.get("/api/v1/me", headers=bearer(made["token"]))
            assert answer.status_code == 200 and answer.json()["email"] == "ada@example.com"
    assert reads == []
    assert browser.delete(f"/api/v1/tokens/{made['id']}", headers={"Origin": "http://localhost:3000"}
                          ).status_code in (200, 204)
    assert_error(script.get("/api/v1/me", headers=bearer(made["token"])), 401, "invalid_token")


def test_a_revocation_in_another_process_ends_the_cached_token_at_once(app, any_db):
    _, made = signed_in(app)
    script = TestClient(app)
    assert script.get("/api/v1/me", headers=bearer(made["token"])).status_code == 200
    assert script.get("/api/v1/me", headers=bearer(made["token"])).status_code == 200
    # A worker, an admin command or another web process: the same services, its own process.
    code = ("from app.db import session_scope\nfrom app.services.auth import api_tokens\n"
            f"with session_scope() as s:\n    api_tokens.revoke_all(session=s, user_id={made_user_id(made)})\n")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=dict(os.environ), check=True, timeout=60)
    assert_error(script.get("/api/v1/me", headers=bearer(made["token"])), 401, "invalid_token")


def made_user_id(made: dict) -> int:
    with session_scope() as session:
        return session.get(ApiToken, made["id"]).user_id


def test_a_changed_role_and_a_removed_member_take_effect_at_the_next_request(app, any_db):
    from app.services.auth import accounts
    from app.services.workspaces import members
    from app.services.workspaces.service import create_team

    with session_scope() as session:
        owner = accounts.register_user(session=session, email="owner@example.com", password="owner pass 12345")
        team = create_team(session=session, user_id=owner.id, name="Studio").id
    browser = TestClient(app, base_url="http://localhost:3000")
    register(browser)
    login(browser)
    me = browser.get("/api/v1/me").json()
    with session_scope() as session:
        session.add(Membership(workspace_id=team, user_id=me["id"], role="editor"))
    made = browser.post("/api/v1/tokens", json={"name": "team", "workspace_id": team},
                        headers={"Origin": "http://localhost:3000"}).json()
    script = TestClient(app)
    for _ in range(2):
        assert script.get("/api/v1/me", headers=bearer(made["token"])).json()["workspace_role"] == "editor"
    with session_scope() as session:
        members.set_role(session=session, actor=_acting_owner(session, owner.id, team), workspace_id=team,
                            user_id=me["id"], role="viewer")
    assert script.get("/api/v1/me", headers=bearer(made["token"])).json()["workspace_role"] == "viewer"
    with session_scope() as session:
        members.remove_member(session=session, actor=_acting_owner(session, owner.id, team), workspace_id=team,
                              user_id=me["id"])
    assert script.get("/api/v1/me", headers=bearer(made["token"])).status_code == 401


def _acting_owner(session, user_id: int, team: int):
    from app.models import User
    from app.services.workspaces.service import acting

    return acting(session=session, user=session.get(User, user_id), workspace_id=team)


def test_a_disabled_account_and_an_expired_token_are_never_answered_from_the_cache(app, any_db):
    from app.models import User
    from app.services.auth import token_cache

    _, made = signed_in(app)
    script = TestClient(app)
    assert script.get("/api/v1/me", headers=bearer(made["token"])).status_code == 200
    with session_scope() as session:
        user = session.get(User, made_user_id(made))
        user.is_active = False
        session.add(user)
    assert_error(script.get("/api/v1/me", headers=bearer(made["token"])), 401, "invalid_token")
    with session_scope() as session:
        user = session.get(User, made_user_id(made))
        user.is_active = True
        session.add(user)
    assert script.get("/api/v1/me", headers=bearer(made["token"])).status_code == 200
    # The entry says when the token expires; past that instant it is not answered from the cache.
    for digest, entry in list(token_cache._entries.items()):
        token_cache._entries[digest] = entry.__class__(entry.epoch, entry.user, utcnow() - timedelta(seconds=1),
                                                       entry.stored)
    with session_scope() as session:  # the database agrees; written without the ORM, so the epoch stays
        session.execute(ApiToken.__table__.update().where(ApiToken.id == made["id"])
                        .values(expires_at=utcnow() - timedelta(seconds=1)))
    assert_error(script.get("/api/v1/me", headers=bearer(made["token"])), 401, "token_expired")


def test_last_used_at_alone_does_not_move_the_epoch(env):
    from app.auth_epoch import EPOCH_KEY
    from app.redis_client import get_redis
    from app.services.auth import accounts, api_tokens

    with session_scope() as session:
        user = accounts.register_user(session=session, email="ada@example.com", password="correct horse 1")
        row, _ = api_tokens.create_token(session=session, user_id=user.id, name="ci")
    before = int(get_redis().get(EPOCH_KEY) or 0)
    with session_scope() as session:
        row = session.get(ApiToken, row.id)
        row.last_used_at = utcnow()
        session.add(row)
    assert int(get_redis().get(EPOCH_KEY) or 0) == before
    with session_scope() as session:
        api_tokens.revoke_token(session=session, user_id=user.id, token_id=row.id)
    assert int(get_redis().get(EPOCH_KEY) or 0) == before + 1
