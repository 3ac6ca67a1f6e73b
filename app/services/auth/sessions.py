"""Server-side sign-in sessions and the one-time tickets that start them."""

from __future__ import annotations

import json
from datetime import timedelta
from http.cookies import CookieError, SimpleCookie

from sqlalchemy import delete, update
from sqlmodel import Session, col

from app.db import read_scope, session_scope
from app.models import AuthSession, User, utcnow
from app.redis_client import get_redis
from app.services.auth.accounts import UserPublic
from app.services.secrets import new_token, token_digest
from app.settings import get_settings

COOKIE_NAME = "atelier_session"
TICKET_TTL_SECONDS = 60
# Refresh last_seen at most this often, so reads stay reads.
_TOUCH_EVERY = timedelta(minutes=5)


def cookie_name() -> str:
    # The __Host- prefix makes browsers insist on Secure, Path=/ and no Domain.
    return f"__Host-{COOKIE_NAME}" if get_settings().is_https else COOKIE_NAME


def cookie_params() -> dict:
    settings = get_settings()
    return {"httponly": True, "samesite": "lax", "secure": settings.is_https, "path": "/",
            "max_age": settings.session_ttl_hours * 3600}


def token_from_cookie_header(header: str) -> str:
    if not header:
        return ""
    jar = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return ""
    morsel = jar.get(cookie_name())
    return morsel.value if morsel else ""


def create_session(*, session: Session, user_id: int, ip: str = "", user_agent: str = "") -> str:
    """Start a session and return the cookie value (stored only as its digest). It is the user's sign-in:
    `last_login_at` is stamped here, the one place every way in (password, sign-up, SSO) starts a session."""
    token = new_token()
    now = utcnow()
    ttl = timedelta(hours=get_settings().session_ttl_hours)
    session.add(AuthSession(id=token_digest(token), user_id=user_id, expires_at=now + ttl,
                            ip=ip[:64], user_agent=user_agent[:255]))
    user = session.get(User, user_id)
    if user is not None:  # an attribute write, not an UPDATE: a quiet column for the credentials epoch
        user.last_login_at = now
        session.add(user)
    return token


def user_for_session(*, session: Session, token: str) -> UserPublic | None:
    public, row, touch, fell_back = _resolve(session, token)
    if row is not None:
        _write_back(session, row, touch, fell_back)
    return public


def current_user(token: str) -> UserPublic | None:
    """`user_for_session` in a read-only transaction, which on SQLite does not take the write lock (every page
    event and API call asks this); its writes — `last_seen_at` every 5 minutes, the fallback from a workspace the
    user left — go in a short transaction of their own when due."""
    with read_scope() as session:
        public, row, touch, fell_back = _resolve(session, token)
        row_id = row.id if row is not None and (touch or fell_back) else None  # rows expire with the transaction
    if row_id is not None:
        with session_scope() as session:
            fresh = session.get(AuthSession, row_id)
            if fresh is not None:
                _write_back(session, fresh, touch, fell_back)
    return public


def _resolve(session: Session, token: str) -> tuple[UserPublic | None, AuthSession | None, bool, bool]:
    """(the user, the session row, whether last_seen_at is due, whether it fell back to the personal workspace)."""
    if not token:
        return None, None, False, False
    row = session.get(AuthSession, token_digest(token))
    now = utcnow()
    if row is None or row.expires_at < now:
        return None, None, False, False
    user = session.get(User, row.user_id)
    if user is None or not user.is_active or user.password_changed_at > row.created_at:
        return None, None, False, False
    touch = now - row.last_seen_at > _TOUCH_EVERY
    from app.services.workspaces.service import acting  # it imports accounts, as this module does

    public = acting(session=session, user=user, workspace_id=row.workspace_id)
    fell_back = public is None and row.workspace_id is not None
    if fell_back:
        # Removed from the workspace this browser acted in: that access ends now; back to their own.
        public = acting(session=session, user=user, workspace_id=None)
    return public, row, touch, fell_back


def _write_back(session: Session, row: AuthSession, touch: bool, fell_back: bool) -> None:
    if touch:
        row.last_seen_at = utcnow()
    if fell_back:
        row.workspace_id = None
    if touch or fell_back:
        session.add(row)


def revoke_session(*, session: Session, token: str) -> None:
    if token:
        session.execute(delete(AuthSession).where(col(AuthSession.id) == token_digest(token)))


def revoke_user_sessions(*, session: Session, user_id: int, keep_token: str = "") -> int:
    """End a user's sessions, except `keep_token`'s, which is renewed to outlive a password change.

    Returns how many ended."""
    stmt = delete(AuthSession).where(col(AuthSession.user_id) == user_id)
    if keep_token:
        kept = token_digest(keep_token)
        stmt = stmt.where(col(AuthSession.id) != kept)
        session.execute(update(AuthSession).where(col(AuthSession.id) == kept)
                        .values(created_at=utcnow()))
    return session.execute(stmt).rowcount or 0


def purge_expired(*, session: Session) -> int:
    result = session.execute(delete(AuthSession).where(col(AuthSession.expires_at) < utcnow()))
    return result.rowcount or 0


def issue_ticket(*, user_id: int, next_path: str = "/dashboard") -> str:
    """A one-time, 60-second ticket that the cookie route trades for a session.

    The UI checks credentials over the websocket, which cannot set an HttpOnly cookie, so
    it hands the browser this ticket and a full page load to an HTTP route that can.
    """
    ticket = new_token()
    payload = json.dumps({"user_id": user_id, "next": safe_next(next_path)})
    get_redis().set(f"atelier:ticket:{token_digest(ticket)}", payload, ex=TICKET_TTL_SECONDS)
    return ticket


def redeem_ticket(ticket: str) -> tuple[int, str] | None:
    raw = get_redis().getdel(f"atelier:ticket:{token_digest(ticket or '')}")
    if not raw:
        return None
    data = json.loads(raw)
    return int(data["user_id"]), safe_next(data.get("next", ""))


def safe_next(path: str) -> str:
    """Only same-site relative paths, so a link cannot bounce the user elsewhere."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/dashboard"
    if any(ord(ch) < 33 for ch in path):
        return "/dashboard"
    return path[:300]
