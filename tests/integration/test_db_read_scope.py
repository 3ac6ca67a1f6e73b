"""read_scope: readers do not queue behind a writer on SQLite, and cannot write by accident."""

import threading

from sqlmodel import select

from app.db import read_scope, session_scope
from app.models import StylePreset


def test_a_reader_is_not_blocked_by_an_open_write_transaction(env):
    holding, release, done = threading.Event(), threading.Event(), threading.Event()

    def writer():
        with session_scope() as session:  # BEGIN IMMEDIATE: holds SQLite's write lock until commit
            style = session.exec(select(StylePreset).where(StylePreset.key == "photo")).one()
            style.name = "Photograph"
            session.add(style)
            session.flush()
            holding.set()
            release.wait(10)
        done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    assert holding.wait(10)
    with read_scope() as session:  # answers while the writer still holds the lock
        names = {s.key: s.name for s in session.exec(select(StylePreset)).all()}
    assert not done.is_set()
    assert names["photo"] == "Photo"  # the writer's change is not visible before it commits
    release.set()
    thread.join(10)
    with read_scope() as session:
        assert session.exec(select(StylePreset).where(StylePreset.key == "photo")).one().name == "Photograph"


def test_changes_in_a_read_scope_are_not_kept(env):
    with read_scope() as session:
        style = session.exec(select(StylePreset).where(StylePreset.key == "photo")).one()
        style.name = "Changed"
        session.add(style)
    with read_scope() as session:
        assert session.exec(select(StylePreset).where(StylePreset.key == "photo")).one().name == "Photo"
