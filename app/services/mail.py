"""Email: every message goes to the outbox table; SMTP delivers it when configured.

A message may carry an HTML part beside its text (template test sends): the HTML is kept in storage under
`mail/html/<outbox id>.html` (the outbox table holds the text), and delivery sends both as alternatives.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from sqlalchemy import insert
from sqlmodel import Session, col, select

from app.errors import NotFound
from app.models import OutboxEmail, OutboxStatus, utcnow
from app.settings import get_settings

HTML_PREFIX = "mail/html"


def html_key(outbox_id: int) -> str:
    return f"{HTML_PREFIX}/{outbox_id}.html"


def _first_status() -> str:
    return OutboxStatus.PENDING if get_settings().smtp_enabled else OutboxStatus.KEPT


def write_outbox(*, session: Session, to: str, subject: str, body: str, html: str | None = None) -> OutboxEmail:
    row = OutboxEmail(**outbox_row(to=to, subject=subject, body=body))
    session.add(row)
    session.flush()
    if html is not None:
        from app.storage import get_storage

        get_storage().put(html_key(row.id), html.encode(), content_type="text/html; charset=utf-8")
    return row


def html_of(outbox_id: int) -> str | None:
    """The HTML part of an outbox message, if it has one."""
    from app.storage import get_storage

    storage = get_storage()
    key = html_key(outbox_id)
    return storage.get(key).decode() if storage.exists(key) else None


# Built once: a statement's construction (RETURNING included) costs more than its cached compilation.
# A plain INSERT of an outbox_row(), for hot paths where the ORM's flush costs more than the row (billing effects).
OUTBOX_INSERT = insert(OutboxEmail.__table__).returning(OutboxEmail.__table__.c.id)


def outbox_row(*, to: str, subject: str, body: str) -> dict:
    """The column values of a new outbox message, for OUTBOX_INSERT in the caller's transaction."""
    return {"to_address": to, "subject": subject[:200], "body_text": body, "status": _first_status(), "attempts": 0,
            "error": "", "created_at": utcnow(), "sent_at": None}


def deliver(*, session: Session, outbox_id: int) -> OutboxEmail:
    """Send one outbox message by SMTP. Idempotent: a sent message is not sent again."""
    settings = get_settings()
    row = session.get(OutboxEmail, outbox_id)
    if row is None:
        raise NotFound(f"No outbox message {outbox_id}.")
    if row.status == OutboxStatus.SENT or not settings.smtp_enabled:
        return row
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message.set_content(row.body_text)
    html = html_of(row.id)
    if html is not None:
        message.add_alternative(html, subtype="html")
    row.attempts += 1
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=20) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password)
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        row.status, row.error = OutboxStatus.FAILED, str(exc)[:500]
        session.add(row)
        session.commit()
        raise
    row.status, row.sent_at, row.error = OutboxStatus.SENT, utcnow(), ""
    session.add(row)
    return row


def list_outbox(*, session: Session, limit: int = 100) -> list[OutboxEmail]:
    return list(session.exec(select(OutboxEmail).order_by(col(OutboxEmail.id).desc()).limit(limit)))
