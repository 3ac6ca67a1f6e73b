"""Request and response bodies of the REST API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Response
from pydantic import BaseModel, ConfigDict, Field

from app.ids import DbId


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=254)
    password: str = Field(max_length=256)


class Registration(Credentials):
    name: str = Field(default="", max_length=120)
    # From an invitation link: signs up whatever SIGNUP_MODE says (for the invited address only) and joins.
    invitation_token: str | None = Field(default=None, max_length=200)


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    role: str
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None
    # Where this session or token acts, and the user's role there.
    workspace_id: int = 0
    workspace_role: str = ""
    # Signed up under SIGNUP_APPROVAL and not approved yet: cannot sign in.
    pending: bool = False


class PendingList(BaseModel):
    users: list[UserOut]


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=80)
    # None: a full-access token (as tokens were before scopes). See docs/permissions.md for the list.
    scopes: list[str] | None = Field(default=None, max_length=20, description="read, write, admin, rename:write, …")
    # None: the caller's personal workspace. Must be a workspace the caller is a member of (else 404).
    workspace_id: DbId | None = None
    # At most a year ahead; or expires_in_days. Neither: the token does not expire.
    expires_at: datetime | None = None
    expires_in_days: int | None = Field(default=None, ge=1, le=366)


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    # [] for a full-access token.
    scopes: list[str] = []
    # None: the owner's personal workspace.
    workspace_id: int | None = None
    expires_at: datetime | None = None


class TokenCreated(TokenOut):
    token: str = Field(description="The secret. Shown only in this answer: store it now.")


class TokenList(BaseModel):
    tokens: list[TokenOut]


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    current_password: str = Field(max_length=256)
    new_password: str = Field(max_length=256)
    # API tokens are revoked too unless the caller says to keep them.
    revoke_tokens: bool = True


class ResetRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=254)


class ResetConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(max_length=200)
    new_password: str = Field(max_length=256)


class Message(BaseModel):
    message: str


class UserPage(BaseModel):
    users: list[UserOut]
    total: int


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str | None = None
    is_active: bool | None = None


class CreditAdjust(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: DbId
    amount: int = Field(ge=-1_000_000, le=1_000_000)
    reason: str = Field(min_length=1, max_length=300)
    # Optional idempotency key: the same reference never counts twice.
    reference: str = Field(default="", max_length=100)


class Outcome(BaseModel):
    # "removed" (it had not started) or "stopping" (work in flight finishes, the rest is dropped).
    outcome: str


class JobStarted(BaseModel):
    job_id: str


class JobOut(BaseModel):
    """A Job row as the API and the event stream show it (`app.services.jobs.public`)."""
    id: str
    kind: str
    # queued | running | succeeded | failed | canceled
    status: str
    progress: int
    message: str
    result_ref: str
    error: str
    cost: int
    attempts: int
    cancel_requested: bool
    params: dict[str, Any]
    created_at: str
    started_at: str | None
    finished_at: str | None


class JobPage(BaseModel):
    jobs: list[JobOut]
    total: int
    limit: int
    offset: int


class JobCancelOut(Outcome):
    message: str
    job: JobOut


class CreditEntryOut(BaseModel):
    id: int
    # grant | allowance | reserve | capture | release | adjust
    kind: str
    amount: int
    reference: str
    job_id: str | None
    reason: str
    created_at: str


class CreditsOut(BaseModel):
    balance: int
    held: int
    total: int
    history: list[CreditEntryOut]


class Liveness(BaseModel):
    status: str


class Readiness(BaseModel):
    """GET /health/ready: 200 with status "ready", or 503 with status "unavailable" and the checks that are `down`."""
    status: str
    down: list[str] | None = Field(default=None, description="Only when unavailable.")
    checks: dict[str, str]
    # Reported, not counted: a model server down does not make the app unready.
    connections: list[dict[str, Any]]
    providers: list[dict[str, Any]]


def file_responses(*media_types: str, description: str, redirect: bool = False) -> dict[str, Any]:
    """Route keywords for a body that is a file or a stream, not JSON: the OpenAPI document names its media types
    (and a 307 when the file may be a redirect to storage) instead of an empty JSON schema."""
    responses: dict[int | str, dict[str, Any]] = {200: {"description": description, "content": {
        media_type: {"schema": {"type": "string", "format": "binary"}} for media_type in media_types}}}
    if redirect:
        responses[307] = {"description": "A short-lived URL on the object store holds the file."}
    return {"response_class": Response, "responses": responses}


class CreditAdjusted(BaseModel):
    user_id: int
    balance: int
    held: int


class AdminJobOut(JobOut):
    workspace_id: int | None


class AdminJobPage(BaseModel):
    jobs: list[AdminJobOut]
    total: int
    # Jobs waiting in each RQ queue.
    queues: dict[str, int]


class AuditEventOut(BaseModel):
    id: int
    at: str
    actor_id: int | None
    action: str
    target: str
    ip: str
    detail: str


class AuditList(BaseModel):
    events: list[AuditEventOut]


class TermOut(BaseModel):
    id: int
    term: str
    # word | phrase | substring | combo
    kind: str
    category: str
    reason: str
    created_at: str


class TermList(BaseModel):
    terms: list[TermOut]


class ModerationEventOut(BaseModel):
    id: int
    at: str
    workspace_id: int | None
    # prompt | output
    surface: str
    allowed: bool
    # denylist | ai | ai_unavailable | none
    source: str
    category: str
    matched: str
    reason: str
    text: str
    generation_id: int | None


class ModerationEventPage(BaseModel):
    events: list[ModerationEventOut]
    total: int
