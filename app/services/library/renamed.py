"""The library's side of the renamer's "Apply to library": names, alt text and tags onto the assets, and
Undo putting back all three as they were (kept on the item as `applied_before`)."""

from __future__ import annotations

from pydantic import BaseModel
from sqlmodel import Session

from app.errors import ValidationFailed
from app.models import Asset, RenameItem
from app.services.library import index
from app.services.library import tags as library


class AppliedBefore(BaseModel):
    """What an asset had before "Apply to library" (a rename item's `applied_before`): what Undo puts back."""

    filename: str
    alt_text: str
    tags: list[str]


def apply_item(session: Session, asset: Asset, item: RenameItem) -> bool:
    """Give the asset the item's name (unless the user renamed it since), alt text and tags (added to its own),
    remembering what it had on the item for Undo; whether anything changed."""
    before = AppliedBefore(filename=asset.filename, alt_text=asset.alt_text,
                           tags=library.tags_of(session=session, asset_id=asset.id))
    if asset.filename == item.original_name:  # a name the user changed since is theirs: left alone
        asset.filename = item.final_name or asset.filename
    if item.alt_text:  # no alt text found never wipes the user's own
        asset.alt_text = library.clean_alt_text(item.alt_text)[:library.MAX_ALT_TEXT]
    found = []
    for tag in item.tags or []:
        try:
            found += library.normalise_tags([tag])
        except ValidationFailed:
            continue  # a provider's odd tag is dropped, not the whole apply
    wanted = list(dict.fromkeys(before.tags + found))[:library.MAX_TAGS]
    after = AppliedBefore(filename=asset.filename, alt_text=asset.alt_text, tags=sorted(wanted))
    if after == before:
        return False
    if item.applied_before is None:  # applied twice: the first apply's "before" is what Undo restores
        item.applied_before = before.model_dump()
        session.add(item)
    session.add(asset)
    library.write_tags(session, asset, wanted)  # refreshes the search column too
    return True


def undo_item(session: Session, asset: Asset, item: RenameItem) -> bool:
    """Put back the name, alt text and tags the asset had before the apply; whether anything changed."""
    if item.applied_before is None:  # applied before alt text and tags were kept: the name alone
        if asset.filename != item.final_name or item.final_name == item.original_name:
            return False
        asset.filename = item.original_name
        session.add(asset)
        index.refresh(session, asset)
        return True
    before = AppliedBefore.model_validate(item.applied_before)
    if asset.filename == item.final_name:  # renamed since by the user: their name stays
        asset.filename = before.filename
    asset.alt_text = before.alt_text
    item.applied_before = None
    session.add_all([asset, item])
    library.write_tags(session, asset, before.tags)
    return True
