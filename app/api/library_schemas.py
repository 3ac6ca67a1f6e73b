"""Request and response bodies of the library routes (and the asset detail)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.ids import DbId
from app.services.library import bulk, collections, tags

# Inputs are bounded here; the services judge the content (and say why with a stable code).
Text200 = Annotated[str, Field(max_length=200)]


class CollectionRef(BaseModel):
    id: int
    name: str
    parent_id: int | None


class AssetOut(BaseModel):
    """An asset in a list (`app.services.assets.service.public`)."""
    id: int
    filename: str
    mime: str
    size_bytes: int
    width: int
    height: int
    sha256: str
    status: str
    error: str
    meta: dict[str, Any]
    created_at: str
    has_thumbnail: bool


class FileErrorOut(BaseModel):
    filename: str
    code: str
    message: str


class AssetUpload(BaseModel):
    assets: list[AssetOut]
    # Files that could not be stored, each with its reason; the others were.
    errors: list[FileErrorOut]
    duplicates: int
    jobs: list[str]


class AssetPage(BaseModel):
    assets: list[AssetOut]
    total: int
    total_capped: bool
    limit: int
    offset: int
    # The search as the server read it: the parameters that differ from the defaults.
    query: dict[str, str]


class AssetDetail(AssetOut):
    alt_text: str
    tags: list[str]
    origin: str
    source_asset_id: int | None
    collections: list[CollectionRef]
    taken_at: str | None
    camera: str
    colour: str


class AssetSeen(BaseModel):
    """What the client last read of the fields it changes (as GET returned them)."""
    model_config = ConfigDict(extra="forbid")
    filename: str | None = Field(default=None, max_length=255)
    alt_text: str | None = Field(default=None, max_length=1000)
    tags: list[Text200] | None = Field(default=None, max_length=tags.MAX_TAGS * 2)


class AssetPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    filename: str | None = Field(default=None, max_length=255)
    alt_text: str | None = Field(default=None, max_length=1000)
    tags: list[Text200] | None = Field(default=None, max_length=tags.MAX_TAGS * 2)
    # Optional: a sent field that no longer holds this value answers 409 `edit_conflict` instead of
    # overwriting someone else's change (details.current says what it holds now).
    expected: AssetSeen | None = None


class CollectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=collections.MAX_NAME * 2)
    parent_id: DbId | None = None


class CollectionPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=collections.MAX_NAME * 2)


class CollectionOut(BaseModel):
    id: int
    name: str
    parent_id: int | None
    count: int = 0
    created_at: str


class CollectionNode(CollectionOut):
    children: list[CollectionNode] = []


class CollectionList(BaseModel):
    collections: list[CollectionNode]


class AssetIds(BaseModel):
    model_config = ConfigDict(extra="forbid")
    asset_ids: list[DbId] = Field(min_length=1, max_length=bulk.MAX_IDS)


class Changed(BaseModel):
    changed: int


class BulkIn(AssetIds):
    action: Literal["tag", "untag", "collect", "uncollect", "delete", "restore"]
    # tag / untag: a tag or a list of tags; collect / uncollect: a collection's id.
    value: DbId | Text200 | list[Text200] | None = Field(default=None)


class BulkOut(BaseModel):
    changed: int
    undo_until: datetime | None = None
