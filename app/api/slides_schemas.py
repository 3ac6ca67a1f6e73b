"""Response bodies of the slide-deck routes (`app.services.slides.decks` builds them)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.services.slides.engine.model import Outline


class ThemeOut(BaseModel):
    name: str
    label: str
    heading_font: str
    body_font: str
    dark: bool
    background: str
    text: str
    accents: list[str]


class TextProviderOut(BaseModel):
    name: str
    label: str


class ThemeList(BaseModel):
    themes: list[ThemeOut]
    text_providers: list[TextProviderOut]
    # Whether PDF export works on this server (LibreOffice is installed).
    pdf: bool


class DeckSummary(BaseModel):
    """A deck in a list: what identifies it, without its outline."""
    id: int
    title: str
    status: str
    slide_count: int
    theme: str
    brand_kit: str | None = Field(description="The brand template's name; null for a built-in theme.")
    provider: str
    created_at: str
    updated_at: str


class DeckPage(BaseModel):
    decks: list[DeckSummary]
    total: int
    limit: int
    offset: int


class SpecOut(BaseModel):
    """What was asked, with the source text as its length."""
    topic: str
    slides: int
    audience: str
    tone: str
    language: str
    theme: str
    notes: bool
    source_chars: int


class DeckJob(BaseModel):
    id: str
    status: str
    progress: int
    message: str


class DeckOut(DeckSummary):
    """The whole deck; `job` only while its Job row exists."""
    error: str
    revision: int
    job_id: str
    image_provider: str
    spec: SpecOut
    # null while a chat provider is still planning it.
    outline: Outline | None
    # Slides still holding the skeleton's "add a fact here" text.
    placeholder_slides: int
    # Slide id → its preview PNG's address (cache-busted).
    previews: dict[str, str]
    job: DeckJob | None = None


class DeckJobStarted(BaseModel):
    job_id: str
    deck: DeckOut


class DeckVersionOut(BaseModel):
    number: int
    note: str
    slide_count: int
    title: str
    created_at: str


class DeckVersionList(BaseModel):
    versions: list[DeckVersionOut]
