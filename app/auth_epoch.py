"""The credentials epoch: a Redis counter that moves whenever a row deciding who a credential acts as changes.

In-process caches of resolved credentials (app/services/auth/token_cache.py) keep an entry only for the epoch they
read before looking the credential up, so a revocation anywhere — a token revoked, every token of a user
revoked, an account disabled, a member removed or given another role — ends every process's cached entries at
its next request. The counter moves after the database commit, from SQLAlchemy session events, so no write
site has to remember it: any ORM change to a user, a membership or an API token (but a token's `last_used_at`,
which the lookup itself writes) counts, and so does a bulk UPDATE or DELETE of those tables through a session.
"""

from __future__ import annotations

import logging

from sqlalchemy import event, inspect
from sqlalchemy.orm import ORMExecuteState, Session

from app.models import ApiToken, Membership, User

EPOCH_KEY = "atelier:auth:epoch"
WATCHED = (User, Membership, ApiToken)
# Columns whose change cannot change what a credential may do, and are written often.
# (A sign-in stamps User.last_login_at: without this every sign-in would end every process's cached tokens.)
_QUIET = {ApiToken: frozenset({"last_used_at"}), User: frozenset({"last_login_at"})}
_FLAG = "atelier_auth_changed"
log = logging.getLogger(__name__)


def bump() -> None:
    """Move the epoch. Redis down: logged; cached entries then end with their short lifetime (TTL)."""
    from app.redis_client import get_redis  # settings are read when the first bump happens, not at import

    try:
        get_redis().incr(EPOCH_KEY)
    except Exception as exc:  # a commit has happened: never turn it into an error
        log.warning("credentials epoch not moved (%s); cached credentials end with their TTL", type(exc).__name__)


def _changes_credentials(obj: object) -> bool:
    quiet = _QUIET.get(type(obj))
    if not quiet:
        return True
    changed = {attr.key for attr in inspect(obj).attrs if attr.history.has_changes()}
    return bool(changed - quiet)


def _after_flush(session: Session, _context) -> None:
    # New rows cannot revoke anything: caches keep only credentials that resolved to a user.
    if any(isinstance(obj, WATCHED) and _changes_credentials(obj) for obj in session.dirty) or any(
            isinstance(obj, WATCHED) for obj in session.deleted):
        session.info[_FLAG] = True


def _orm_execute(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and state.bind_mapper is not None and \
            state.bind_mapper.class_ in WATCHED:
        state.session.info[_FLAG] = True


def _after_commit(session: Session) -> None:
    if session.info.pop(_FLAG, False):
        bump()


def _after_rollback(session: Session) -> None:
    session.info.pop(_FLAG, None)


def install() -> None:
    """Listen on every ORM session of this process (idempotent)."""
    for name, listener in (("after_flush", _after_flush), ("do_orm_execute", _orm_execute),
                           ("after_commit", _after_commit), ("after_rollback", _after_rollback)):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
