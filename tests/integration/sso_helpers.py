"""What the sign-on tests share: a configured fake provider, the browser round trip, and row counts."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

from sqlmodel import func, select

from tests.fake_oidc import FakeOIDC, follow_to_provider

START = "/api/v1/auth/sso/testidp/start"
HTML = {"Accept": "text/html"}
ORIGIN = {"Origin": "http://localhost:3000"}
PASSWORD = "correct horse battery"


def configured_fake(monkeypatch) -> Iterator[FakeOIDC]:
    """A fake provider configured as `testidp` (the `oidc` fixture of tests/conftest.py)."""
    with FakeOIDC() as fake:
        configure(fake, monkeypatch)
        yield fake


def configure(fake: FakeOIDC, monkeypatch, *, github: bool = False, **extra: str) -> None:
    from app.services.auth.sso import protocol
    from tests.conftest import clear_caches

    values = fake.env(**extra)
    if github:
        values["SSO_PROVIDERS"] += ",github"
        values.update(fake.github_env())
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    clear_caches()
    protocol.forget_cache()


def sso_callback(api, fake: FakeOIDC, start: str = START) -> str:
    return follow_to_provider(api, start, fake)


def sso_sign_in(api, fake: FakeOIDC, start: str = START, headers: dict | None = None):
    """The whole browser round trip: the app's final answer (a 303 for a browser)."""
    callback = sso_callback(api, fake, start)
    return api.get(callback, headers=HTML if headers is None else headers, follow_redirects=False)


def sso_error(response) -> str:
    """The error code a browser was sent back with (…?sso_error=code)."""
    assert response.status_code == 303, response.text
    query = parse_qs(urlsplit(response.headers["location"]).query)
    return query.get("sso_error", [""])[0]


def counts() -> dict[str, int]:
    from app.db import session_scope
    from app.models import AuthSession, Membership, SsoIdentity, User, Workspace

    with session_scope() as session:
        return {model.__name__: session.exec(select(func.count()).select_from(model)).one()
                for model in (User, SsoIdentity, AuthSession, Workspace, Membership)}


def audit_actions() -> list[str]:
    from app.db import session_scope
    from app.services import audit

    with session_scope() as session:
        return [e.action for e in reversed(audit.recent(session=session, limit=200))]


def register(api, email: str, password: str = PASSWORD, name: str = "Ada"):
    answer = api.post("/api/v1/auth/register", json={"email": email, "password": password, "name": name},
                      headers=ORIGIN)
    assert answer.status_code == 201, answer.text
    return answer.json()


def login(api, email: str, password: str = PASSWORD):
    return api.post("/api/v1/auth/login", json={"email": email, "password": password}, headers=ORIGIN)
