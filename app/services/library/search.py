"""Searching the library: free text (name, tags, alt text, OCR words, camera) through the full-text index,
and filters on the asset's columns. The user's text is data, never index syntax: it is split into words
of letters and digits, and each word becomes a quoted prefix term (FTS5 `"word"*`, tsquery `'word':*`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator
from sqlalchemy import Select, exists, intersect, literal_column, table, text
from sqlmodel import Session, col, func, select

from app.errors import ValidationFailed
from app.models import Asset, AssetTag, CollectionAsset
from app.services.library.index import camera_key_of, fold, words_of

SORTS = ("added", "taken", "name", "size")
ORIGINS = ("upload", "generated", "workflow", "slide")
STATUSES = ("processing", "ready", "failed")
# Only the first 32 words of a query are used: more narrows nothing a person means, and each word is one
# more index lookup (a pasted 10 KB paragraph would otherwise become thousands of terms).
MAX_WORDS = 32
# URL parameter → field, where they differ; list fields are repeatable (`tag=a&tag=b`) or comma-separated.
PARAM_NAMES = {"tag": "tags", "collection": "collection_id"}
# US spellings read as well: the UI speaks US English, older clients keep sending `colour` (which wins).
READ_ALIASES = {"color": "colour"}
LIST_FIELDS = ("tags", "origin")
# Matches are counted up to here and no further: an exact count of 35,000 matches cost most of a search's time
# (every match read), and past a thousand nobody pages through them — "1,000+" says what matters. Actions on
# every match (matching_ids, "select all matching") do not use the count.
COUNT_CAP = 1000


class SearchQuery(BaseModel):
    """Every field optional; the empty query lists the library."""

    q: str = Field(default="", max_length=2000)  # free text: name, tags, alt text, OCR words, camera
    tags: list[str] = Field(default_factory=list, max_length=20)  # all must be on the asset (exact, lower-case)
    collection_id: int | None = None
    origin: list[str] = Field(default_factory=list)  # any of ORIGINS
    include_derived: bool = True  # False: leave out workflow outputs (origin "workflow") — pickers use it
    camera: str = Field(default="", max_length=120)  # a camera's whole name (a facet pick), case-insensitive
    colour: str = Field(default="", max_length=24)  # the dominant colour's name, exact, case-insensitive
    orientation: Literal["", "landscape", "portrait", "square"] = ""
    min_width: int | None = Field(default=None, ge=0)
    min_height: int | None = Field(default=None, ge=0)
    taken_from: date | None = None  # inclusive days (UTC)
    taken_to: date | None = None
    added_from: date | None = None
    added_to: date | None = None
    status: str = ""  # "" | processing | ready | failed
    sort: str = "added"  # SORTS; name is case-insensitive; taken puts undated last
    order: Literal["asc", "desc"] = "desc"

    # A NUL byte is refused by PostgreSQL in any string parameter: drop it (and other control characters).
    @field_validator("q", "camera", "colour", mode="before")
    @classmethod
    def _printable(cls, value: Any) -> Any:
        return _clean(value) if isinstance(value, str) else value

    @field_validator("tags", mode="after")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(t for t in (_clean(t).strip().lower() for t in value) if t))

    @field_validator("origin", mode="after")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        bad = [o for o in value if o not in ORIGINS]
        if bad:
            raise ValueError(f"origin must be among: {', '.join(ORIGINS)}")
        return list(dict.fromkeys(value))

    @field_validator("status")
    @classmethod
    def _status(cls, value: str) -> str:
        if value and value not in STATUSES:
            raise ValueError(f"status must be one of: {', '.join(STATUSES)}")
        return value

    @field_validator("sort")
    @classmethod
    def _sort(cls, value: str) -> str:
        if value not in SORTS:
            raise ValueError(f"sort must be one of: {', '.join(SORTS)}")
        return value

    def is_everything(self) -> bool:
        """Whether the query matches the whole library: nothing set but the order."""
        return not set(self.to_params()) - {"sort", "order"}

    def to_params(self) -> dict[str, str]:
        """URL query parameters (for shareable links), only the non-defaults; tags and origins comma-joined."""
        out: dict[str, str] = {}
        names = {v: k for k, v in PARAM_NAMES.items()}
        for name, default in _DEFAULTS.items():
            value = getattr(self, name)
            if value == default:
                continue
            if isinstance(value, list):
                value = ",".join(value)
            elif isinstance(value, bool):
                value = "true" if value else "false"
            elif isinstance(value, date):
                value = value.isoformat()
            out[names.get(name, name)] = str(value)
        return out

    @classmethod
    def from_params(cls, params: Mapping[str, str | list[str]]) -> SearchQuery:
        """The inverse of to_params, from a URL's parameters (repeated or comma-separated `tag` and `origin`).
        Other parameters (limit, offset…) are ignored. Bad values raise ValidationFailed (422)."""
        data: dict[str, Any] = {}
        names = {**READ_ALIASES, **{n: n for n in cls.model_fields}, **PARAM_NAMES}
        for param, name in names.items():
            if param not in params:
                continue
            values = params.getlist(param) if hasattr(params, "getlist") else params[param]
            values = values if isinstance(values, list) else [values]
            if name in LIST_FIELDS:
                data[name] = [p.strip() for v in values for p in str(v).split(",") if p.strip()]
            elif values and str(values[-1]).strip() != "":
                data[name] = str(values[-1]).strip() if name != "q" else str(values[-1])
        try:
            return cls(**data)
        except ValidationError as exc:
            errors = [{"field": ".".join(str(p) for p in e["loc"]) or "query", "message": e["msg"]}
                      for e in exc.errors()]
            fields = {e["field"].split(".")[0] for e in errors}
            # The status filter kept its code from before the library had a search.
            code = "invalid_status" if fields == {"status"} else "invalid_search"
            message = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
            raise ValidationFailed(f"The search cannot be read: {message}", code=code,
                                   details={"errors": errors}) from None


# Each field's default, read once: pydantic's get_default inspects the factory's signature on every call (a
# twelfth of a library request). Compared against, never handed out.
_DEFAULTS = {name: field.get_default(call_default_factory=True) for name, field in SearchQuery.model_fields.items()}


def _clean(value: str) -> str:
    return "".join(c for c in value if c >= " " or c in "\t\n")


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _column(column, walk: bool):
    """The column, or on the walk plan `+asset.column`: SQLite's way of saying "do not drive the query from
    this column's index", which leaves it walking the created_at index in order (see search)."""
    return literal_column(f"+asset.{column.key}", type_=column.type) if walk else col(column)


