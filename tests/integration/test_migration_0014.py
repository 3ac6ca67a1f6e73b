"""Migration 0014 turns the JSON-as-text columns into real JSON columns on both databases, keeping every row.

A database built at 0012 gets rows whose text columns hold JSON (nested, non-ASCII, an empty deck outline, an
applied item's Undo record and a not-yet-applied one); after the upgrade the models read them back as dicts and
lists (None for the empty outline and the missing Undo record), and a downgrade gives the same JSON text back.
"""

import json

from sqlalchemy import create_engine, inspect, text
from sqlmodel import Session

from alembic import command
from app.models import (
    AIConnection,
    Asset,
    Deck,
    DeckVersion,
    Generation,
    Job,
    Recipe,
    RenameBatch,
    RenameItem,
    VisionCache,
    WorkflowItem,
    WorkflowRun,
)
from tests.integration.test_migration_0007 import _config
from tests.integration.test_migration_0010 import old_url  # noqa: F401  (the fixture: SQLite and PostgreSQL)

T = "2026-01-01 00:00:00"
# (model, primary key, {column: the value its text held at 0012}); None: the text was "" or NULL.
ROWS = [
    (Job, "job-1", {"params": {"batch_id": 1, "asset_ids": [1, 2], "note": "café ☕"}}),
    (Asset, 1, {"meta": {"exif": {"Model": "X100", "DateTimeOriginal": "2024:01:01 10:00:00"},
                         "colours": ["#112233"]}}),
    (RenameBatch, 1, {"options": {"provider": "local", "keywords": ["sea"], "style": "kebab"}}),
    (RenameItem, 1, {"tags": ["beach", "sunset"], "fields": {"subject": "beach", "place": "Nice"},
                     "applied_before": {"filename": "IMG_1.jpg", "alt_text": "", "tags": []}}),
    (RenameItem, 2, {"tags": [], "fields": {}, "applied_before": None}),
    (VisionCache, "k" * 64, {"result": {"subject": "fox", "keywords": ["fox", "snow"], "confidence": 0.8}}),
    (Generation, 1, {"handle": {"provider": "fal", "request_id": "r-1"}}),
    (Recipe, 1, {"definition": {"name": "Web", "steps": [{"id": "s1", "op": "resize", "params": {"width": 800}}],
                                "outputs": ["s1"]}}),
    (WorkflowRun, 1, {"definition": {"name": "Resize", "steps": [], "outputs": []}}),
    (WorkflowItem, 1, {"outputs": [10, 11], "info": {"faces": 2, "same": [{"asset_id": 3}]}}),
    (Deck, 1, {"spec": {"topic": "Q3", "slides": 5}, "outline": {"title": "Q3", "slides": [{"title": "One"}]}}),
    (Deck, 2, {"spec": {"topic": "Planning"}, "outline": None}),
    (DeckVersion, 1, {"outline": {"title": "Q3", "slides": []}}),
    (AIConnection, 1, {"options": {"region": "eu", "models": ["a", "b"]},
                       "offers": [{"id": "gpt", "capabilities": ["text"]}]}),
]


def _fill(conn, table: str, values: dict) -> None:
    """Insert a row, giving every other required column a plain value (parents all have id 1)."""
    row = dict(values)
    for column in inspect(conn).get_columns(table):
        name = column["name"]
        if name in row or column["nullable"] or column.get("default") is not None:
            continue
        try:
            kind = column["type"].python_type
        except NotImplementedError:
            kind = str
        when = any(word in str(column["type"]).upper() for word in ("DATETIME", "TIMESTAMP"))
        row[name] = {int: 1, bool: False, float: 0.0}.get(kind, T if when else "x")
    names = ", ".join(f'"{n}"' for n in row)
    conn.execute(text(f'INSERT INTO "{table}" ({names}) VALUES ({", ".join(f":{n}" for n in row)})'), row)


def _text_of(value) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False)


