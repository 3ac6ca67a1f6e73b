"""Email delivery jobs."""

from __future__ import annotations

from app.db import session_scope
from app.services import mail


def deliver_email(outbox_id: int) -> int:
    """Send one outbox message by SMTP; safe to retry (a sent message is skipped)."""
    with session_scope() as session:
        return mail.deliver(session=session, outbox_id=outbox_id).id
