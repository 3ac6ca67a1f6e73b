"""The password-reset journey, shared by the UI and the REST API."""

from __future__ import annotations

import logging

from app.db import session_scope
from app.models import OutboxStatus
from app.queue import enqueue_email_delivery
from app.services import mail, throttle
from app.services.auth import accounts
from app.services.auth.accounts import UserPublic
from app.services.auth.revocation import revoke_credentials
from app.settings import get_settings

log = logging.getLogger(__name__)

GENERIC_ANSWER = ("If an account exists for that address, we have sent it a link to "
                  "choose a new password. The link works once, for a limited time.")


def request_reset(*, email: str, ip: str) -> str:
    """Email a reset link when the account exists; the answer is the same either way."""
    settings = get_settings()
    throttle.hit(rule=settings.reset_limit_per_ip, scope="reset-ip", key=ip or "unknown")
    throttle.hit(rule=settings.reset_limit_per_account, scope="reset-account",
                 key=(email or "").strip().lower()[:254])
    outbox_id = None
    with session_scope() as session:
        started = accounts.start_password_reset(session=session, email=email)
        if started:
            user, token = started
            link = f"{settings.public_url}/reset/confirm?token={token}"
            body = (f"Hello {user.name or user.email},\n\nSomeone (hopefully you) asked to reset "
                    f"your Atelier password. Open this link to choose a new one:\n\n{link}\n\n"
                    f"It works once and expires in {settings.reset_ttl_minutes} minutes. "
                    "If you did not ask, ignore this email: your password stays as it is.\n")
            row = mail.write_outbox(session=session, to=user.email,
                                    subject="Reset your Atelier password", body=body)
            outbox_id = row.id if row.status == OutboxStatus.PENDING else None
    if outbox_id is not None:
        try:
            enqueue_email_delivery(outbox_id)
        except Exception:  # the row stays pending and visible in the admin outbox
            log.exception("could not enqueue email %s", outbox_id)
    return GENERIC_ANSWER


def complete_reset(*, token: str, new_password: str) -> UserPublic:
    with session_scope() as session:
        user = accounts.finish_password_reset(session=session, token=token, new=new_password)
        revoke_credentials(session=session, user_id=user.id, reason="password reset")
    return user
