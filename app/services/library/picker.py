"""The library search the pickers on Rename, Workflows and Slides share: words plus the "Include workflow
outputs" switch; "All" takes every match of that search, not only the tiles shown."""

from __future__ import annotations

from app.db import read_scope, session_scope
from app.models import AssetStatus
from app.services.library.cards import card_of, count_label
from app.services.library.search import SearchQuery, matching_ids, search


def picker_query(q: str, include_derived: bool, *, ready_only: bool = False) -> SearchQuery:
    # Derived pictures (workflow outputs) stay out unless asked for: a picker of sources should not
    # offer the resized copy beside its original.
    return SearchQuery(q=str(q)[:200], include_derived=include_derived, status=AssetStatus.READY if ready_only else "")


def picker_cards(*, workspace_id: int, q: str, include_derived: bool, limit: int,
                 ready_only: bool = False) -> tuple[list[dict[str, str]], str]:
    """One page of cards and how many match, as text ("1,000+" past the count's cap)."""
    with read_scope() as session:  # a read: no SQLite write lock (pages following jobs call this often)
        rows, total = search(session=session, workspace_id=workspace_id,
                             query=picker_query(q, include_derived, ready_only=ready_only), limit=limit, offset=0)
        return [card_of(a) for a in rows], count_label(total)


def picture_tiles(*, workspace_id: int, q: str, include_derived: bool, limit: int) -> list[dict[str, str]]:
    """The ready pictures a "pick one picture" dialog offers (a slide's picture, an email's): id, name, thumb."""
    cards, _ = picker_cards(workspace_id=workspace_id, q=q, include_derived=include_derived, limit=limit,
                            ready_only=True)
    return [{"id": c["id"], "name": c["filename"], "thumb": c["thumb"]} for c in cards]


def picker_ids(*, workspace_id: int, q: str, include_derived: bool, cap: int, ready_only: bool = False) -> list[str]:
    with session_scope() as session:
        ids = matching_ids(session=session, workspace_id=workspace_id,
                           query=picker_query(q, include_derived, ready_only=ready_only), cap=cap)
    return [str(i) for i in ids]
