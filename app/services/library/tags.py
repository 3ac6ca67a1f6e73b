"""Tags and alt text on the owner's pictures; every change refreshes the search column in its transaction."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from sqlmodel import Session, col, delete, select

from app.db import session_scope
from app.errors import Conflict, ValidationFailed
from app.models import Asset, AssetTag
from app.services.assets.images import clean_filename
from app.services.assets.service import get_asset
from app.services.library import index

MAX_TAG_CHARS = 60
MAX_TAGS = 50  # per picture
MAX_ALT_TEXT = 300
# Control, format (direction overrides, zero-width) and private characters: invisible or harmful in a tag.
_REFUSED = ("Cc", "Cf", "Cs", "Co", "Zl", "Zp")


def normalise_tags(values: Iterable[str]) -> list[str]:
    """Tags as stored: trimmed, lower case, single-spaced, at most 60 characters, no repeats, at most 50.
    An empty tag or one with control characters is refused (ValidationFailed), not silently dropped."""
    out: list[str] = []
    for value in values:
        if not isinstance(value, str):
            raise ValidationFailed("Each tag must be text.", code="invalid_tag")
        if any(unicodedata.category(ch) in _REFUSED and ch not in "\t\n\r" for ch in value):
            raise ValidationFailed("A tag cannot hold control characters.", code="invalid_tag")
        tag = " ".join(unicodedata.normalize("NFC", value).lower().split())
        if not tag:
            raise ValidationFailed("A tag cannot be empty.", code="invalid_tag")
        if len(tag) > MAX_TAG_CHARS:
            raise ValidationFailed(f"A tag has at most {MAX_TAG_CHARS} characters.", code="tag_too_long")
        if tag not in out:
            out.append(tag)
    if len(out) > MAX_TAGS:
        raise ValidationFailed(f"A picture has at most {MAX_TAGS} tags.", code="too_many_tags")
    return out


def tags_of(*, session: Session, asset_id: int) -> list[str]:
    """The picture's tags, alphabetically."""
    return list(session.exec(select(AssetTag.tag).where(AssetTag.asset_id == asset_id).order_by(col(AssetTag.tag))))


def write_tags(session: Session, asset: Asset, wanted: list[str]) -> list[str]:
    """Make the picture's tags exactly `wanted` (already normalised) and refresh its search column."""
    if len(wanted) > MAX_TAGS:
        raise ValidationFailed(f"A picture has at most {MAX_TAGS} tags.", code="too_many_tags")
    current = set(tags_of(session=session, asset_id=asset.id))
    gone = current - set(wanted)
    if gone:
        session.execute(delete(AssetTag).where(col(AssetTag.asset_id) == asset.id, col(AssetTag.tag).in_(gone)))
    for tag in wanted:
        if tag not in current:
            session.add(AssetTag(asset_id=asset.id, tag=tag))
    session.flush()
    index.refresh(session, asset)
    return sorted(wanted)


def set_tags(*, session: Session, workspace_id: int, asset_id: int, tags: Iterable[str]) -> list[str]:
    """Replace the picture's tags; returns them as stored."""
    asset = get_asset(session=session, workspace_id=workspace_id, asset_id=asset_id)
    return write_tags(session, asset, normalise_tags(tags))


def add_tags(*, session: Session, workspace_id: int, asset_id: int, tags: Iterable[str]) -> list[str]:
    asset = get_asset(session=session, workspace_id=workspace_id, asset_id=asset_id)
    current = tags_of(session=session, asset_id=asset_id)
    return write_tags(session, asset, current + [t for t in normalise_tags(tags) if t not in current])


def remove_tags(*, session: Session, workspace_id: int, asset_id: int, tags: Iterable[str]) -> list[str]:
    asset = get_asset(session=session, workspace_id=workspace_id, asset_id=asset_id)
    unwanted = set(normalise_tags(tags))
    return write_tags(session, asset, [t for t in tags_of(session=session, asset_id=asset_id) if t not in unwanted])


def clean_alt_text(text: str) -> str:
    if not isinstance(text, str):
        raise ValidationFailed("Alt text must be text.", code="invalid_alt_text")
    text = " ".join("".join(ch for ch in text if unicodedata.category(ch) not in _REFUSED or ch in "\t\n\r").split())
    if len(text) > MAX_ALT_TEXT:
        raise ValidationFailed(f"Alt text has at most {MAX_ALT_TEXT} characters.", code="alt_text_too_long")
    return text


