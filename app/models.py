"""All database tables (SQLModel). Alembic is the only schema authority."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import UniqueConstraint
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


class Job(SQLModel, table=True):
    """The durable truth about one piece of background work."""

    # Chosen by us before enqueueing and reused as the RQ job id.
    id: str = Field(primary_key=True, max_length=36)
    kind: str = Field(max_length=64, index=True)
    owner_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    # queued | running | succeeded | failed | canceled
    status: str = Field(default="queued", max_length=16, index=True)
    progress: int = 0
    message: str = Field(default="", max_length=300)
    params: str = Field(default="{}")  # JSON snapshot of what was asked
    result_ref: str = Field(default="", max_length=300)
    error: str = Field(default="", max_length=2000)
    cost: int = 0
    queue: str = Field(default="default", max_length=32)
    rq_id: str = Field(default="", max_length=64)
    attempts: int = 0
    max_attempts: int = 3
    cancel_requested: bool = False
    idempotency_key: str | None = Field(default=None, max_length=128, unique=True)
    worker_name: str = Field(default="", max_length=128)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class Asset(SQLModel, table=True):
    # One copy of the same bytes per owner.
    __table_args__ = (UniqueConstraint("owner_id", "sha256", name="uq_asset_owner_sha256"),)
    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="user.id", index=True)
    sha256: str = Field(max_length=64, index=True)
    # Sanitised for display and downloads; never used as a storage path.
    filename: str = Field(max_length=255)
    mime: str = Field(max_length=64)
    size_bytes: int
    width: int
    height: int
    storage_key: str = Field(max_length=300)
    thumb_key: str = Field(default="", max_length=300)
    # processing | ready | failed
    status: str = Field(default="processing", max_length=16, index=True)
    error: str = Field(default="", max_length=500)
    meta: str = Field(default="{}")  # JSON: EXIF, dominant colours
    created_at: datetime = Field(default_factory=utcnow, index=True)


class CreditAccount(SQLModel, table=True):
    __tablename__ = "credit_account"
    user_id: int = Field(primary_key=True, foreign_key="user.id")
    # Spendable now; `held` is reserved by running jobs.
    balance: int = 0
    held: int = 0


class CreditEntry(SQLModel, table=True):
    """One row per change to a balance; `reference` makes each change count once."""

    __tablename__ = "credit_entry"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    # grant | allowance | reserve | capture | release | adjust
    kind: str = Field(max_length=16)
    amount: int  # change to the spendable balance
    reference: str = Field(max_length=128, unique=True)
    job_id: str | None = Field(default=None, max_length=36, index=True)
    reason: str = Field(default="", max_length=300)
    actor_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow, index=True)


class RenameBatch(SQLModel, table=True):
    __tablename__ = "rename_batch"
    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="user.id", index=True)
    # analyzing | ready | failed | canceled
    status: str = Field(default="analyzing", max_length=16)
    options: str = Field(default="{}")  # JSON: RenameOptions
    job_id: str = Field(default="", max_length=36)
    image_count: int = 0
    created_at: datetime = Field(default_factory=utcnow, index=True)
    applied_at: datetime | None = None


class RenameItem(SQLModel, table=True):
    __tablename__ = "rename_item"
    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="rename_batch.id", index=True)
    asset_id: int = Field(foreign_key="asset.id", index=True)
    position: int
    original_name: str = Field(max_length=255)
    proposed_name: str = Field(default="", max_length=255)
    # What the ZIP and "apply" use: the proposal unless the user edited it.
    final_name: str = Field(default="", max_length=255)
    edited: bool = False
    alt_text: str = Field(default="", max_length=300)
    title: str = Field(default="", max_length=200)
    tags: str = Field(default="[]")  # JSON list
    fields: str = Field(default="{}")  # JSON: subject, detail, color, date, camera, place, keywords
    confidence: float = 0.0
    # pending | done | failed
    status: str = Field(default="pending", max_length=16)
    accepted: bool = True
    error: str = Field(default="", max_length=500)


class VisionCache(SQLModel, table=True):
    """One answer per (image bytes, provider, model, options): the same image is never paid twice."""

    __tablename__ = "vision_cache"
    key: str = Field(primary_key=True, max_length=64)
    provider: str = Field(max_length=32)
    result: str  # JSON VisionResult
    created_at: datetime = Field(default_factory=utcnow)
