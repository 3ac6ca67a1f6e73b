"""Argon2id password hashing."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2-cffi's defaults are Argon2id with RFC 9106's low-memory profile.
_hasher = PasswordHasher()
# Verified against when the account does not exist, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("atelier-timing-equaliser")
# The password of an account made by single sign-on: no password matches it ("!" never starts an Argon2 hash).
UNUSABLE_PASSWORD = "!sso-only"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def has_usable_password(password_hash: str | None) -> bool:
    return bool(password_hash) and not password_hash.startswith("!")


def verify_password(password_hash: str | None, password: str) -> bool:
    if password_hash is not None and not has_usable_password(password_hash):
        # Costs what a wrong password costs, so timing does not tell single-sign-on accounts apart.
        _verify_dummy(password)
        return False
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def _verify_dummy(password: str) -> None:
    try:
        _hasher.verify(_DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        pass
