"""Where a picture is used and what it came from: its source, the outputs made from it, the rename
batches, generations, workflow runs and decks that name it. Read-only; the owner is checked."""

from __future__ import annotations

from sqlmodel import Session, col, or_, select

from app.jsonable import json_text
from app.models import Asset, Deck, Generation, GenerationImage, RenameBatch, RenameItem, WorkflowItem, WorkflowRun

LIMIT = 20


def lineage_of(*, session: Session, workspace_id: int, asset: Asset) -> dict[str, list[Asset]]:
    """The picture it was made from (if still there) and the pictures made from it."""
    source = session.get(Asset, asset.source_asset_id) if asset.source_asset_id else None
    if source is not None and (source.workspace_id != workspace_id or source.deleted_at is not None):
        source = None
    outputs = session.exec(select(Asset).where(Asset.workspace_id == workspace_id, Asset.source_asset_id == asset.id,
                                               col(Asset.deleted_at).is_(None))
                           .order_by(col(Asset.id).desc()).limit(LIMIT)).all()
    return {"source": [source] if source else [], "outputs": list(outputs)}


def usage_of(*, session: Session, workspace_id: int, asset_id: int) -> list[dict[str, str]]:
    """Each place the picture is used: kind (rename|generation|workflow|deck), id, label, when."""
    found: list[dict[str, str]] = []
    batches = session.exec(select(RenameBatch).join(RenameItem, col(RenameItem.batch_id) == RenameBatch.id)
                           .where(RenameBatch.workspace_id == workspace_id, RenameItem.asset_id == asset_id)
                           .order_by(col(RenameBatch.id).desc()).limit(LIMIT)).all()
    found += [{"kind": "rename", "id": str(b.id), "label": f"Rename batch #{b.id} ({b.status})",
               "when": b.created_at.strftime("%Y-%m-%d")} for b in batches]
    gens = session.exec(select(Generation).join(GenerationImage, col(GenerationImage.generation_id) == Generation.id)
                        .where(Generation.workspace_id == workspace_id, GenerationImage.asset_id == asset_id)
                        .limit(LIMIT)).all()
    found += [{"kind": "generation", "id": str(g.id), "label": f"Generated from “{g.prompt[:60]}”",
               "when": g.created_at.strftime("%Y-%m-%d")} for g in gens]
    # A run used it as an input, or made it (its id in the item's JSON list of outputs).
    # Run ids first: PostgreSQL cannot DISTINCT a row holding a json column (the run's definition).
    touching = select(WorkflowItem.run_id).where(or_(WorkflowItem.source_asset_id == asset_id,
                                                     json_text(WorkflowItem.outputs).contains(f"[{asset_id}]"),
                                                     json_text(WorkflowItem.outputs).contains(f"[{asset_id},"),
                                                     json_text(WorkflowItem.outputs).contains(f" {asset_id},"),
                                                     json_text(WorkflowItem.outputs).contains(f" {asset_id}]")))
    runs = session.exec(select(WorkflowRun).where(WorkflowRun.workspace_id == workspace_id,
                                                  col(WorkflowRun.id).in_(touching))
                        .order_by(col(WorkflowRun.id).desc()).limit(LIMIT)).all()
    found += [{"kind": "workflow", "id": str(r.id), "label": f"Workflow “{r.name}” ({r.status})",
               "when": r.created_at.strftime("%Y-%m-%d")} for r in runs]
    decks = session.exec(select(Deck).where(Deck.workspace_id == workspace_id,
                                            json_text(Deck.outline).contains(f'"asset_id": "{asset_id}"')
                                            | json_text(Deck.outline).contains(f'"asset_id":"{asset_id}"'))
                         .order_by(col(Deck.id).desc()).limit(LIMIT)).all()
    found += [{"kind": "deck", "id": str(d.id), "label": f"Deck “{d.title or 'Untitled'}”",
               "when": d.updated_at.strftime("%Y-%m-%d")} for d in decks]
    return found
