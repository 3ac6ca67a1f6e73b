"""The audit log: admin actions and security events."""

from __future__ import annotations

from sqlmodel import Session, col, select

from app.models import AuditEvent


def record(
    *, session: Session, action: str, actor_id: int | None = None, target: str = "",
    ip: str = "", detail: str = "",
) -> None:
    session.add(AuditEvent(action=action, actor_id=actor_id, target=target[:200], ip=ip[:64],
                           detail=detail[:1000]))


def recent(*, session: Session, limit: int = 100) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).order_by(col(AuditEvent.id).desc()).limit(limit)))
