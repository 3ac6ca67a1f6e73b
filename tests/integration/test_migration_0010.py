"""Migration 0010 moves a database built at 0009, with real rows, into personal workspaces, on both databases.

Every work row ends up in its owner's personal workspace (same numbers), the owner is that workspace's owner,
credits keep their balance, the full-text index still finds pictures, the constraints still hold, the app's
services read the moved rows, and a downgrade puts the owners back.
"""

import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from alembic import command
from tests.conftest import PG_ADMIN_URL, _port_open
from tests.integration.test_migration_0007 import _config

T = "'2026-01-01 00:00:00'"
USERS = ((4, "ada@example.com"), (9, "grace@example.com"))
WORK_TABLES = ("asset", "collection", "rename_batch", "generation", "generation_image", "recipe",
               "workflow_run", "deck", "job", "credit_entry")


def _rows_at_0009(conn) -> None:
    for uid, email in USERS:
        conn.execute(text(f"INSERT INTO \"user\" (id, email, name, password_hash, role, is_active, created_at, "
                          f"password_changed_at) VALUES ({uid}, '{email}', '', 'x', 'member', true, {T}, {T})"))
        aid = uid * 10
        conn.execute(text(
            f"INSERT INTO asset (id, owner_id, sha256, filename, mime, size_bytes, width, height, storage_key, "
            f"thumb_key, status, error, meta, created_at, origin, alt_text, camera, colour, ocr_text, search_text) "
            f"VALUES ({aid}, {uid}, 'same-bytes', 'beach-sunset-{uid}.jpg', 'image/jpeg', 1, 1, 1, 'k{uid}', '', "
            f"'ready', '', '{{}}', {T}, 'upload', 'A beach at sunset', '', 'blue', '', 'beach sunset {uid}')"))
        conn.execute(text(f"INSERT INTO asset_tag (asset_id, tag) VALUES ({aid}, 'coast')"))
        conn.execute(text(f"INSERT INTO collection (id, owner_id, parent_id, name, created_at) "
                          f"VALUES ({uid}, {uid}, NULL, 'Trips', {T})"))
        conn.execute(text(f"INSERT INTO collection_asset (collection_id, asset_id, added_at) "
                          f"VALUES ({uid}, {aid}, {T})"))
        conn.execute(text(f"INSERT INTO credit_account (user_id, balance, held) VALUES ({uid}, {uid}, 0)"))
        conn.execute(text(f"INSERT INTO credit_entry (user_id, kind, amount, reference, reason, created_at) "
                          f"VALUES ({uid}, 'grant', {uid}, 'grant-{uid}', 'welcome', {T})"))
        conn.execute(text(f"INSERT INTO job (id, kind, owner_id, status, progress, message, params, result_ref, "
                          f"error, cost, queue, rq_id, attempts, max_attempts, cancel_requested, worker_name, "
                          f"created_at, updated_at) VALUES ('job-{uid}', 'rename.analyze', {uid}, 'succeeded', 100, "
                          f"'', '{{}}', '', '', 0, 'default', '', 1, 3, false, '', {T}, {T})"))
        conn.execute(text(f"INSERT INTO rename_batch (id, owner_id, status, options, job_id, image_count, created_at) "
                          f"VALUES ({uid}, {uid}, 'ready', '{{}}', 'job-{uid}', 1, {T})"))
        conn.execute(text(f"INSERT INTO generation (id, owner_id, job_id, status, prompt, negative_prompt, style, "
                          f"final_prompt, provider, model, width, height, n, seed, handle, error, created_at) VALUES "
                          f"({uid}, {uid}, '', 'succeeded', 'a fox', '', '', 'a fox', 'local', '', 64, 64, 1, 1, "
                          f"'{{}}', '', {T})"))
        conn.execute(text(f"INSERT INTO generation_image (generation_id, owner_id, asset_id, position, favourite, "
                          f"created_at) VALUES ({uid}, {uid}, {aid}, 0, false, {T})"))
        conn.execute(text(f"INSERT INTO recipe (owner_id, name, definition, created_at, updated_at) "
                          f"VALUES ({uid}, 'Web', '{{}}', {T}, {T})"))
        conn.execute(text(f"INSERT INTO workflow_run (owner_id, job_id, operation, name, definition, status, "
                          f"item_count, created_at) "
                          f"VALUES ({uid}, '', 'resize', 'Resize', '{{}}', 'succeeded', 1, {T})"))
        conn.execute(text(f"INSERT INTO deck (owner_id, title, spec, outline, theme, brand_kit_key, brand_kit_name, "
                          f"provider, image_provider, status, job_id, error, revision, created_at, updated_at) VALUES "
                          f"({uid}, 'Q3', '{{}}', '', 'clean', '', '', 'local', 'local', 'idle', '', '', 0, {T}, {T})"))
    conn.execute(text(f"INSERT INTO moderation_event (at, user_id, surface, allowed, source, category, matched, "
                      f"reason, text) VALUES ({T}, 4, 'prompt', true, 'none', '', '', '', 'a fox')"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def old_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    if not _port_open("127.0.0.1", 5432):
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    name = f"atelier_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _check_moved(conn, dialect: str) -> None:
    assert conn.execute(text("SELECT id, kind, created_by FROM workspace ORDER BY id")).all() == \
        [(4, "personal", 4), (9, "personal", 9)]
    assert conn.execute(text("SELECT workspace_id, user_id, role FROM membership ORDER BY user_id")).all() == \
        [(4, 4, "owner"), (9, 9, "owner")]
    assert conn.execute(text('SELECT id, personal_workspace_id FROM "user" ORDER BY id')).all() == [(4, 4), (9, 9)]
    for table in WORK_TABLES:
        pairs = conn.execute(text(f"SELECT workspace_id FROM {table} ORDER BY workspace_id")).scalars().all()
        assert pairs == [4, 9], table
    assert conn.execute(text("SELECT workspace_id, balance FROM credit_account ORDER BY 1")).all() == [(4, 4), (9, 9)]
    assert conn.execute(text("SELECT user_id FROM job ORDER BY 1")).scalars().all() == [4, 9]
    assert conn.execute(text("SELECT workspace_id FROM moderation_event")).scalars().all() == [4]
    if dialect == "sqlite":
        found = conn.execute(text("SELECT rowid FROM asset_fts WHERE asset_fts MATCH 'sunset' ORDER BY 1")).all()
        assert found == [(40,), (90,)]
        assert conn.execute(text("PRAGMA foreign_key_check")).all() == []


def test_rows_move_to_personal_workspaces_and_back(old_url):
    command.upgrade(_config(old_url), "0009")
    engine = create_engine(old_url)
    with engine.begin() as conn:
        _rows_at_0009(conn)
    for _ in range(2):  # up, and up again after a downgrade
        command.upgrade(_config(old_url), "head")
        with engine.connect() as conn:
            _check_moved(conn, engine.dialect.name)
        with engine.begin() as conn:  # a new workspace gets the next number, not a user's
            new_id = conn.execute(text("INSERT INTO workspace (name, kind, created_at) VALUES "
                                       f"('Team', 'team', {T}) RETURNING id")).scalar()
            assert new_id > 9
            conn.execute(text(f"DELETE FROM workspace WHERE id = {new_id}"))
        with pytest.raises(IntegrityError), engine.begin() as conn:  # one copy of the bytes per workspace
            conn.execute(text(
                "INSERT INTO asset (workspace_id, sha256, filename, mime, size_bytes, width, height, storage_key, "
                "thumb_key, status, error, meta, created_at, origin, alt_text, camera, colour, ocr_text, search_text) "
                f"VALUES (4, 'same-bytes', 'x.jpg', 'image/jpeg', 1, 1, 1, 'k', '', 'ready', '', '{{}}', {T}, "
                "'upload', '', '', '', '', '')"))
        command.downgrade(_config(old_url), "0009")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT owner_id FROM asset ORDER BY 1")).scalars().all() == [4, 9]
            assert conn.execute(text("SELECT user_id, balance FROM credit_account ORDER BY 1")).all() == [(4, 4), (9,
                                                                                                                   9)]
    engine.dispose()


def test_the_app_reads_moved_rows(tmp_path, monkeypatch, redis_url):
    """The services find a moved user's pictures in their personal workspace, and only theirs."""
    from app.db import session_scope
    from app.services.auth.sessions import create_session, user_for_session
    from app.services.library.search import SearchQuery, search
    from tests.conftest import clear_caches

    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(_config(url), "0009")
    engine = create_engine(url)
    with engine.begin() as conn:
        _rows_at_0009(conn)
    command.upgrade(_config(url), "head")
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("REDIS_URL", redis_url)
    clear_caches()
    try:
        with session_scope() as session:
            token = create_session(session=session, user_id=9)
        with session_scope() as session:
            grace = user_for_session(session=session, token=token)
            assert (grace.workspace_id, grace.workspace_role) == (9, "owner")
            rows, total = search(session=session, workspace_id=grace.workspace_id, query=SearchQuery(q="sunset"))
            assert total == 1 and [r.filename for r in rows] == ["beach-sunset-9.jpg"]
    finally:
        clear_caches()
