"""Random tokens and their stored form."""

from __future__ import annotations

import hashlib
import secrets


def new_token(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    # Tokens carry 256 random bits, so a plain SHA-256 is enough to store them safely.
    return hashlib.sha256(token.encode()).hexdigest()
