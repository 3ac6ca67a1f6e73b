"""Sign-in with throttling and an audit trail, shared by the UI and the REST API."""

from __future__ import annotations

from app.db import session_scope
from app.errors import InvalidCredentials
from app.services import accounts, audit, throttle
from app.services.accounts import UserPublic
from app.services.sessions import create_session, revoke_session
from app.settings import get_settings


def check_credentials(*, email: str, password: str, ip: str) -> UserPublic:
    settings = get_settings()
    throttle.hit(rule=settings.signin_limit_per_ip, scope="signin-ip", key=ip or "unknown")
    throttle.hit(rule=settings.signin_limit_per_account, scope="signin-account",
                 key=(email or "").strip().lower()[:254] or "-")
    try:
        with session_scope() as session:
            return accounts.authenticate(session=session, email=email, password=password)
    except InvalidCredentials:
        with session_scope() as session:
            audit.record(session=session, action="auth.signin_failed", target=(email or "")[:200], ip=ip)
        raise


def start_session(*, user_id: int, ip: str, user_agent: str, old_token: str = "") -> str:
    """Open a fresh session (never reusing a presented one) and return its cookie value."""
    with session_scope() as session:
        # Rotation: whatever cookie the browser had before sign-in dies here.
        revoke_session(session=session, token=old_token)
        token = create_session(session=session, user_id=user_id, ip=ip, user_agent=user_agent)
        audit.record(session=session, action="auth.signin", actor_id=user_id, ip=ip)
    return token


def end_session(*, token: str, user_id: int | None, ip: str) -> None:
    with session_scope() as session:
        revoke_session(session=session, token=token)
        if user_id:
            audit.record(session=session, action="auth.signout", actor_id=user_id, ip=ip)
