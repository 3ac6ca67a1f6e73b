"""All database tables (SQLModel). Alembic is the only schema authority."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, Column, Enum, Index, UniqueConstraint
from sqlmodel import Field, SQLModel


# JSON columns (0012's tables, and the older ones from 0014) hold Python values: TEXT on SQLite, json on
# PostgreSQL. SQLAlchemy does not see in-place changes to them (no MutableDict), so code assigns a new list/dict
# rather than mutating the one it read. A nullable one reads back None for SQL NULL (none_as_null: None is
# written as NULL, never as the JSON text "null").
def _json(default_factory=dict, nullable: bool = False):
    return Field(default_factory=default_factory, sa_column=Column(JSON(none_as_null=True), nullable=nullable))


# Status columns: one StrEnum per family, stored as the same strings as before (VARCHAR, no database enum or
# CHECK, so no migration). Rows read back as members; writing a string that is not a member raises at flush
# (LookupError naming the valid values), so a typo never reaches the database. Members equal their strings.
def _status(family: type[StrEnum], default: StrEnum, *, index: bool = False, length: int = 16):
    kind = Enum(family, native_enum=False, create_constraint=False, length=length, validate_strings=True,
                values_callable=lambda members: [m.value for m in members])
    return Field(default=default, sa_column=Column(kind, nullable=False, index=index))


class OutboxStatus(StrEnum):
    PENDING = "pending"  # waiting for SMTP
    SENT = "sent"
    FAILED = "failed"
    KEPT = "kept"  # no SMTP configured: outbox only


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


class AssetStatus(StrEnum):
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class RenameBatchStatus(StrEnum):
    ANALYZING = "analyzing"
    READY = "ready"
    FAILED = "failed"
    CANCELED = "canceled"


class RenameItemStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class GenerationStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


class WorkflowRunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"  # some items failed
    FAILED = "failed"  # every item failed
    CANCELED = "canceled"


class WorkflowItemStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELED = "canceled"


class DeckStatus(StrEnum):
    IDLE = "idle"  # an outline, not generated
    OUTLINING = "outlining"
    GENERATING = "generating"
    READY = "ready"
    FAILED = "failed"


class TemplateVersionStatus(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    INVALIDATED = "invalidated"


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
    # Signed up while SIGNUP_APPROVAL is on: may not sign in until an admin approves.
    pending: bool = False
    # Made with the account; never deleted while the user exists.
    personal_workspace_id: int | None = Field(default=None, index=True)


class Workspace(SQLModel, table=True):
    """Who owns work: every user has a personal one; teams make more and invite members."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    kind: str = Field(default="team", max_length=16)  # personal | team
    created_by: int | None = Field(default=None, foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)


class Membership(SQLModel, table=True):
    """A user's role in a workspace (app.services.workspaces.permissions.ROLES)."""

    workspace_id: int = Field(foreign_key="workspace.id", primary_key=True)
    user_id: int = Field(foreign_key="user.id", primary_key=True, index=True)
    role: str = Field(max_length=16)
    # "sso:<provider>" when a sign-in's group claim set the role (re-applied at each sign-in), else "".
    role_source: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=utcnow)


class Invitation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    email: str = Field(max_length=254, index=True)
    role: str = Field(max_length=16)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    invited_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    sent_count: int = 1
    accepted_at: datetime | None = None
    accepted_by: int | None = None
    revoked_at: datetime | None = None


