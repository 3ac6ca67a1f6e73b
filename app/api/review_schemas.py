"""Bodies and answers of the review, comment, workflow and notification routes (routes_template_reviews)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.ids import DbId


class Decision(BaseModel):
    """What the decider saw: a different number, revision or stage than the version has now answers 409."""

    model_config = ConfigDict(extra="forbid")
    revision: int = Field(ge=0, le=1_000_000)
    stage: int | None = Field(default=None, ge=0, le=100)


class Rejection(Decision):
    reason: str = Field(min_length=1, max_length=4000)


class Submit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: int = Field(ge=1, le=1_000_000)
    revision: int = Field(default=0, ge=0, le=1_000_000)


class Activate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: int = Field(ge=1, le=1_000_000)


class StageOut(BaseModel):
    name: str
    needed: int
    roles: list[str]
    members: list[int]
    index: int = 0
    approved_by: list[str] = []
    count: int = 0
    state: str = ""


class VersionReview(BaseModel):
    number: int
    revision: int
    status: str
    stage: int
    reason: str
    author_id: int | None
    author: str
    submitted_at: datetime | None
    decided_at: datetime | None
    blocking: list[str]
    stale_workflow: bool


class ReviewState(BaseModel):
    template_id: int
    name: str
    active_number: int | None
    approved_numbers: list[int]
    workflow_version: int
    version: VersionReview | None
    stages: list[StageOut]
    can: list[str] = Field(description="What the caller may do now: submit, approve, reject")


class StageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=60)
    needed: int = Field(default=1, ge=1, le=20)
    roles: list[str] = Field(default=[], max_length=5)
    members: list[DbId] = Field(default=[], max_length=50)


class WorkflowIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    stages: list[StageIn] = Field(max_length=10)
    version: int | None = Field(default=None, ge=0, description="The version you started from (409 if it moved)")


class WorkflowOut(BaseModel):
    workspace_id: int
    version: int
    stages: list[StageOut]
    invalidated: int = 0


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: int = Field(ge=1, le=1_000_000)
    body: str = Field(min_length=1, max_length=4000)
    parent_id: DbId | None = None


class Mention(BaseModel):
    user_id: int
    name: str


class CommentOut(BaseModel):
    id: int
    parent_id: int | None
    author_id: int | None
    author: str
    body: str
    mentions: list[Mention]
    created_at: datetime
    replies: list[CommentOut] = []


class CommentList(BaseModel):
    comments: list[CommentOut]


class InboxItem(BaseModel):
    template_id: int
    name: str
    kind: str
    number: int
    revision: int
    stage: int
    stage_name: str
    approvals: int
    needed: int
    author_id: int | None
    author: str
    submitted_at: datetime | None
    link: str


class Inbox(BaseModel):
    items: list[InboxItem]


class NotificationOut(BaseModel):
    id: int
    workspace_id: int | None
    kind: str
    title: str
    body: str
    link: str
    created_at: datetime
    read_at: datetime | None


class NotificationList(BaseModel):
    unread: int
    notifications: list[NotificationOut]


class MarkRead(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ids: list[DbId] | None = Field(default=None, max_length=200, description="None: all of them")


class Marked(BaseModel):
    marked: int
