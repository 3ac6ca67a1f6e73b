"""What the job followers read outside the state lock: only the rows a change names, only the workspace's."""

import types

from sqlmodel import select

from app.db import session_scope
from app.models import Asset, RenameItem
from state.assets import _cards_of, _counted
from state.rename import RenameState, _batch_of
from tests import images
from tests.integration.test_rename import make_batch, run_jobs, signed_in, upload  # noqa: F401 (a fixture)


def _workspace_of(asset_id: int) -> int:
    with session_scope() as session:
        return session.get(Asset, asset_id).workspace_id


def test_the_assets_follower_reads_the_count_and_only_the_named_cards(signed_in):  # noqa: F811
    ids = [a["id"] for a in upload(signed_in, [(f"p{i}.jpg", images.jpeg(64, 48, seed=i), "image/jpeg")
                                              for i in range(3)])]
    workspace_id = _workspace_of(ids[0])
    count, cards = _counted(_cards_of, workspace_id=workspace_id, asset_ids={ids[0], ids[1]})
    assert count == 3 and sorted(cards) == sorted(str(i) for i in ids[:2])
    assert {c["status"] for c in cards.values()} == {"processing"}
    run_jobs()
    count, cards = _counted(_cards_of, workspace_id=workspace_id, asset_ids={ids[0]})
    assert count == 0 and cards[str(ids[0])]["status"] == "ready"
    # Another workspace's follower names these pictures: it reads nothing of them.
    assert _counted(_cards_of, workspace_id=workspace_id + 1, asset_ids=set(ids)) == (0, {})


def test_the_rename_follower_rereads_the_open_rows_and_merges_them(signed_in):  # noqa: F811
    batch, assets = make_batch(signed_in, count=3)
    workspace_id = _workspace_of(assets[0]["id"])
    whole = _batch_of(workspace_id, batch["id"], "")
    assert not whole["partial"] and len(whole["rows"]) == 3
    first, second = whole["rows"][0]["id"], whole["rows"][1]["id"]
    with session_scope() as session:  # the analyzer moved one row on since the page last read it
        item = session.exec(select(RenameItem).where(RenameItem.id == int(second))).one()
        item.status, item.final_name = "pending", "changed-meanwhile.jpg"
        session.add(item)
    part = _batch_of(workspace_id, batch["id"], "", [int(second)])
    assert part["partial"] and [r["id"] for r in part["rows"]] == [second]
    page = types.SimpleNamespace(rows=whole["rows"])
    RenameState._show_batch(page, part)
    assert [r["id"] for r in page.rows] == [r["id"] for r in whole["rows"]]  # order and other rows kept
    assert page.rows[1]["final"] == "changed-meanwhile.jpg" and page.rows[1]["status"] == "pending"
    assert page.rows[0] == next(r for r in whole["rows"] if r["id"] == first)
