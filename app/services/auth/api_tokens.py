"""API tokens: shown once, stored as a digest, revocable; bound to a workspace, scoped, and may expire."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.db import read_scope, session_scope
from app.errors import AuthRequired, NotFound, ValidationFailed
from app.models import ApiToken, Membership, User, utcnow
from app.services import audit
from app.services.auth import token_cache
from app.services.auth.accounts import UserPublic
from app.services.secrets import new_token, token_digest
from app.services.workspaces.permissions import ROLES, clean_scopes

TOKEN_PREFIX = "atl_"
MAX_TOKENS_PER_USER = 50
MAX_LIFETIME = timedelta(days=366)
# The choices the Settings form offers (days; 0 = never expires).
EXPIRY_CHOICES = (7, 30, 90, 365, 0)


def expiry_of(*, expires_at: datetime | None = None, expires_in_days: int | None = None) -> datetime | None:
    """When a new token expires: an instant in the next year, a number of days, or never (None)."""
    if expires_at is not None and expires_in_days is not None:
        raise ValidationFailed("Give expires_at or expires_in_days, not both.", code="invalid_expiry")
    now = utcnow()
    if expires_in_days is not None:
        if not 1 <= expires_in_days <= MAX_LIFETIME.days:
            raise ValidationFailed(f"expires_in_days must be between 1 and {MAX_LIFETIME.days}.",
                                   code="invalid_expiry")
        return now + timedelta(days=expires_in_days)
    if expires_at is None:
        return None
    if expires_at.tzinfo is None:
        raise ValidationFailed("Give expires_at with a time zone (for example 2027-01-31T00:00:00Z).",
                               code="invalid_expiry")
    if expires_at <= now:
        raise ValidationFailed("expires_at is in the past; give a time in the future.", code="invalid_expiry")
    if expires_at - now > MAX_LIFETIME:
        raise ValidationFailed(f"A token may live at most {MAX_LIFETIME.days} days.", code="invalid_expiry")
    return expires_at


def create_token(*, session: Session, user_id: int, name: str, scopes: list[str] | None = None,
                 workspace_id: int | None = None, expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """A new token. scopes None: full access (what tokens were before scopes); workspace_id None: the personal one.

    `expires_at` comes checked from `expiry_of`."""
    name = " ".join((name or "").split())
    if not name or len(name) > 80:
        raise ValidationFailed("Give the token a name of 1 to 80 characters.", code="invalid_name")
    live = session.exec(select(ApiToken.id).where(ApiToken.user_id == user_id,
                                                  col(ApiToken.revoked_at).is_(None))).all()
    if len(live) >= MAX_TOKENS_PER_USER:
        raise ValidationFailed(f"You can keep at most {MAX_TOKENS_PER_USER} tokens; revoke one first.",
                               code="too_many_tokens")
    scope_text = " ".join(clean_scopes(scopes)) if scopes is not None else ""
    member = session.get(Membership, (workspace_id, user_id)) if workspace_id is not None else None
    if workspace_id is not None and (member is None or member.role not in ROLES):
        # Not a member: answered like a workspace that does not exist.
        raise NotFound("No such workspace.", code="workspace_not_found")
    secret = new_token(TOKEN_PREFIX)
    row = ApiToken(user_id=user_id, name=name, prefix=secret[:10], token_hash=token_digest(secret),
                   scopes=scope_text, workspace_id=workspace_id, expires_at=expires_at)
    session.add(row)
    session.flush()
    audit.record(session=session, action="token.created", actor_id=user_id, target=name, detail=describe(row))
    return row, secret


def describe(row: ApiToken) -> str:
    """For the audit log: where the token acts, what it may do, until when."""
    where = f"workspace:{row.workspace_id}" if row.workspace_id else "personal workspace"
    until = row.expires_at.strftime("%Y-%m-%d %H:%M UTC") if row.expires_at else "never"
    return f"{where}; scopes: {row.scopes or 'full access'}; expires: {until}"


def list_tokens(*, session: Session, user_id: int) -> list[ApiToken]:
    return list(session.exec(
        select(ApiToken).where(ApiToken.user_id == user_id, col(ApiToken.revoked_at).is_(None))
        .order_by(col(ApiToken.id).desc())
    ))


def revoke_token(*, session: Session, user_id: int, token_id: int) -> None:
    row = session.get(ApiToken, token_id)
    # Someone else's token answers exactly like a missing one.
    if row is None or row.user_id != user_id or row.revoked_at is not None:
        raise NotFound("No such token.")
    row.revoked_at = utcnow()
    session.add(row)
    audit.record(session=session, action="token.revoked", actor_id=user_id, target=row.name, detail=describe(row))


def revoke_all(*, session: Session, user_id: int) -> int:
    """Revoke every live token of a user; how many. The caller records why in the audit log."""
    moved = session.execute(update(ApiToken).where(col(ApiToken.user_id) == user_id,
                                                   col(ApiToken.revoked_at).is_(None))
                            .values(revoked_at=utcnow()))
    return moved.rowcount or 0


def user_for_token(*, session: Session, secret: str, epoch: int | None = None) -> UserPublic | None:
    """The user the token acts as, or None for an unknown or revoked one. An expired token raises 401
    `token_expired`, so a script can tell "make a new token" from "this was never valid".

    With `epoch` (the credentials epoch read before this call, app/auth_epoch.py) the answer is kept in
    app.services.auth.token_cache for later requests of the same epoch."""
    public, row, due = _resolve(session, secret, epoch)
    if due:
        row.last_used_at = utcnow()
        session.add(row)
    return public


def current_user(*, secret: str, epoch: int | None = None) -> UserPublic | None:
    """`user_for_token` in a read-only transaction, which on SQLite does not take the write lock; `last_used_at`,
    when due (once a minute), is written in a short transaction of its own."""
    with read_scope() as session:
        public, row, due = _resolve(session, secret, epoch)
        token_id = row.id if due else None  # read here: the rows expire when the read transaction ends
    if token_id is not None:
        with session_scope() as session:
            fresh = session.get(ApiToken, token_id)
            if fresh is not None:
                fresh.last_used_at = utcnow()
                session.add(fresh)
    return public


def _resolve(session: Session, secret: str, epoch: int | None) -> tuple[UserPublic | None, ApiToken | None, bool]:
    """(the user, the token row, whether last_used_at is due)."""
    if not secret.startswith(TOKEN_PREFIX):
        return None, None, False
    digest = token_digest(secret)
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == digest)).first()
    if row is None or row.revoked_at is not None:
        return None, None, False
    if row.expires_at is not None and row.expires_at <= utcnow():
        raise AuthRequired(f"This API token ({row.prefix}…) expired on {row.expires_at:%Y-%m-%d %H:%M} UTC. "
                           "Make a new one in Settings.", code="token_expired")
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None, None, False
    from app.services.workspaces.service import acting  # it imports accounts, as this module does

    # Bound to its workspace: a token of a member who was removed stops working there (None).
    public = acting(session=session, user=user, workspace_id=row.workspace_id,
                    scopes=tuple(row.scopes.split()) if row.scopes else None)
    if public is None:
        return None, None, False
    if epoch is not None:
        token_cache.put(digest, epoch, public, row.expires_at)
    # Written at most once a minute: a busy script should not turn every read into a write.
    due = row.last_used_at is None or utcnow() - row.last_used_at > timedelta(minutes=1)
    return public, row, due