class ReplacedInvitationLink(SQLModel, table=True):
    """A link of an invitation that a later send replaced (its token's hash only), so the older email's link
    says it was replaced instead of "not valid"; it never opens the invitation. Deleted with its workspace."""

    __tablename__ = "replaced_invitation_link"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)  # SHA-256 of the replaced token, hex
    invitation_id: int = Field(foreign_key="invitation.id", index=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    replaced_at: datetime = Field(default_factory=utcnow)


class SsoIdentity(SQLModel, table=True):
    """A user's account at a single sign-on provider (its `sub`), linked to one Atelier user."""

    __tablename__ = "sso_identity"
    __table_args__ = (UniqueConstraint("provider", "subject", name="uq_sso_identity_provider_subject"),)
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    provider: str = Field(max_length=40)
    subject: str = Field(max_length=255)
    email: str = Field(default="", max_length=254)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None


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
    # The workspace this browser acts in (the switcher); None = the personal workspace.
    workspace_id: int | None = Field(default=None)


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
    # Bound to one workspace (None = the personal one) with scopes ("" = full access, tokens from before
    # scopes); see app.services.workspaces.permissions.SCOPES.
    workspace_id: int | None = Field(default=None)
    scopes: str = Field(default="", max_length=500)
    expires_at: datetime | None = None


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
    status: OutboxStatus = _status(OutboxStatus, OutboxStatus.PENDING, index=True)
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
    workspace_id: int | None = Field(default=None, foreign_key="workspace.id", index=True)
    # Who started it (the workspace owns it); None for system work and rows from before workspaces.
    user_id: int | None = Field(default=None, index=True)
    status: JobStatus = _status(JobStatus, JobStatus.QUEUED, index=True)
    progress: int = 0
    message: str = Field(default="", max_length=300)
    params: dict = _json(dict)  # a snapshot of what was asked
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
    # One copy of the same bytes per workspace.
    __table_args__ = (UniqueConstraint("workspace_id", "sha256", name="uq_asset_workspace_sha256"),)
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    sha256: str = Field(max_length=64, index=True)
    # Sanitised for display and downloads; never used as a storage path.
    filename: str = Field(max_length=255)
    mime: str = Field(max_length=64)
    size_bytes: int
    width: int
    height: int
    storage_key: str = Field(max_length=300)
    thumb_key: str = Field(default="", max_length=300)
    status: AssetStatus = _status(AssetStatus, AssetStatus.PROCESSING, index=True)
    error: str = Field(default="", max_length=500)
    meta: dict = _json(dict)  # EXIF, dominant colours
    created_at: datetime = Field(default_factory=utcnow, index=True)
    # The library (app.services.library): where the picture came from, what it shows, how it is found.
    origin: str = Field(default="upload", max_length=16, index=True)  # upload | generated | workflow | slide
    # The picture a workflow output was made from (no foreign key: the output outlives a deleted source).
    source_asset_id: int | None = Field(default=None, index=True)
    alt_text: str = Field(default="", max_length=300)
    taken_at: datetime | None = Field(default=None, index=True)  # EXIF DateTimeOriginal
    camera: str = Field(default="", max_length=120)
    # The camera filter's column: the camera's name, spaces collapsed, lower-case (written by library.index).
    camera_key: str = Field(default="", max_length=120, index=True)
    colour: str = Field(default="", max_length=24, index=True)  # the dominant colour's name
    ocr_text: str = Field(default="")  # words read from the picture (the renamer's OCR)
    # Name, alt text, tags, OCR words and camera in one column, indexed for full-text search (SQLite
    # FTS5 through triggers, PostgreSQL a GIN index); written only by library.index.refresh().
    search_text: str = Field(default="")
    # Deleted from the library, kept a short while for Undo; the reaper removes it for good after.
    deleted_at: datetime | None = Field(default=None, index=True)


class AssetTag(SQLModel, table=True):
    __tablename__ = "asset_tag"
    # A tag's pictures read from the index alone (search intersects them before reading any asset row).
    __table_args__ = (Index("ix_asset_tag_tag_asset_id", "tag", "asset_id"),)
    asset_id: int = Field(foreign_key="asset.id", primary_key=True)
    tag: str = Field(max_length=60, primary_key=True)  # lower-case, trimmed


class Collection(SQLModel, table=True):
    """A named set of pictures (a picture may be in several); nested one level (parent_id)."""

    __table_args__ = (UniqueConstraint("workspace_id", "parent_id", "name",
                                       name="uq_collection_workspace_parent_name"),)
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    parent_id: int | None = Field(default=None, foreign_key="collection.id", index=True)
    name: str = Field(max_length=80)
    created_at: datetime = Field(default_factory=utcnow)


class CollectionAsset(SQLModel, table=True):
    __tablename__ = "collection_asset"
    collection_id: int = Field(foreign_key="collection.id", primary_key=True)
    asset_id: int = Field(foreign_key="asset.id", primary_key=True, index=True)
    added_at: datetime = Field(default_factory=utcnow)


class CreditAccount(SQLModel, table=True):
    __tablename__ = "credit_account"
    workspace_id: int = Field(primary_key=True, foreign_key="workspace.id")
    # Spendable now; `held` is reserved by running jobs.
    balance: int = 0
    held: int = 0
    # Credits a refund or dispute could not take back (the balance stops at zero): new jobs wait until paid.
    debt: int = 0


class CreditEntry(SQLModel, table=True):
    """One row per change to a balance; `reference` makes each change count once."""

    __tablename__ = "credit_entry"
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
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
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    status: RenameBatchStatus = _status(RenameBatchStatus, RenameBatchStatus.ANALYZING)
    options: dict = _json(dict)  # app.services.rename.service.RenameOptions, dumped
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
    tags: list = _json(list)  # strings
    fields: dict = _json(dict)  # app.services.rename.service.RenameFields, dumped
    confidence: float = 0.0
    status: RenameItemStatus = _status(RenameItemStatus, RenameItemStatus.PENDING)
    accepted: bool = True
    error: str = Field(default="", max_length=500)
    # {"filename", "alt_text", "tags"}: the asset as it was before "apply", for Undo; None until applied.
    applied_before: dict | None = _json(lambda: None, nullable=True)


class VisionCache(SQLModel, table=True):
    """One answer per (image bytes, provider, model, options): the same image is never paid twice."""

    __tablename__ = "vision_cache"
    key: str = Field(primary_key=True, max_length=64)
    provider: str = Field(max_length=200)
    result: dict = _json(dict)  # app.services.rename.vision.VisionResult, dumped
    created_at: datetime = Field(default_factory=utcnow)


class StylePreset(SQLModel, table=True):
    """A named prompt template for image generation; admins add and edit them."""

    __tablename__ = "style_preset"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=40, unique=True, index=True)  # stable id used by the API ("watercolor")
    name: str = Field(max_length=60)
    template: str = Field(max_length=500)  # must contain "{prompt}"
    negative: str = Field(default="", max_length=500)  # added to the negative prompt where supported
    position: int = 0
    is_active: bool = True
    updated_at: datetime = Field(default_factory=utcnow)


