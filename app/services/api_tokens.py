"""Personal API tokens: shown once, stored as a digest, revocable."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.errors import NotFound, ValidationFailed
from app.models import ApiToken, User, utcnow
from app.services import audit
from app.services.accounts import UserPublic
from app.services.secrets import new_token, token_digest

TOKEN_PREFIX = "atl_"
MAX_TOKENS_PER_USER = 50


def create_token(*, session: Session, user_id: int, name: str) -> tuple[ApiToken, str]:
    name = " ".join((name or "").split())
    if not name or len(name) > 80:
        raise ValidationFailed("Give the token a name of 1 to 80 characters.", code="invalid_name")
    live = session.exec(select(ApiToken.id).where(ApiToken.user_id == user_id,
                                                  col(ApiToken.revoked_at).is_(None))).all()
    if len(live) >= MAX_TOKENS_PER_USER:
        raise ValidationFailed(f"You can keep at most {MAX_TOKENS_PER_USER} tokens; revoke one first.",
                               code="too_many_tokens")
    secret = new_token(TOKEN_PREFIX)
    row = ApiToken(user_id=user_id, name=name, prefix=secret[:10], token_hash=token_digest(secret))
    session.add(row)
    session.flush()
    audit.record(session=session, action="token.created", actor_id=user_id, target=name)
    return row, secret


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
    audit.record(session=session, action="token.revoked", actor_id=user_id, target=row.name)


def revoke_all(*, session: Session, user_id: int) -> int:
    """Revoke every live token of a user; how many. The caller records why in the audit log."""
    moved = session.execute(update(ApiToken).where(col(ApiToken.user_id) == user_id,
                                                   col(ApiToken.revoked_at).is_(None))
                            .values(revoked_at=utcnow()))
    return moved.rowcount or 0


def user_for_token(*, session: Session, secret: str) -> UserPublic | None:
    if not secret.startswith(TOKEN_PREFIX):
        return None
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == token_digest(secret))).first()
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= utcnow():
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    from app.services.workspaces.service import acting  # it imports accounts, as this module does

    # Bound to its workspace: a token of a member who was removed stops working there (None).
    public = acting(session=session, user=user, workspace_id=row.workspace_id,
                    scopes=tuple(row.scopes.split()) if row.scopes else None)
    if public is None:
        return None
    # Written at most once a minute: a busy script should not turn every read into a write.
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        row.last_used_at = now
        session.add(row)
    return public
