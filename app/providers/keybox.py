"""API keys of AI connections, encrypted at rest (Fernet: AES-128-CBC + HMAC-SHA256, from `cryptography`).

The key comes from settings: AI_KEYS_SECRET, or SECRET_KEY when that is empty, stretched with HKDF so
neither is used raw. Rotation: set the new secret, list the old one in AI_KEYS_PREVIOUS, run
`make rotate-ai-keys` (re-encrypts every stored key with the new one), then drop AI_KEYS_PREVIOUS.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.settings import Settings, get_settings

_INFO = b"atelier ai connection keys v1"


class KeyUnreadable(Exception):
    """A stored key no configured secret opens (the secret changed without AI_KEYS_PREVIOUS)."""


def _fernet(secret: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def _box(settings: Settings) -> MultiFernet:
    current = settings.ai_keys_secret or settings.secret_key
    return MultiFernet([_fernet(current), *(_fernet(old) for old in settings.ai_keys_previous)])


def seal(plain: str, settings: Settings | None = None) -> str:
    """The stored form of an API key ("" stays "": no key)."""
    if not plain:
        return ""
    return _box(settings or get_settings()).encrypt(plain.encode()).decode()


def open_key(sealed: str, settings: Settings | None = None) -> str:
    if not sealed:
        return ""
    try:
        return _box(settings or get_settings()).decrypt(sealed.encode()).decode()
    except InvalidToken as exc:
        raise KeyUnreadable("A stored API key cannot be decrypted with AI_KEYS_SECRET (or SECRET_KEY); if the "
                            "secret changed, list the old one in AI_KEYS_PREVIOUS.") from exc


def reseal(sealed: str, settings: Settings | None = None) -> str:
    """The same key encrypted with the current secret (rotation)."""
    if not sealed:
        return ""
    try:
        return _box(settings or get_settings()).rotate(sealed.encode()).decode()
    except InvalidToken as exc:
        raise KeyUnreadable("A stored API key cannot be decrypted with any configured secret.") from exc
