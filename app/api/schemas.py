"""Request and response bodies of the REST API."""

from __future__ import annotations

from datetime import datetime

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


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None


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
