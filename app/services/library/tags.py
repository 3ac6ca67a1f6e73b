"""Tags and alt text on the owner's pictures; every change refreshes the search column in its transaction."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from sqlmodel import Session, col, delete, select

from app.db import session_scope
from app.errors import ValidationFailed
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


def rename_asset(*, session: Session, workspace_id: int, asset_id: int, filename: str) -> str:
    """A new display name through the upload rules (no folders or control characters); the extension stays
    the file's own, since the bytes did not change."""
    asset = get_asset(session=session, workspace_id=workspace_id, asset_id=asset_id)
    if not isinstance(filename, str) or not filename.strip() or len(filename) > 255:
        raise ValidationFailed("A file name has 1 to 255 characters.", code="invalid_filename")
    ext = asset.filename.rsplit(".", 1)[-1] if "." in asset.filename else asset.mime.rsplit("/", 1)[-1]
    stem = filename.strip()
    if stem.lower().endswith(f".{ext.lower()}"):
        stem = stem[: -len(ext) - 1]
    asset.filename = clean_filename(stem, ext)
    session.add(asset)
    index.refresh(session, asset)
    return asset.filename


def edit_asset(*, workspace_id: int, asset_id: int, filename: str | None = None, alt_text: str | None = None,
               tags: Iterable[str] | None = None) -> Asset:
    """Change any of name, alt text and tags in one transaction (all or nothing); returns the asset."""
    with session_scope() as session:
        asset = get_asset(session=session, workspace_id=workspace_id, asset_id=asset_id)
        if filename is not None:
            rename_asset(session=session, workspace_id=workspace_id, asset_id=asset_id, filename=filename)
        if alt_text is not None:
            set_alt_text(session=session, workspace_id=workspace_id, asset_id=asset_id, text=alt_text)
        if tags is not None:
            set_tags(session=session, workspace_id=workspace_id, asset_id=asset_id, tags=tags)
        session.flush()
        session.refresh(asset)
        return asset
