"""Request and response bodies of the template routes. Inputs are bounded here (shape and size); the services
judge the content and say why with a stable code, naming the line or the variable in `error.details`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.ids import DbId
from app.services.templates import library, samples, sends

Kind = Literal["email", "slide", "image_style"]
Tag = Annotated[str, Field(max_length=library.MAX_TAG * 2)]
# Name and tags are bounded twice as loose as the rule so the service's message (with its code) answers.
Name = Annotated[str, Field(max_length=library.MAX_NAME * 2)]


class TemplateCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Kind
    name: Name
    description: str = Field(default="", max_length=library.MAX_DESCRIPTION * 2)
    category: str = Field(default="", max_length=library.MAX_CATEGORY * 2)
    tags: list[Tag] = Field(default_factory=list, max_length=library.MAX_TAGS * 2)
    content: dict[str, Any] | None = Field(default=None, description="The first version's content (per kind).")
    note: str = Field(default="", max_length=400)


class TemplatePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    description: str | None = Field(default=None, max_length=library.MAX_DESCRIPTION * 2)
    category: str | None = Field(default=None, max_length=library.MAX_CATEGORY * 2)
    tags: list[Tag] | None = Field(default=None, max_length=library.MAX_TAGS * 2)


class DuplicateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name | None = None


class TemplateOut(BaseModel):
    id: int
    kind: str
    name: str
    description: str
    category: str
    tags: list[str]
    has_thumbnail: bool
    active_version_id: int | None
    latest_number: int
    latest_status: str | None
    latest_revision: int | None
    archived: bool
    created_by: int | None
    created_at: str | None
    updated_at: str | None


class TemplateList(BaseModel):
    templates: list[TemplateOut]
    total: int
    limit: int
    offset: int


class VersionSave(BaseModel):
    model_config = ConfigDict(extra="forbid")
    content: dict[str, Any]
    note: str = Field(default="", max_length=400)
    base_number: int = Field(ge=0, le=1_000_000, description="The latest version number the editor started from "
                                                             "(0 when the template had none).")
    base_revision: int = Field(default=0, ge=0, le=1_000_000, description="Its revision (edits during review).")


class VersionOut(BaseModel):
    id: int
    number: int
    author_id: int | None
    note: str
    status: str
    revision: int
    stage: int
    reason: str
    content_hash: str
    checks: list[dict[str, Any]] | None
    created_at: str
    updated_at: str
    submitted_at: str | None
    decided_at: str | None
    content: dict[str, Any] | None = None
    active: bool = False


class VersionList(BaseModel):
    versions: list[VersionOut]


class TemplateDetail(TemplateOut):
    latest: VersionOut | None
    active_number: int | None


class CompareOut(BaseModel):
    a: int
    b: int
    same: bool
    added: int
    removed: int
    diff: list[str]
    truncated: bool


class SampleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=samples.MAX_NAME * 2)
    data: dict[str, Any] = Field(default_factory=dict)


class SamplePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=samples.MAX_NAME * 2)
    data: dict[str, Any] | None = None


class SampleOut(BaseModel):
    id: int
    name: str
    data: dict[str, Any]
    updated_at: str


class SampleList(BaseModel):
    samples: list[SampleOut]


class RenderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    variables: dict[str, Any] = Field(default_factory=dict)
    sample_id: DbId | None = Field(default=None, description="A sample set whose data comes first (variables on top).")
    version: int | None = Field(default=None, ge=1, le=1_000_000,
                                description="Only the active one, unless preview is true.")
    preview: bool = Field(default=False, description="Any version, the latest by default (needs templates.write).")


class RenderOut(BaseModel):
    """Per kind: email → html, text, size_bytes, clipped_by_gmail; image_style → prompt, negative_prompt,
    settings; slide → title, slides, outline, theme, brand_kit_name."""

    model_config = ConfigDict(extra="allow")
    template_id: int
    kind: str
    version: int
    status: str


class ChecksIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int | None = Field(default=None, ge=1, le=1_000_000, description="The latest by default.")
    variables: dict[str, Any] = Field(default_factory=dict, description="Sample data (fallbacks fill the rest).")


class AltTextIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1, le=1_000_000, description="The version the proposal was made for.")
    src: str = Field(min_length=1, max_length=2000)
    alt: str = Field(min_length=1, max_length=400)
    base_number: int = Field(ge=0, le=1_000_000)
    base_revision: int = Field(default=0, ge=0, le=1_000_000)


class TestSendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    recipients: list[Annotated[str, Field(max_length=254)]] = Field(min_length=1,
                                                                    max_length=sends.MAX_RECIPIENTS * 2)
    sample_id: DbId | None = None
    variables: dict[str, Any] = Field(default_factory=dict)
    version: int | None = Field(default=None, ge=1, le=1_000_000,
                                description="The latest by default (drafts may be tested).")
    subject: str = Field(default="", max_length=sends.MAX_SUBJECT * 2)


class TestSendOut(BaseModel):
    version: int
    recipients: list[str]
    outbox_ids: list[int]
    queued: bool
    size_bytes: int


class FromDeckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    deck_id: DbId
    name: Name = ""
    description: str = Field(default="", max_length=library.MAX_DESCRIPTION * 2)
    category: str = Field(default="", max_length=library.MAX_CATEGORY * 2)
    tags: list[Tag] = Field(default_factory=list, max_length=library.MAX_TAGS * 2)
    template_id: DbId | None = Field(default=None, description="Save as the next version of this slide template.")
    base_number: int = Field(default=0, ge=0, le=1_000_000)
    base_revision: int = Field(default=0, ge=0, le=1_000_000)


class NewDeckOut(BaseModel):
    deck_id: int
    title: str


class StyleGenerateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    variables: dict[str, Any] = Field(default_factory=dict)
    settings: dict[str, Any] = Field(default_factory=dict, description="Overrides: style, size, n, seed, provider, "
                                                                        "model.")


class StyleGenerationOut(BaseModel):
    id: int
    job_id: str
    status: str
    # The style's prompt with the variables filled in.
    prompt: str


class ImageLinkOut(BaseModel):
    id: int
    asset_id: int
    filename: str
    version: int
    purpose: Literal["approved", "test_send"]
    created_by: int | None
    created_by_email: str
    created_at: str
    revoked_at: str | None
    revoked_reason: str
    active: bool


class ImageLinkList(BaseModel):
    links: list[ImageLinkOut]
