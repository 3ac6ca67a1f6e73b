"""Email: every message goes to the outbox table; SMTP delivers it when configured."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from sqlalchemy import Connection, insert
from sqlmodel import Session, col, select

from app.errors import NotFound
from app.models import OutboxEmail, utcnow
from app.settings import get_settings


def _first_status() -> str:
    return "pending" if get_settings().smtp_enabled else "kept"


def write_outbox(*, session: Session, to: str, subject: str, body: str) -> OutboxEmail:
    row = OutboxEmail(to_address=to, subject=subject[:200], body_text=body, status=_first_status())
    session.add(row)
    session.flush()
    return row


def insert_outbox(*, conn: Connection, to: str, subject: str, body: str) -> tuple[int, str]:
    """write_outbox as one plain INSERT on a connection in the caller's transaction (the billing webhook's hot
    path, where the ORM's flush costs more than the row); (id, status)."""
    status = _first_status()
    table = OutboxEmail.__table__
    outbox_id = conn.execute(insert(table).returning(table.c.id), {
        "to_address": to, "subject": subject[:200], "body_text": body, "status": status, "attempts": 0,
        "error": "", "created_at": utcnow(), "sent_at": None}).scalar_one()
    return outbox_id, status


def deliver(*, session: Session, outbox_id: int) -> OutboxEmail:
    """Send one outbox message by SMTP. Idempotent: a sent message is not sent again."""
    settings = get_settings()
    row = session.get(OutboxEmail, outbox_id)
    if row is None:
        raise NotFound(f"No outbox message {outbox_id}.")
    if row.status == "sent" or not settings.smtp_enabled:
        return row
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message.set_content(row.body_text)
    row.attempts += 1
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=20) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password)
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        row.status, row.error = "failed", str(exc)[:500]
        session.add(row)
        session.commit()
        raise
    row.status, row.sent_at, row.error = "sent", utcnow(), ""
    session.add(row)
    return row


def list_outbox(*, session: Session, limit: int = 100) -> list[OutboxEmail]:
    return list(session.exec(select(OutboxEmail).order_by(col(OutboxEmail.id).desc()).limit(limit)))
