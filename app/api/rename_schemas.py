"""Response bodies of the rename routes (their request bodies live beside the routes)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from app.api.library_schemas import FileErrorOut


class ItemOut(BaseModel):
    id: int
    asset_id: int
    position: int
    original_name: str
    proposed_name: str
    final_name: str
    edited: bool
    alt_text: str
    title: str
    tags: list[str]
    # subject, detail, color, date, camera, place, keywords: what the name was built from.
    fields: dict[str, Any]
    confidence: float
    status: str
    accepted: bool
    error: str
    needs_subject: bool


class BatchOut(BaseModel):
    id: int
    status: str
    job_id: str
    image_count: int
    options: dict[str, Any]
    created_at: str
    applied_at: str | None


class BatchCreated(BatchOut):
    # Uploaded files that could not be stored (multipart only); the batch holds the others.
    errors: list[FileErrorOut]


class BatchDetail(BatchOut):
    items: list[ItemOut]


class BatchList(BaseModel):
    batches: list[BatchOut]


class Renamed(BaseModel):
    renamed: int


class Restored(BaseModel):
    restored: int