class DenylistTerm(SQLModel, table=True):
    __tablename__ = "denylist_term"
    __table_args__ = (UniqueConstraint("term", "kind", name="uq_denylist_term_kind"),)
    id: int | None = Field(default=None, primary_key=True)
    term: str = Field(max_length=200)
    # word | phrase | substring | combo (see app.services.moderation.service)
    kind: str = Field(default="word", max_length=16)
    category: str = Field(max_length=32)
    reason: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    created_by: int | None = None


class ModerationEvent(SQLModel, table=True):
    """Every moderation decision, allowed or refused, for the admin log."""

    __tablename__ = "moderation_event"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    workspace_id: int | None = Field(default=None, index=True)  # whose request it was
    # prompt | output
    surface: str = Field(max_length=16)
    allowed: bool = Field(index=True)
    # denylist | ai | ai_unavailable | none
    source: str = Field(default="", max_length=24)
    category: str = Field(default="", max_length=32)
    matched: str = Field(default="", max_length=200)
    reason: str = Field(default="", max_length=300)
    text: str = Field(default="", max_length=2000)
    generation_id: int | None = Field(default=None, index=True)


class Generation(SQLModel, table=True):
    """One image-generation request: what was asked, where it ran, what came back."""

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    job_id: str = Field(default="", max_length=36, index=True)
    status: GenerationStatus = _status(GenerationStatus, GenerationStatus.QUEUED, index=True)
    prompt: str = Field(max_length=2000)
    negative_prompt: str = Field(default="", max_length=2000)
    style: str = Field(default="", max_length=40, index=True)
    final_prompt: str = Field(default="", max_length=3000)  # after the style template
    provider: str = Field(max_length=200, index=True)  # a provider name or "conn:<id>:<model>"
    model: str = Field(default="", max_length=120)
    width: int
    height: int
    n: int = 1
    seed: int = Field(default=0, sa_type=BigInteger)  # 0..2**32-1
    handle: dict = _json(dict)  # the provider's handle, for status and cancel
    error: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    finished_at: datetime | None = None


