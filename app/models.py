"""All database tables (SQLModel). Alembic is the only schema authority."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    # Aware UTC: SQLModel's UTCDateTime refuses naive values and reads SQLite back as UTC.
    return datetime.now(UTC)


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    name: str = Field(default="", max_length=120)
    password_hash: str = Field(max_length=255)
    role: str = Field(default="member", max_length=16)
    is_active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None
    password_changed_at: datetime = Field(default_factory=utcnow)


class AuthSession(SQLModel, table=True):
    __tablename__ = "auth_session"
    # sha256 of the cookie value: a database leak does not hand out sessions.
    id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    last_seen_at: datetime = Field(default_factory=utcnow)
    ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=255)


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    name: str = Field(max_length=80)
    prefix: str = Field(max_length=16)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class PasswordReset(SQLModel, table=True):
    __tablename__ = "password_reset"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None


class OutboxEmail(SQLModel, table=True):
    __tablename__ = "outbox_email"
    id: int | None = Field(default=None, primary_key=True)
    to_address: str = Field(max_length=254, index=True)
    subject: str = Field(max_length=200)
    body_text: str
    # pending (waiting for SMTP), sent, failed, kept (no SMTP configured: outbox only)
    status: str = Field(default="pending", max_length=16, index=True)
    attempts: int = 0
    error: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    sent_at: datetime | None = None


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor_id: int | None = Field(default=None, index=True)
    action: str = Field(max_length=64, index=True)
    target: str = Field(default="", max_length=200)
    ip: str = Field(default="", max_length=64)
    detail: str = Field(default="", max_length=1000)