def _words_condition(session: Session, words: list[str]):
    if session.get_bind().dialect.name == "postgresql":
        # Folded words: the indexed text holds the folded form of every accented word (index.search_text_of).
        terms = " & ".join(f"'{fold(w) or w}':*" for w in words)
        # search_tsv: to_tsvector('simple', search_text), stored (migration 0009b) and GIN-indexed.
        return text("asset.search_tsv @@ to_tsquery('simple', :tsq)").bindparams(tsq=terms)
    match = " ".join(f'"{w}"*' for w in words)  # FTS5 strings: only letters and digits inside the quotes
    return (select(literal_column("rowid")).select_from(table("asset_fts"))
            .where(literal_column("asset_fts").op("MATCH")(match)))


def conditions(*, session: Session, workspace_id: int, query: SearchQuery, walk: bool = False) -> list:
    """The WHERE clauses of a search: owner, not deleted, and each filter that is set. `walk` (SQLite,
    newest first): none of them may drive the query, so the created_at index does."""
    conds: list = [_column(Asset.workspace_id, walk) == workspace_id, _column(Asset.deleted_at, walk).is_(None)]
    # Sets of ids: the words' matches, each tag's pictures, the collection's. Intersected before any asset row
    # is read (a common word and a rare tag: 40,000 rows read and dropped otherwise). Walking, a lookup by
    # primary key per row read beats building a common tag's list of 35,000 ids (0.2 ms against ~40 ms).
    id_sets, words = [], words_of(query.q)[:MAX_WORDS]
    for tag in query.tags:
        if walk:
            conds.append(exists().where(AssetTag.asset_id == Asset.id, AssetTag.tag == tag))
        else:
            id_sets.append(select(AssetTag.asset_id).where(AssetTag.tag == tag))
    if query.collection_id is not None:
        member = CollectionAsset.collection_id == query.collection_id
        if walk:
            conds.append(exists().where(CollectionAsset.asset_id == Asset.id, member))
        else:
            id_sets.append(select(CollectionAsset.asset_id).where(member))
    if words:
        words_cond = _words_condition(session, words)
        if isinstance(words_cond, Select):
            # Last: SQLite's INTERSECT stores its first set in a temporary B-tree and probes it with the others,
            # and prefix words usually match far more than an exact tag (37,853 "beach…" against 351 "travel":
            # 29 ms first, 11 ms last).
            id_sets.append(words_cond)
        else:
            conds.append(words_cond)
    if id_sets:
        conds.append(_column(Asset.id, walk).in_(id_sets[0] if len(id_sets) == 1 else intersect(*id_sets)))
    if query.origin:
        conds.append(_column(Asset.origin, walk).in_(query.origin))
    if not query.include_derived:
        conds.append(_column(Asset.origin, walk) != "workflow")
    if query.camera.strip():
        # An exact match on the indexed normalised name: a substring LIKE read every row (~100 ms on 100,000).
        # Words of a camera's name are still found by the free text (search_text holds the camera).
        conds.append(_column(Asset.camera_key, walk) == camera_key_of(query.camera))
    if query.colour.strip():
        # The palette's names are lower-case (vision.colours.PALETTE): an equality keeps the colour index.
        conds.append(_column(Asset.colour, walk) == query.colour.strip().lower())
    if query.orientation == "landscape":
        conds.append(Asset.width > Asset.height)
    elif query.orientation == "portrait":
        conds.append(Asset.height > Asset.width)
    elif query.orientation == "square":
        conds.append(Asset.width == Asset.height)
    if query.min_width is not None:
        conds.append(Asset.width >= query.min_width)
    if query.min_height is not None:
        conds.append(Asset.height >= query.min_height)
    for column, start, end in ((_column(Asset.taken_at, walk), query.taken_from, query.taken_to),
                               (col(Asset.created_at), query.added_from, query.added_to)):
        if start is not None:
            conds.append(column >= _day_start(start))
        if end is not None:
            conds.append(column < _day_start(end + timedelta(days=1)))
    if query.status:
        conds.append(_column(Asset.status, walk) == query.status)
    return conds