class GenerationImage(SQLModel, table=True):
    __tablename__ = "generation_image"
    id: int | None = Field(default=None, primary_key=True)
    generation_id: int = Field(foreign_key="generation.id", index=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    asset_id: int = Field(foreign_key="asset.id", index=True)
    position: int = 0
    seed: int | None = Field(default=None, sa_type=BigInteger)
    favourite: bool = Field(default=False, index=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class Recipe(SQLModel, table=True):
    """A named chain of workflow steps, saved by its owner (JSON as app.services.workflows.recipes reads it)."""

    __table_args__ = (UniqueConstraint("workspace_id", "name", name="uq_recipe_workspace_name"),)
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    name: str = Field(max_length=80)
    definition: dict = _json(dict)  # {"name", "steps": [...], "outputs": [...]}
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class WorkflowRun(SQLModel, table=True):
    """One operation or recipe run on a batch of images."""

    __tablename__ = "workflow_run"
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    job_id: str = Field(default="", max_length=36, index=True)
    # operation id for a single operation, "" for a recipe
    operation: str = Field(default="", max_length=40)
    recipe_id: int | None = Field(default=None, index=True)
    name: str = Field(max_length=80)
    definition: dict = _json(dict)  # the recipe exactly as run (a single operation is a one-step recipe)
    status: WorkflowRunStatus = _status(WorkflowRunStatus, WorkflowRunStatus.QUEUED, index=True)
    item_count: int = 0
    created_at: datetime = Field(default_factory=utcnow, index=True)
    finished_at: datetime | None = None


class WorkflowItem(SQLModel, table=True):
    __tablename__ = "workflow_item"
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="workflow_run.id", index=True)
    position: int
    # No foreign key: the record of a run outlives a source the user later deletes.
    source_asset_id: int | None = Field(default=None, index=True)
    source_name: str = Field(default="", max_length=255)
    status: WorkflowItemStatus = _status(WorkflowItemStatus, WorkflowItemStatus.QUEUED, index=True)
    error: str = Field(default="", max_length=500)
    outputs: list = _json(list)  # asset ids
    info: dict = _json(dict)  # what the steps reported (faces found, quality chosen…)
    finished_at: datetime | None = None


class Deck(SQLModel, table=True):
    """A slide deck: what was asked (spec), its current outline and how it is being made."""

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    title: str = Field(default="", max_length=600)
    spec: dict = _json(dict)  # app.services.slides.engine.model.DeckSpec, dumped
    # app.services.slides.engine.model.Outline, dumped; None while a chat provider is still planning it.
    outline: dict | None = _json(lambda: None, nullable=True)
    theme: str = Field(default="", max_length=60)  # built-in theme key
    # An uploaded .pptx/.potx template (storage key); when set it is used instead of `theme`.
    brand_kit_key: str = Field(default="", max_length=300)
    brand_kit_name: str = Field(default="", max_length=200)
    # text engine: local | openai | "conn:<id>:<model>" (a stored AI connection)
    provider: str = Field(default="local", max_length=200)
    image_provider: str = Field(default="local", max_length=200)
    status: DeckStatus = _status(DeckStatus, DeckStatus.IDLE, index=True)
    job_id: str = Field(default="", max_length=36)
    error: str = Field(default="", max_length=1000)
    # Bumped on every change to the outline: stale edits are refused, previews are cache-busted.
    revision: int = 0
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)


class DeckVersion(SQLModel, table=True):
    """A saved outline of a deck (after each generation, or on demand) that can be restored."""

    __tablename__ = "deck_version"
    __table_args__ = (UniqueConstraint("deck_id", "number", name="uq_deck_version_number"),)
    id: int | None = Field(default=None, primary_key=True)
    deck_id: int = Field(foreign_key="deck.id", index=True)
    number: int
    outline: dict = _json(dict)  # app.services.slides.engine.model.Outline, dumped
    note: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