def _rows_at_0012(conn) -> None:
    _fill(conn, "user", {"id": 1, "email": "ada@example.com"})
    _fill(conn, "workspace", {"id": 1, "created_by": 1})
    for model, key, columns in ROWS:
        table = model.__tablename__
        pk = next(iter(model.__table__.primary_key.columns)).name
        values = {pk: key}
        for column, value in columns.items():
            # applied_before was NULL until applied; the deck outline was "" while a chat provider planned it.
            values[column] = None if value is None and column == "applied_before" else _text_of(value)
        if "status" in model.model_fields:  # a member of the row's status family, as the app wrote them
            values["status"] = str(model.model_fields["status"].default)
        if table == "rename_item":
            values |= {"batch_id": 1, "asset_id": 1}
        if table == "workflow_item":
            values |= {"run_id": 1}
        if table == "deck_version":
            values |= {"deck_id": 1}
        if table == "ai_connection":
            values |= {"name": "conn-1"}
        _fill(conn, table, values)


def _read_back(url: str) -> None:
    engine = create_engine(url)
    with Session(engine) as session:
        for model, key, columns in ROWS:
            row = session.get(model, key)
            for column, value in columns.items():
                assert getattr(row, column) == value, (model.__name__, key, column)
        # A value written through the model reads back typed: no text left anywhere.
        job = session.get(Job, "job-1")
        job.params = {**job.params, "more": [1, {"a": None}]}
        session.add(job)
        session.commit()
        session.expire_all()
        assert session.get(Job, "job-1").params["more"] == [1, {"a": None}]
        assert session.get(RenameItem, 2).applied_before is None
    with engine.connect() as conn:  # SQL NULL, not the JSON text "null"
        assert conn.execute(text("SELECT count(*) FROM rename_item WHERE applied_before IS NULL")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM deck WHERE outline IS NULL")).scalar() == 1
    engine.dispose()


def _text_back(url: str) -> None:
    engine = create_engine(url)
    with engine.connect() as conn:
        for model, key, columns in ROWS:
            table = model.__tablename__
            pk = next(iter(model.__table__.primary_key.columns)).name
            for column, value in columns.items():
                stored = conn.execute(text(f'SELECT "{column}" FROM "{table}" WHERE "{pk}" = :k'), {"k": key}).scalar()
                if value is None:
                    assert stored == ("" if table == "deck" else None), (table, column)
                elif (table, column) == ("job", "params"):
                    assert json.loads(stored)["batch_id"] == 1
                else:
                    assert json.loads(stored) == value, (table, column)
        if engine.dialect.name == "sqlite":
            assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
    engine.dispose()


def test_json_text_becomes_typed_json_and_back(old_url):  # noqa: F811
    command.upgrade(_config(old_url), "0012")
    engine = create_engine(old_url)
    with engine.begin() as conn:
        _rows_at_0012(conn)
    engine.dispose()
    command.upgrade(_config(old_url), "0014")
    _read_back(old_url)
    engine = create_engine(old_url)
    with engine.connect() as conn:
        types = {c["name"]: str(c["type"]).upper() for c in inspect(conn).get_columns("job")}
        assert types["params"] == "JSON"
        if engine.dialect.name == "sqlite":  # batch mode rebuilt `asset`: its full-text triggers are back
            names = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars().all()
            assert {"asset_fts_insert", "asset_fts_delete", "asset_fts_update"} <= set(names)
    engine.dispose()
    command.downgrade(_config(old_url), "0012")
    _text_back(old_url)
    command.upgrade(_config(old_url), "0014")  # and up again
    _read_back_again(old_url)


def _read_back_again(url: str) -> None:
    engine = create_engine(url)
    with Session(engine) as session:
        assert session.get(Deck, 2).outline is None
        assert session.get(RenameItem, 1).tags == ["beach", "sunset"]
        assert session.get(Job, "job-1").params["more"] == [1, {"a": None}]
    engine.dispose()

