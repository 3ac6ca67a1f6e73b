"""Re-encrypt every stored AI connection key with the current AI_KEYS_SECRET (`make rotate-ai-keys`).

Run it after setting the new secret with the old one in AI_KEYS_PREVIOUS; when it reports success,
AI_KEYS_PREVIOUS can go. A key no configured secret opens is reported by connection name and left as is.
"""

from __future__ import annotations

import sys

from sqlmodel import select

from app.db import session_scope
from app.models import AIConnection
from app.providers import keybox
from app.services import audit


def rotate_keys() -> tuple[int, list[str]]:
    """(keys re-encrypted, names of connections whose key could not be read)."""
    done, unreadable = 0, []
    with session_scope() as session:
        for row in session.exec(select(AIConnection).where(AIConnection.secret != "")):
            try:
                row.secret = keybox.reseal(row.secret)
            except keybox.KeyUnreadable:
                unreadable.append(row.name)
                continue
            session.add(row)
            done += 1
        audit.record(session=session, action="ai.keys.rotate", detail=f"{done} keys re-encrypted"
                     + (f"; unreadable: {', '.join(unreadable)}" if unreadable else ""))
    return done, unreadable


if __name__ == "__main__":
    count, bad = rotate_keys()
    sys.stderr.write(f"{count} AI connection key(s) re-encrypted with the current secret.\n")
    if bad:
        sys.stderr.write(f"Could not read the key of: {', '.join(bad)} (add its secret to AI_KEYS_PREVIOUS).\n")
    sys.exit(1 if bad else 0)
