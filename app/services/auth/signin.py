"""Sign-in with throttling and an audit trail, shared by the UI and the REST API.

Three throttles, so that guessing is slow but a stranger cannot lock the owner out:
- account + address (tight): the guesser, or the owner mistyping, waits at that address only;
- address (looser): one address spraying many accounts;
- account from unfamiliar addresses (high): many addresses guessing one account. Addresses the
  account signed in from before are not counted, so a botnet that trips it still leaves the owner
  in where they usually sign in (a new address waits, as the guessers do).
"""

from __future__ import annotations

import hashlib

from app.db import session_scope
from app.errors import InvalidCredentials
from app.redis_client import get_redis
from app.services import audit, throttle
from app.services.auth import accounts
from app.services.auth.accounts import UserPublic
from app.services.auth.sessions import create_session, revoke_session
from app.settings import get_settings

KNOWN_ADDRESS_DAYS = 90


def _known_key(account: str) -> str:
    return "atelier:signin-known:" + hashlib.sha256(account.encode()).hexdigest()


def _is_known_address(account: str, ip: str) -> bool:
    return bool(ip) and bool(get_redis().sismember(_known_key(account), ip))


def _remember_address(account: str, ip: str) -> None:
    if ip:
        pipe = get_redis().pipeline()
        pipe.sadd(_known_key(account), ip)
        pipe.expire(_known_key(account), KNOWN_ADDRESS_DAYS * 86400)
        pipe.execute()


def check_credentials(*, email: str, password: str, ip: str) -> UserPublic:
    settings = get_settings()
    account = (email or "").strip().lower()[:254] or "-"
    address = ip or "unknown"
    throttle.hit(rule=settings.signin_limit_per_ip, scope="signin-ip", key=address)
    throttle.hit(rule=settings.signin_limit_per_account_ip, scope="signin-account-ip", key=f"{account}|{address}")
    if not _is_known_address(account, ip):
        throttle.hit(rule=settings.signin_limit_per_account, scope="signin-account", key=account)
    try:
        with session_scope() as session:
            user = accounts.authenticate(session=session, email=email, password=password)
    except InvalidCredentials:
        with session_scope() as session:
            audit.record(session=session, action="auth.signin_failed", target=(email or "")[:200], ip=ip)
        raise
    _remember_address(account, ip)
    # The owner who got it right after a few typos starts afresh at this address.
    throttle.reset(rule=settings.signin_limit_per_account_ip, scope="signin-account-ip", key=f"{account}|{address}")
    return user


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