class AIConnection(SQLModel, table=True):
    """An outside AI server an admin connected (or the environment seeded): where, how, and what it offers."""

    __tablename__ = "ai_connection"
    id: int | None = Field(default=None, primary_key=True)
    preset: str = Field(max_length=32)  # app.providers.presets.PRESETS
    name: str = Field(max_length=80, unique=True)
    base_url: str = Field(default="", max_length=500)
    secret: str = Field(default="")  # the API key, encrypted (app.providers.keybox); "" when none
    options: dict = _json(dict)  # preset-specific fields (auth, region, models, workflow…)
    enabled: bool = True
    offers: list = _json(list)  # what the last successful test listed (app.providers.probe.Offer, dumped)
    tested_at: datetime | None = None
    test_error: str = Field(default="", max_length=500)
    latency_ms: int | None = None
    # "image:openai", "vision:google"…: the environment variables this row was seeded from, if any.
    seeded_from: str | None = Field(default=None, max_length=40, unique=True)
    # Bumped on every change: a process rebuilds its client for this connection when it differs.
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class AIDefault(SQLModel, table=True):
    """The connection and model each capability uses unless a page picks another, and its price in credits."""

    __tablename__ = "ai_default"
    capability: str = Field(primary_key=True, max_length=16)  # vision | text | images | cutout | upscale | moderation
    connection_id: int = Field(foreign_key="ai_connection.id", index=True)
    model: str = Field(default="", max_length=200)
    price: int = Field(default=0, ge=0)  # credits per image (vision, images, cutout, upscale) or per call
    updated_at: datetime = Field(default_factory=utcnow)


class AISeed(SQLModel, table=True):
    """Environment settings already turned into connections: a deleted seeded connection stays deleted."""

    __tablename__ = "ai_seed"
    key: str = Field(primary_key=True, max_length=40)
    created_at: datetime = Field(default_factory=utcnow)


# --- Billing (Stripe). Off unless STRIPE_SECRET_KEY is set; credits stay the one currency of work. ---