def _order(query: SearchQuery, *, fetch: bool = False) -> list:
    """`fetch` (SQLite, not walking): the matches are few (see _walk), so read them through the filters'
    indexes and sort them; ordered by the plain column, SQLite walked all of created_at instead (29 ms for
    140 matches of a tag and a word, against 10 ms)."""
    key = {"added": _column(Asset.created_at, fetch), "taken": col(Asset.taken_at), "name": func.lower(Asset.filename),
           "size": col(Asset.size_bytes)}[query.sort]
    desc = query.order == "desc"
    first = key.desc() if desc else key.asc()
    if query.sort == "taken":
        first = first.nulls_last()  # undated pictures last whichever way
    return [first, col(Asset.id).desc() if desc else col(Asset.id).asc()]


def search(*, session: Session, workspace_id: int, query: SearchQuery, limit: int = 60,
           offset: int = 0) -> tuple[list[Asset], int]:
    """One page of the owner's matching assets and how many match in all, counted up to COUNT_CAP: a total
    of COUNT_CAP + 1 means "more than COUNT_CAP" (see total_capped)."""
    limit, offset = max(0, limit), max(0, offset)
    conds = conditions(session=session, workspace_id=workspace_id, query=query)
    total = _count_capped(session, conds)
    if offset >= total and not total_capped(total):
        return [], total
    walk = _walk(session, query, total, limit + offset)
    if walk:
        conds = conditions(session=session, workspace_id=workspace_id, query=query, walk=True)
    fetch = not walk and session.get_bind().dialect.name == "sqlite"
    rows = session.exec(select(Asset).where(*conds).order_by(*_order(query, fetch=fetch)).limit(limit)
                        .offset(offset)).all()
    return list(rows), total


def count_matches(*, session: Session, workspace_id: int, query: SearchQuery) -> int:
    """How many pictures match, counted up to COUNT_CAP + 1 as search() counts them (one statement)."""
    return _count_capped(session, conditions(session=session, workspace_id=workspace_id, query=query))


def _count_capped(session: Session, conds: list) -> int:
    first = select(Asset.id).where(*conds).limit(COUNT_CAP + 1).subquery()
    return session.exec(select(func.count()).select_from(first)).one()


def total_capped(total: int) -> bool:
    """Whether a total from search() stands for "more than COUNT_CAP" rather than an exact count."""
    return total > COUNT_CAP


def _walk(session: Session, query: SearchQuery, total: int, needed: int) -> bool:
    """Whether SQLite should walk the created_at index newest first and stop after `needed` matches, rather
    than fetch every match and sort them. Left to itself it drives from the most selective-looking index (the
    matches of a tag or a word): 35,000 matches of 100,000 were fetched and sorted in ~470 ms, where walking
    reads ~170 rows. Walking reads about needed × rows / total rows, fetching reads total: walk when that is
    fewer. Past the count's cap the total is only a lower bound, and fetching reads at least that many: walk.
    PostgreSQL's planner makes this choice from its statistics."""
    if session.get_bind().dialect.name != "sqlite" or query.sort != "added" or total == 0:
        return False
    if total_capped(total):
        return True
    rows = session.exec(select(func.max(Asset.id))).one() or 0  # an upper bound of the library's size, O(1)
    return needed * rows < total * total


def matching_ids(*, session: Session, workspace_id: int, query: SearchQuery, cap: int = 10_000) -> list[int]:
    """The ids of every match ("select all matching"), in the query's order, at most `cap`."""
    conds = conditions(session=session, workspace_id=workspace_id, query=query)
    return list(session.exec(select(Asset.id).where(*conds).order_by(*_order(query)).limit(max(0, cap))).all())
