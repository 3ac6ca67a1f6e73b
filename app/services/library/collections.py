"""Collections: named sets of the owner's pictures, nested one level. A picture may be in several;
deleting a collection never deletes a picture."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, func, select

from app.db import session_scope
from app.errors import Conflict, NotFound, ValidationFailed
from app.models import Asset, Collection, CollectionAsset, Workspace

MAX_NAME = 80
MAX_IDS = 10_000


def clean_name(name: str) -> str:
    if not isinstance(name, str):
        raise ValidationFailed("A collection's name must be text.", code="invalid_name")
    name = " ".join("".join(ch for ch in name if not unicodedata.category(ch).startswith("C")).split())
    if not 1 <= len(name) <= MAX_NAME:
        raise ValidationFailed(f"A collection's name has 1 to {MAX_NAME} characters.", code="invalid_name")
    return name


def get_collection(*, session: Session, workspace_id: int, collection_id: int) -> Collection:
    collection = session.get(Collection, collection_id)
    # Someone else's collection answers exactly like a missing one.
    if collection is None or collection.workspace_id != workspace_id:
        raise NotFound("No such collection.")
    return collection


def _check_free(session: Session, workspace_id: int, parent_id: int | None, name: str, *,
                but: int | None = None) -> None:
    """Names are unique among siblings, ignoring case. Checked here because the unique constraint cannot
    see top-level twins (NULL parents are all distinct); the workspace's row lock makes the check safe."""
    session.exec(select(Workspace.id).where(Workspace.id == workspace_id).with_for_update()).first()
    stmt = select(Collection.id).where(Collection.workspace_id == workspace_id,
                                       func.lower(Collection.name) == name.lower(),
                                       Collection.parent_id == parent_id if parent_id else
                                       col(Collection.parent_id).is_(None))
    if but is not None:
        stmt = stmt.where(Collection.id != but)
    if session.exec(stmt).first() is not None:
        raise Conflict(f"There is already a collection named “{name}” here.", code="name_taken")


def create(*, workspace_id: int, name: str, parent_id: int | None = None) -> Collection:
    """A new collection, at the top or inside a top-level one (a child cannot have children: 422)."""
    name = clean_name(name)
    try:
        with session_scope() as session:
            if parent_id is not None:
                parent = get_collection(session=session, workspace_id=workspace_id, collection_id=parent_id)
                if parent.parent_id is not None:
                    raise ValidationFailed("Collections nest one level only: this one is already inside another.",
                                           code="too_deep")
            _check_free(session, workspace_id, parent_id, name)
            collection = Collection(workspace_id=workspace_id, parent_id=parent_id, name=name)
            session.add(collection)
            session.flush()
            return collection
    except IntegrityError as exc:  # a twin created at the same moment
        raise Conflict(f"There is already a collection named “{name}” here.", code="name_taken") from exc


def rename(*, workspace_id: int, collection_id: int, name: str) -> Collection:
    name = clean_name(name)
    try:
        with session_scope() as session:
            collection = get_collection(session=session, workspace_id=workspace_id, collection_id=collection_id)
            _check_free(session, workspace_id, collection.parent_id, name, but=collection.id)
            collection.name = name
            session.add(collection)
            return collection
    except IntegrityError as exc:
        raise Conflict(f"There is already a collection named “{name}” here.", code="name_taken") from exc


def delete_collection(*, workspace_id: int, collection_id: int) -> int:
    """Delete the collection and its children (never their pictures); returns how many collections went."""
    with session_scope() as session:
        collection = get_collection(session=session, workspace_id=workspace_id, collection_id=collection_id)
        ids = [collection.id, *session.exec(select(Collection.id).where(Collection.parent_id == collection.id))]
        session.execute(delete(CollectionAsset).where(col(CollectionAsset.collection_id).in_(ids)))
        session.execute(delete(Collection).where(col(Collection.parent_id) == collection.id))
        session.execute(delete(Collection).where(col(Collection.id) == collection.id))
        return len(ids)


def public(collection: Collection, count: int = 0) -> dict:
    return {"id": collection.id, "name": collection.name, "parent_id": collection.parent_id, "count": count,
            "created_at": collection.created_at.isoformat()}