class Plan(SQLModel, table=True):
    """A plan a workspace can be on; its terms live in versions so an edit never reaches back."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=40, unique=True)  # "free", "studio"…: stable, used in URLs and settings
    name: str = Field(max_length=80)
    is_free: bool = False  # the plan of every workspace without a subscription (exactly one)
    active: bool = True  # inactive: no new subscriptions; running ones renew on their version
    sort: int = 0
    created_at: datetime = Field(default_factory=utcnow)


class PlanVersion(SQLModel, table=True):
    """The terms of a plan from one edit on: new subscriptions and renewals take the latest version."""

    __tablename__ = "plan_version"
    __table_args__ = (UniqueConstraint("plan_id", "version", name="uq_plan_version_plan_id_version"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    version: int
    stripe_price_id: str = Field(default="", max_length=100)  # "" for the free plan
    amount_cents: int = 0  # what the price shows (Stripe holds the real price)
    currency: str = Field(default="usd", max_length=3)
    monthly_credits: int = 0
    monthly_rename_quota: int = 0  # images renamed per month
    member_limit: int | None = None  # None: no limit
    storage_limit_mb: int | None = None
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)


class CreditPack(SQLModel, table=True):
    """Credits sold once (a Checkout Session in payment mode)."""

    __tablename__ = "credit_pack"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    credits: int
    stripe_price_id: str = Field(max_length=100, unique=True)
    amount_cents: int = 0
    currency: str = Field(default="usd", max_length=3)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class BillingCustomer(SQLModel, table=True):
    """The Stripe Customer that pays for a workspace."""

    __tablename__ = "billing_customer"
    workspace_id: int = Field(primary_key=True, foreign_key="workspace.id")
    stripe_customer_id: str = Field(max_length=100, unique=True)
    email: str = Field(default="", max_length=254)
    created_at: datetime = Field(default_factory=utcnow)


class Subscription(SQLModel, table=True):
    """A workspace's Stripe subscription to a plan, as the webhooks last moved it."""

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    stripe_subscription_id: str = Field(max_length=100, unique=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    plan_version_id: int = Field(foreign_key="plan_version.id")
    # incomplete | incomplete_expired | trialing | active | past_due | unpaid | canceled | paused
    status: str = Field(default="incomplete", max_length=24)
    # The Stripe time of the event that set `status`: an older event never moves it back.
    status_at: datetime | None = None
    current_period_end: datetime | None = None
    cancel_at_period_end: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class StripeEvent(SQLModel, table=True):
    """Every webhook event received, by Stripe's event id: a second delivery of one is a no-op."""

    __tablename__ = "stripe_event"
    id: str = Field(primary_key=True, max_length=100)  # evt_…
    type: str = Field(max_length=80)
    created_at: datetime  # Stripe's `created` of the event
    received_at: datetime = Field(default_factory=utcnow, index=True)
    outcome: str = Field(default="applied", max_length=16)  # applied | ignored | failed
    detail: str = Field(default="", max_length=300)


class BillingEffect(SQLModel, table=True):
    """One row per effect of money on credits, unique by its business key (payment intent, invoice, refund,
    dispute): whichever event or replay carries it, it counts once. Its ledger row has reference
    `stripe:<business_key>`."""

    __tablename__ = "billing_effect"
    id: int | None = Field(default=None, primary_key=True)
    business_key: str = Field(max_length=160, unique=True)  # "pack:pi_…", "invoice:in_…", "refund:re_…"…
    kind: str = Field(max_length=24)  # pack | plan_credits | refund | dispute | topup
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    event_id: str = Field(default="", max_length=100)
    credits: int = 0  # the change asked for (negative for refunds and disputes)
    applied_credits: int = 0  # what reached the balance (a take-back stops at zero)
    shortfall: int = 0  # credits a take-back could not take: recorded as debt
    amount_cents: int = 0
    currency: str = Field(default="usd", max_length=3)
    stripe_object_id: str = Field(default="", max_length=100, index=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class BillingState(SQLModel, table=True):
    """Small named values of the billing jobs (the reconciliation cursor)."""

    __tablename__ = "billing_state"
    key: str = Field(primary_key=True, max_length=40)
    value: str = Field(default="", max_length=200)
    updated_at: datetime = Field(default_factory=utcnow)


class BillingIssue(SQLModel, table=True):
    """A mismatch reconciliation found between Stripe's events and the ledger."""

    __tablename__ = "billing_issue"
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)  # missing_effect | duplicate_effect | amount_mismatch | unknown_workspace
    business_key: str = Field(default="", max_length=160, index=True)
    detail: str = Field(default="", max_length=500)
    found_at: datetime = Field(default_factory=utcnow, index=True)
    resolved_at: datetime | None = None


class WorkspaceBudget(SQLModel, table=True):
    """Caps, warnings and automatic top-up an owner sets for a workspace's credits."""

    __tablename__ = "workspace_budget"
    workspace_id: int = Field(primary_key=True, foreign_key="workspace.id")
    monthly_cap: int | None = None  # credits the workspace may spend in a calendar month
    member_cap: int | None = None  # each member's monthly cap unless a MemberBudget says otherwise
    low_balance_thresholds: str = Field(default="", max_length=100)  # "100,20": warn when the balance crosses
    # The lowest threshold already warned about; cleared when the balance rises above it again.
    warned_threshold: int | None = None
    auto_topup_pack_id: int | None = Field(default=None, foreign_key="credit_pack.id")
    auto_topup_below: int | None = None  # top up when the balance falls below this
    auto_topup_monthly_max: int | None = None  # at most this many credits bought automatically per month
    updated_at: datetime = Field(default_factory=utcnow)


class MemberBudget(SQLModel, table=True):
    __tablename__ = "member_budget"
    workspace_id: int = Field(primary_key=True, foreign_key="workspace.id")
    user_id: int = Field(primary_key=True, foreign_key="user.id")
    monthly_cap: int | None = None
    updated_at: datetime = Field(default_factory=utcnow)


# Templates and approvals (migration 0012).


class Template(SQLModel, table=True):
    """A reusable email, slide or image-style template of a workspace; its content lives in its versions."""

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    kind: str = Field(max_length=16)  # email | slide | image_style
    name: str = Field(max_length=120)
    description: str = Field(default="", max_length=1000)
    category: str = Field(default="", max_length=60)
    tags: list = _json(list)
    thumbnail_key: str = Field(default="", max_length=300)
    # The version that goes out (export, render API, "new deck from this"): always an approved one, or none.
    active_version_id: int | None = None
    latest_number: int = 0
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    archived_at: datetime | None = None


class TemplateVersion(SQLModel, table=True):
    """One saved state of a template, and where its review stands (app.services.templates.approvals)."""

    __tablename__ = "template_version"
    __table_args__ = (UniqueConstraint("template_id", "number", name="uq_template_version_template_id_number"),)
    id: int | None = Field(default=None, primary_key=True)
    template_id: int = Field(foreign_key="template.id")
    number: int
    author_id: int | None = Field(default=None, foreign_key="user.id")
    note: str = Field(default="", max_length=200)
    # Per kind — email: source (MJML) and schema (its variables); slide: spec, outline, theme, brand_kit_key and
    # brand_kit_name; image_style: prompt, negative_prompt, settings and schema.
    content: dict = _json(dict)
    content_hash: str = Field(default="", max_length=64)
    status: TemplateVersionStatus = _status(TemplateVersionStatus, TemplateVersionStatus.DRAFT)
    revision: int = 0  # edits made while in review (approvals.Review.revision)
    stage: int = 0
    workflow_version: int = 0
    reason: str = Field(default="", max_length=1000)
    checks: list | None = _json(lambda: None, nullable=True)  # the automatic checklist of this content
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = None
    decided_at: datetime | None = None


class TemplateApproval(SQLModel, table=True):
    __tablename__ = "template_approval"
    __table_args__ = (UniqueConstraint("version_id", "stage", "user_id",
                                       name="uq_template_approval_version_stage_user"),)
    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="template_version.id")
    stage: int
    user_id: int = Field(foreign_key="user.id")
    revision: int
    created_at: datetime = Field(default_factory=utcnow)


