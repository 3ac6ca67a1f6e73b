"""Typed columns on both databases: JSON columns hold Python values (and are searched as text where the code
looks inside them), status columns read back as their StrEnum and refuse a value that is not one."""

from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import StatementError
from sqlmodel import select

from app.db import session_scope
from app.models import (
    Asset,
    Deck,
    DeckStatus,
    Job,
    JobStatus,
    RenameBatch,
    RenameItem,
    WorkflowItem,
    WorkflowItemStatus,
    WorkflowRun,
)
from app.services.ai.connections import running_use
from app.services.assets import service as assets
from app.services.library.usage import usage_of
from app.services.slides.engine.model import Outline
from app.services.workflows import runs as workflow_runs
from tests import images
from tests.integration.test_accounts import register


@pytest.fixture
def user(any_db):
    return register("ada@example.com")


def _asset(user, seed: int = 1) -> Asset:
    asset, _ = assets.store_one(workspace_id=user.workspace_id, filename=f"p{seed}.jpg",
                                data=images.jpeg(64, 48, seed=seed))
    return asset


def test_a_status_reads_back_as_its_enum_and_a_stranger_is_refused(user):
    with session_scope() as session:
        session.add(Job(id="j-1", kind="generate.images", workspace_id=user.workspace_id, status="running"))
    with session_scope() as session:
        job = session.get(Job, "j-1")
        assert job.status is JobStatus.RUNNING
        # Queries take the enum or its string alike.
        assert session.exec(select(Job.id).where(Job.status == JobStatus.RUNNING)).all() == ["j-1"]
        assert session.exec(select(Job.id).where(Job.status == "running")).all() == ["j-1"]
    with pytest.raises(StatementError) as refused, session_scope() as session:
        session.add(Job(id="j-2", kind="generate.images", workspace_id=user.workspace_id, status="runing"))
    assert isinstance(refused.value.orig, LookupError) and "runing" in str(refused.value)
    with session_scope() as session:  # nothing half-written
        assert session.get(Job, "j-2") is None


def test_asset_meta_is_a_dict_and_odd_values_become_json(user):
    asset = _asset(user)
    assets.add_meta(asset_id=asset.id, extra={"made": datetime(2026, 1, 2, 3, 4, tzinfo=UTC), "raw": b"\xff\x00",
                                              "size": (3, 4), "steps": {"a"}})
    with session_scope() as session:
        row = session.get(Asset, asset.id)
        meta = row.meta
        assert assets.public(row)["meta"]["size"] == [3, 4]
    assert isinstance(meta, dict)
    assert meta["made"] == "2026-01-02T03:04:00Z" and meta["raw"] == "_wA=" and meta["size"] == [3, 4]
    assert meta["steps"] == ["a"]


def test_changing_a_json_value_in_place_is_not_saved_so_code_assigns_a_new_one(user):
    """Why the services write `row.meta = {**row.meta, ...}`: the columns are plain JSON (no MutableDict)."""
    asset = _asset(user)
    with session_scope() as session:
        row = session.get(Asset, asset.id)
        row.meta["lost"] = True  # in place: SQLAlchemy does not see it
        session.add(row)
    with session_scope() as session:
        assert "lost" not in session.get(Asset, asset.id).meta
    assets.add_meta(asset_id=asset.id, extra={"kept": True})
    with session_scope() as session:
        assert session.get(Asset, asset.id).meta["kept"] is True


def test_an_empty_nullable_json_column_is_sql_null(user):
    asset = _asset(user)
    with session_scope() as session:
        batch = RenameBatch(workspace_id=user.workspace_id)
        session.add(batch)
        session.flush()
        session.add(RenameItem(batch_id=batch.id, asset_id=asset.id, position=0, original_name="p1.jpg"))
        session.add(Deck(workspace_id=user.workspace_id, spec={"topic": "Q3"}))
    with session_scope() as session:
        item = session.exec(select(RenameItem)).one()
        assert item.applied_before is None and item.tags == [] and item.fields == {}
        assert session.exec(select(RenameItem.id).where(RenameItem.applied_before.is_(None))).all() == [item.id]
        deck = session.exec(select(Deck)).one()
        assert deck.outline is None and deck.status is DeckStatus.IDLE
        assert session.exec(select(Deck.id).where(Deck.outline.is_(None))).all() == [deck.id]


