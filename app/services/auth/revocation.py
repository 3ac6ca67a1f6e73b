"""Ending a user's credentials at once (sessions and API tokens), with one audit entry.

Used when a password is reset or changed and when an account is disabled: a disabled account's
sessions and tokens are gone, not just paused, so enabling it again brings none of them back.
"""

from __future__ import annotations

from sqlmodel import Session

from app.services import audit
from app.services.auth import api_tokens
from app.services.auth.sessions import revoke_user_sessions


def revoke_credentials(*, session: Session, user_id: int, reason: str, tokens: bool = True,
                       keep_session_token: str = "", actor_id: int | None = None, ip: str = "") -> tuple[int, int]:
    """End the user's sessions (but `keep_session_token`'s) and, with `tokens`, their API tokens.

    Returns (sessions ended, tokens revoked).
    """
    ended = revoke_user_sessions(session=session, user_id=user_id, keep_token=keep_session_token)
    revoked = api_tokens.revoke_all(session=session, user_id=user_id) if tokens else 0
    kept = "; API tokens kept" if not tokens else ""
    audit.record(session=session, action="auth.credentials_revoked", actor_id=actor_id or user_id,
                 target=str(user_id), ip=ip,
                 detail=f"{reason}: {ended} session{'s' * (ended != 1)}, "
                        f"{revoked} API token{'s' * (revoked != 1)}{kept}")
    return ended, revoked