class ApprovalWorkflow(SQLModel, table=True):
    """A workspace's ordered review stages; `version` is bumped on every change (running reviews go stale)."""

    __tablename__ = "approval_workflow"
    workspace_id: int = Field(primary_key=True, foreign_key="workspace.id")
    version: int = 1
    stages: list = _json(list)  # [{"name", "needed", "roles": [...], "members": [user ids]}]
    updated_by: int | None = Field(default=None, foreign_key="user.id")
    updated_at: datetime = Field(default_factory=utcnow)


class TemplateComment(SQLModel, table=True):
    __tablename__ = "template_comment"
    id: int | None = Field(default=None, primary_key=True)
    template_id: int = Field(foreign_key="template.id")
    version_id: int = Field(foreign_key="template_version.id")
    parent_id: int | None = Field(default=None, foreign_key="template_comment.id")
    author_id: int | None = Field(default=None, foreign_key="user.id")
    body: str = Field(max_length=4000)
    mentions: list = _json(list)  # user ids
    created_at: datetime = Field(default_factory=utcnow)
    edited_at: datetime | None = None
    deleted_at: datetime | None = None


class TemplateSample(SQLModel, table=True):
    """A named set of sample data for an email template's variables (the preview and test sends use it)."""

    __tablename__ = "template_sample"
    __table_args__ = (UniqueConstraint("template_id", "name", name="uq_template_sample_template_id_name"),)
    id: int | None = Field(default=None, primary_key=True)
    template_id: int = Field(foreign_key="template.id")
    name: str = Field(max_length=60)
    data: dict = _json(dict)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Notification(SQLModel, table=True):
    """An in-app notice for one person (assignment, mention, decision); email goes through the outbox."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id")
    workspace_id: int | None = Field(default=None, foreign_key="workspace.id")
    kind: str = Field(max_length=24)  # review_assigned | mentioned | review_decided
    title: str = Field(max_length=200)
    body: str = Field(default="", max_length=500)
    link: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow)
    read_at: datetime | None = None


class ImageLink(SQLModel, table=True):
    """A signed public address of one library picture in an email that leaves (app.services.templates.image_links).

    One per (picture, template version, purpose), never re-made: a revoked link stays revoked. Only the token's
    hash is stored. No foreign key on asset_id: the row (who published what, when) outlives a deleted picture.
    """

    __tablename__ = "image_link"
    __table_args__ = (UniqueConstraint("asset_id", "template_version_id", "purpose",
                                       name="uq_image_link_asset_version_purpose"),
                      Index("ix_image_link_template_id", "template_id"))
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    asset_id: int = Field(index=True)
    template_id: int = Field(foreign_key="template.id")
    template_version_id: int = Field(foreign_key="template_version.id")
    purpose: str = Field(max_length=16)  # approved (active, exported, rendered through the API) | test_send
    token_hash: str = Field(max_length=64, unique=True)  # SHA-256 of the token, hex
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None
    revoked_by: int | None = Field(default=None, foreign_key="user.id")
    # Why it ended: revoked (a person) | asset_deleted
    revoked_reason: str = Field(default="", max_length=16)