def test_usage_finds_an_asset_inside_deck_outlines_and_workflow_outputs(user):
    used, other = _asset(user, 1), _asset(user, 2)
    outline = Outline(title="Q3", slides=[{"id": "s1", "title": "One", "layout": "image_text",
                                           "image": {"asset_id": str(used.id)}}])
    with session_scope() as session:
        session.add(Deck(workspace_id=user.workspace_id, title="Q3", spec={"topic": "Q3"},
                         outline=outline.model_dump(mode="json")))
        run = WorkflowRun(workspace_id=user.workspace_id, name="Resize", definition={"name": "Resize"})
        session.add(run)
        session.flush()
        session.add(WorkflowItem(run_id=run.id, position=0, status=WorkflowItemStatus.DONE,
                                 outputs=[other.id + 100, used.id]))
    with session_scope() as session:
        kinds = {u["kind"] for u in usage_of(session=session, workspace_id=user.workspace_id, asset_id=used.id)}
        assert kinds == {"deck", "workflow"}
        # The other picture's id is a prefix of nothing here and appears in no outline or output list.
        assert usage_of(session=session, workspace_id=user.workspace_id, asset_id=other.id) == []


def test_a_connection_named_in_a_running_batchs_options_is_in_use(user):
    with session_scope() as session:
        session.add(Job(id="j-run", kind="rename.analyze", workspace_id=user.workspace_id,
                        status=JobStatus.RUNNING))
        session.add(RenameBatch(workspace_id=user.workspace_id, job_id="j-run",
                                options={"provider": "conn:7:llava", "keywords": []}))
    with session_scope() as session:
        assert running_use(session=session, connection_id=7) == "a rename batch"
        assert running_use(session=session, connection_id=8) == ""


def test_item_info_fits_its_limit_and_says_what_it_dropped():
    info = {"big": "x" * (workflow_runs.MAX_INFO + 10), "small": {"faces": 2}, "when": datetime(2026, 1, 1),
            workflow_runs.SAME_KEY: [{"step": "s1", "asset_id": 3, "source": True}]}
    kept = workflow_runs.item_info(info)
    assert "big" not in kept and kept[workflow_runs.DROPPED_KEY] == ["big"]
    assert kept["small"] == {"faces": 2} and kept["when"] == "2026-01-01T00:00:00"
    assert kept[workflow_runs.SAME_KEY] == info[workflow_runs.SAME_KEY]
    assert workflow_runs.item_info({"small": 1}) == {"small": 1}


def test_a_run_public_reads_json_columns_without_touching_the_row(user):
    with session_scope() as session:
        run = WorkflowRun(workspace_id=user.workspace_id, name="Resize", definition={"name": "Resize"})
        session.add(run)
        session.flush()
        session.add(WorkflowItem(run_id=run.id, position=0, status="done", outputs=[5],
                                 info={"s1": {"q": 80}, workflow_runs.SAME_KEY: [
                                     {"step": "s1", "asset_id": 9, "source": True}]}))
        run_id = run.id
    with session_scope() as session:
        run = session.get(WorkflowRun, run_id)
        items = workflow_runs.items_of(session=session, run_id=run_id)
        body = workflow_runs.run_public(run, items)
        assert body["items"][0]["unchanged_asset_ids"] == [9] and body["items"][0]["info"] == {"s1": {"q": 80}}
        assert body["counts"]["done"] == 1 and items[0].status is WorkflowItemStatus.DONE
        assert workflow_runs.SAME_KEY in items[0].info  # item_public popped from a copy
