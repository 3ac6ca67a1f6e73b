"""Two collections of one name made at the same moment in a team workspace: one is made, the other is refused.

Top-level names cannot be a unique constraint (NULL parents are all distinct), so the check is guarded by a lock
on the workspace's row (PostgreSQL: FOR UPDATE; SQLite: the write transaction holds the database). The lock
was taken on the *user* row with the workspace's id — another row, or none — so on PostgreSQL both checks
passed and both twins were written."""

from __future__ import annotations

import threading

from sqlmodel import func, select

from app.db import session_scope
from app.errors import Conflict
from app.models import Collection
from app.services.library import collections
from app.services.workspaces.service import create_team
from tests.integration.test_accounts import register


def test_twins_made_at_the_same_moment_end_as_one_collection(any_db, monkeypatch):
    owner = register("owner@example.com")
    with session_scope() as session:
        for n in range(3):  # team ids that are no user's id
            create_team(session=session, user_id=owner.id, name=f"Filler {n}")
        team = create_team(session=session, user_id=owner.id, name="Studio").id
    both_checked = threading.Barrier(2, timeout=3)
    real_check = collections._check_free

    def check_then_wait(*args, **kwargs):
        real_check(*args, **kwargs)
        try:  # hold the transaction open until the other has checked too (it cannot, while the lock works)
            both_checked.wait()
        except threading.BrokenBarrierError:
            pass

    monkeypatch.setattr(collections, "_check_free", check_then_wait)
    outcomes: list[str] = []

    def make() -> None:
        try:
            collections.create(workspace_id=team, name="Trips")
            outcomes.append("made")
        except Conflict:
            outcomes.append("name_taken")

    threads = [threading.Thread(target=make) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["made", "name_taken"]
    with session_scope() as session:
        assert session.exec(select(func.count()).select_from(Collection)
                            .where(Collection.workspace_id == team)).one() == 1