def list_collections(*, session: Session, workspace_id: int) -> list[dict]:
    """The owner's collections as a tree, by name: each with `count` (its own pictures, deleted ones not
    counted) and `children` (the same shape, no deeper)."""
    rows = session.exec(select(Collection).where(Collection.workspace_id == workspace_id)
                        .order_by(func.lower(Collection.name), col(Collection.id))).all()
    counts = dict(session.exec(
        select(CollectionAsset.collection_id, func.count()).join(Asset, col(Asset.id) == col(CollectionAsset.asset_id))
        .join(Collection, col(Collection.id) == col(CollectionAsset.collection_id))
        .where(Collection.workspace_id == workspace_id, col(Asset.deleted_at).is_(None))
        .group_by(col(CollectionAsset.collection_id))).all())
    nodes = {c.id: public(c, counts.get(c.id, 0)) | {"children": []} for c in rows}
    tree = []
    for c in rows:
        if c.parent_id is None:
            tree.append(nodes[c.id])
        elif c.parent_id in nodes:
            nodes[c.parent_id]["children"].append(nodes[c.id])
    return tree


def owned_assets(session: Session, workspace_id: int, asset_ids: Iterable[int]) -> list[Asset]:
    """The owner's live pictures with these ids, or NotFound naming none of them if any is missing,
    someone else's or deleted: a request is refused as a whole."""
    ids = list(dict.fromkeys(asset_ids))
    if len(ids) > MAX_IDS:
        raise ValidationFailed(f"At most {MAX_IDS} pictures at once.", code="too_many_ids")
    found: list[Asset] = []
    for i in range(0, len(ids), 900):
        found += session.exec(select(Asset).where(col(Asset.id).in_(ids[i:i + 900]), Asset.workspace_id == workspace_id,
                                                  col(Asset.deleted_at).is_(None))).all()
    if len(found) != len(ids):
        raise NotFound("Some of those pictures do not exist or are not yours.", code="unknown_assets")
    return found


def add_to(session: Session, collection_id: int, asset_ids: list[int]) -> int:
    """Put pictures in a collection (already checked); those already there stay as they were."""
    there = set()
    for i in range(0, len(asset_ids), 900):
        there |= set(session.exec(select(CollectionAsset.asset_id).where(
            CollectionAsset.collection_id == collection_id, col(CollectionAsset.asset_id).in_(asset_ids[i:i + 900]))))
    new = [a for a in dict.fromkeys(asset_ids) if a not in there]
    session.add_all([CollectionAsset(collection_id=collection_id, asset_id=a) for a in new])
    return len(new)


def remove_from(session: Session, collection_id: int, asset_ids: list[int]) -> int:
    removed = 0
    for i in range(0, len(asset_ids), 900):
        removed += session.execute(delete(CollectionAsset).where(
            col(CollectionAsset.collection_id) == collection_id,
            col(CollectionAsset.asset_id).in_(asset_ids[i:i + 900]))).rowcount or 0
    return removed


def add_assets(*, workspace_id: int, collection_id: int, asset_ids: Iterable[int]) -> int:
    """Add the owner's pictures to the collection (idempotent); returns how many were not there yet."""
    with session_scope() as session:
        get_collection(session=session, workspace_id=workspace_id, collection_id=collection_id)
        found = owned_assets(session, workspace_id, asset_ids)
        return add_to(session, collection_id, [a.id for a in found])


def remove_assets(*, workspace_id: int, collection_id: int, asset_ids: Iterable[int]) -> int:
    """Take pictures out of the collection (idempotent); returns how many were in it."""
    with session_scope() as session:
        get_collection(session=session, workspace_id=workspace_id, collection_id=collection_id)
        found = owned_assets(session, workspace_id, asset_ids)
        return remove_from(session, collection_id, [a.id for a in found])


def collections_of(*, session: Session, asset_id: int) -> list[Collection]:
    """The collections a picture is in, by name."""
    return list(session.exec(select(Collection).join(CollectionAsset, col(CollectionAsset.collection_id) ==
                                                     col(Collection.id))
                             .where(CollectionAsset.asset_id == asset_id).order_by(func.lower(Collection.name))))
