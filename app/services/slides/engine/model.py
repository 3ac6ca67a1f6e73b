"""The one slide model: it drives the outline editor, the browser preview and the .pptx export.

Pydantic models so the same classes validate API input (`PUT /slides/{id}/outline`), are stored
as JSON on the deck row, and are handed to the renderers.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Layout = Literal["title", "section", "bullets", "two_column", "image_text", "chart", "table", "quote"]
ChartType = Literal["bar", "column", "line", "pie", "doughnut", "area", "scatter"]
# Where a slide is while a deck is being generated; the preview shows it.
Stage = Literal["outline", "writing", "image", "chart", "ready", "failed"]

MAX_SLIDES = 60
MAX_BULLETS = 12
MAX_TEXT = 600  # characters per bullet / title / quote
MAX_NOTES = 4000
MAX_SERIES = 8
MAX_CATEGORIES = 24
MAX_LABEL = 80  # characters in a series name or the category label
MAX_TABLE_ROWS = 30
MAX_TABLE_COLS = 10


def _clean(text: str) -> str:
    return " ".join(str(text).split())


class ChartSeries(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=80)
    values: list[float] = Field(min_length=1, max_length=MAX_CATEGORIES)


class ChartData(BaseModel):
    """A native chart: categories along one axis, one or more numeric series."""

    model_config = ConfigDict(extra="forbid")
    type: ChartType = "column"
    title: str = Field(default="", max_length=MAX_TEXT)
    # What the categories are ("Region", "Month"): the first header cell of the data, kept so the
    # user's label comes back after a save and names the category axis.
    category_label: str = Field(default="", max_length=MAX_LABEL)
    categories: list[str] = Field(min_length=1, max_length=MAX_CATEGORIES)
    series: list[ChartSeries] = Field(min_length=1, max_length=MAX_SERIES)
    number_format: str = Field(default="General", max_length=40)

    @model_validator(mode="after")
    def _series_match_categories(self) -> ChartData:
        for series in self.series:
            if len(series.values) != len(self.categories):
                raise ValueError(f"series {series.name!r} has {len(series.values)} values for "
                                 f"{len(self.categories)} categories")
        if self.type in ("pie", "doughnut") and len(self.series) != 1:
            raise ValueError(f"a {self.type} chart takes exactly one series")
        return self


class TableData(BaseModel):
    model_config = ConfigDict(extra="forbid")
    header: list[str] = Field(min_length=1, max_length=MAX_TABLE_COLS)
    rows: list[list[str]] = Field(default_factory=list, max_length=MAX_TABLE_ROWS)

    @model_validator(mode="after")
    def _rectangular(self) -> TableData:
        width = len(self.header)
        self.rows = [(row + [""] * width)[:width] for row in self.rows]  # pad short rows, cut long ones
        return self


class SlideImage(BaseModel):
    """Either an asset from the library, or a prompt to generate one through the image providers."""

    model_config = ConfigDict(extra="forbid")
    asset_id: str | None = Field(default=None, max_length=64)
    prompt: str = Field(default="", max_length=1000)
    alt: str = Field(default="", max_length=300)


class Slide(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=40)  # stable across edits and reorders
    layout: Layout = "bullets"
    title: str = Field(default="", max_length=MAX_TEXT)
    subtitle: str = Field(default="", max_length=MAX_TEXT)
    bullets: list[str] = Field(default_factory=list, max_length=MAX_BULLETS)
    # two_column: the right-hand column (bullets is the left one)
    bullets_right: list[str] = Field(default_factory=list, max_length=MAX_BULLETS)
    quote: str = Field(default="", max_length=MAX_TEXT)
    attribution: str = Field(default="", max_length=200)
    notes: str = Field(default="", max_length=MAX_NOTES)
    image: SlideImage | None = None
    chart: ChartData | None = None
    table: TableData | None = None
    locked: bool = False  # regenerate skips locked slides
    stage: Stage = "outline"
    error: str = Field(default="", max_length=500)
    # True for slides the local engine made from a bare topic: the user is expected to fill them in.
    placeholder: bool = False
    # True once a person changed the slide since a machine last wrote it (set by the server, never taken from
    # a client): regenerating such a slide asks first, because it would replace what they wrote.
    edited: bool = False

    @field_validator("title", "subtitle", "quote", "attribution")
    @classmethod
    def _one_line(cls, value: str) -> str:
        return _clean(value)

    def shown_chart(self) -> ChartData | None:
        """The chart as drawn: without its own title when it only repeats the slide's (a table under a heading
        became a chart titled like the slide, and the slide said it twice, the second time in bold)."""
        if self.chart is None or " ".join(self.chart.title.split()).casefold() != " ".join(
                self.title.split()).casefold():
            return self.chart
        return self.chart.model_copy(update={"title": ""})

    @field_validator("bullets", "bullets_right")
    @classmethod
    def _bullets(cls, value: list[str]) -> list[str]:
        cleaned = [_clean(b)[:MAX_TEXT] for b in value]
        return [b for b in cleaned if b]

    @model_validator(mode="after")
    def _layout_has_its_content(self) -> Slide:
        if self.layout == "chart" and self.chart is None:
            raise ValueError("a chart slide needs chart data")
        if self.layout == "table" and self.table is None:
            raise ValueError("a table slide needs table data")
        return self


class DeckSpec(BaseModel):
    """What the user asked for; the text engines read it."""

    model_config = ConfigDict(extra="forbid")
    topic: str = Field(default="", max_length=300)
    source_text: str = Field(default="", max_length=200_000)
    slides: int = Field(default=8, ge=1, le=MAX_SLIDES)
    audience: str = Field(default="", max_length=120)
    tone: str = Field(default="", max_length=60)
    language: str = Field(default="en", min_length=2, max_length=12)
    theme: str = Field(default="", max_length=60)
    notes: bool = True  # speaker notes on by default

    @model_validator(mode="after")
    def _something_to_work_from(self) -> DeckSpec:
        if not self.topic.strip() and not self.source_text.strip():
            raise ValueError("give a topic or a source text")
        return self


class Outline(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(default="", max_length=MAX_TEXT)
    slides: list[Slide] = Field(min_length=1, max_length=MAX_SLIDES)

    @model_validator(mode="after")
    def _unique_ids(self) -> Outline:
        ids = [s.id for s in self.slides]
        if len(ids) != len(set(ids)):
            raise ValueError("slide ids must be unique")
        return self
