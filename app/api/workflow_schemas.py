"""Response bodies of the workflow, workflow-run and recipe routes (`app.services.workflows` builds them)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class RemoteStatus(BaseModel):
    capability: str
    available: bool


class OperationOut(BaseModel):
    id: str
    name: str
    description: str
    category: str
    # JSON Schema of the operation's settings (it also builds the form in the UI).
    schema_: dict[str, Any] = Field(alias="schema")
    # Set when the operation can run on a remote provider.
    remote: RemoteStatus | None


class OperationList(BaseModel):
    workflows: list[OperationOut]


class RunItemOut(BaseModel):
    id: int
    position: int
    source_asset_id: int | None
    source_name: str
    status: str
    error: str
    output_asset_ids: list[int]
    # Steps whose result is the original, unchanged; or an image already in the library.
    unchanged_asset_ids: list[int]
    existing_asset_ids: list[int]
    # What the steps reported (faces found, quality chosen…).
    info: dict[str, Any]


class RunOut(BaseModel):
    id: int
    status: str
    job_id: str
    name: str
    operation: str | None
    recipe_id: int | None
    # The recipe exactly as run (a single operation is a one-step recipe).
    definition: dict[str, Any]
    item_count: int
    created_at: str
    finished_at: str | None


class RunDetail(RunOut):
    # Items per status: queued, running, done, failed, canceled.
    counts: dict[str, int]
    items: list[RunItemOut]


class RunList(BaseModel):
    runs: list[RunOut]


class RecipeOut(BaseModel):
    id: int
    name: str
    definition: dict[str, Any]
    created_at: str
    updated_at: str


class RecipeList(BaseModel):
    recipes: list[RecipeOut]