def set_alt_text(*, session: Session, workspace_id: int, asset_id: int, text: str) -> str:
    """Trimmed, single-spaced, at most 300 characters ("" removes it); returns it as stored."""
    asset = get_asset(session=session, workspace_id=workspace_id, asset_id=asset_id)
    asset.alt_text = clean_alt_text(text)
    session.add(asset)
    index.refresh(session, asset)
    return asset.alt_text


def new_filename(asset: Asset, filename: str) -> str:
    """The name `filename` becomes under the upload rules (no folders or control characters); the extension
    stays the file's own, since the bytes did not change. An empty name is refused, not replaced."""
    if not isinstance(filename, str) or len(filename) > 255:
        raise ValidationFailed("A file name has 1 to 255 characters.", code="invalid_filename")
    ext = asset.filename.rsplit(".", 1)[-1] if "." in asset.filename else asset.mime.rsplit("/", 1)[-1]
    stem = filename.strip()
    if stem.lower().endswith(f".{ext.lower()}"):
        stem = stem[: -len(ext) - 1]
    # Only the extension left is empty too: the cleaner would otherwise call it "image" without asking.
    if not stem.strip(" ."):
        raise ValidationFailed("A file name can't be empty.", code="invalid_filename")
    return clean_filename(stem, ext)


def rename_asset(*, session: Session, workspace_id: int, asset_id: int, filename: str) -> str:
    """A new display name (see new_filename); returns it as stored."""
    asset = get_asset(session=session, workspace_id=workspace_id, asset_id=asset_id)
    asset.filename = new_filename(asset, filename)
    session.add(asset)
    index.refresh(session, asset)
    return asset.filename


def edit_asset(*, workspace_id: int, asset_id: int, filename: str | None = None, alt_text: str | None = None,
               tags: Iterable[str] | None = None, expected: Mapping[str, Any] | None = None) -> Asset:
    """Change any of name, alt text and tags in one transaction (all or nothing); returns the asset. A field
    left None is not touched. `expected` holds what the caller last saw of fields it changes (see edit_conflicts):
    one changed meanwhile refuses the whole edit with 409 `edit_conflict`."""
    with session_scope() as session:
        # The row stays locked from the comparison to the write (PostgreSQL; SQLite's write transaction
        # already is), so a change landing in between cannot be overwritten unseen.
        session.exec(select(Asset.id).where(Asset.id == asset_id).with_for_update()).first()
        asset = get_asset(session=session, workspace_id=workspace_id, asset_id=asset_id)
        wanted = {"filename": None if filename is None else new_filename(asset, filename),
                  "alt_text": None if alt_text is None else clean_alt_text(alt_text),
                  "tags": None if tags is None else normalise_tags(tags)}
        if expected:
            edit_conflicts(session, asset, wanted, expected)
        if wanted["filename"] is not None:
            asset.filename = wanted["filename"]
        if wanted["alt_text"] is not None:
            asset.alt_text = wanted["alt_text"]
        session.add(asset)
        if wanted["tags"] is not None:
            write_tags(session, asset, wanted["tags"])  # refreshes the search column with the rest
        else:
            index.refresh(session, asset)
        session.flush()
        session.refresh(asset)
        return asset


FIELD_NAMES = {"filename": "file name", "alt_text": "alt text", "tags": "tags"}


def editable_fields(session: Session, asset: Asset) -> dict[str, Any]:
    """What a person edits on a picture, as stored: name, alt text and tags (alphabetical)."""
    return {"filename": asset.filename, "alt_text": asset.alt_text, "tags": tags_of(session=session, asset_id=asset.id)}


def edit_conflicts(session: Session, asset: Asset, wanted: Mapping[str, Any], expected: Mapping[str, Any]) -> None:
    """Refuse (Conflict `edit_conflict`) when a field being changed no longer holds the value the caller saw —
    another tab, person or the renamer changed it — unless it already holds the new value. `details["current"]`
    gives what each such field holds now. Tags compare as sets."""
    now = editable_fields(session, asset)
    changed = {}
    for field, new in wanted.items():
        if new is None or field not in expected:
            continue
        seen, current = expected[field], now[field]
        if field == "tags":
            seen, current, new = set(normalise_tags(seen or [])), set(current), set(new)
        if seen != current and new != current:
            changed[field] = now[field]
    if changed:
        names = " and ".join(FIELD_NAMES[f] for f in changed)
        raise Conflict(f"The {names} of this picture changed in another tab or by someone else since you opened "
                       "it.", code="edit_conflict", details={"current": changed})
