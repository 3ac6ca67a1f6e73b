"""Migration 0015 adds replaced_invitation_link (the hashes of invitation links a later send replaced) on both
databases, and a downgrade removes it again."""

from sqlalchemy import create_engine, inspect

from alembic import command
from tests.integration.test_migration_0007 import _config
from tests.integration.test_migration_0010 import old_url  # noqa: F401  (the fixture: SQLite and PostgreSQL)

TABLE = "replaced_invitation_link"


def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_the_table_comes_and_goes(old_url):  # noqa: F811
    command.upgrade(_config(old_url), "0015")
    assert TABLE in tables(old_url)
    engine = create_engine(old_url)
    try:
        found = inspect(engine)
        assert {c["name"] for c in found.get_columns(TABLE)} == {"id", "token_hash", "invitation_id",
                                                               "workspace_id", "replaced_at"}
        assert [u["column_names"] for u in found.get_unique_constraints(TABLE)] == [["token_hash"]]
    finally:
        engine.dispose()
    command.downgrade(_config(old_url), "0014")
    assert TABLE not in tables(old_url) and "invitation" in tables(old_url)
    command.upgrade(_config(old_url), "head")
    assert TABLE in tables(old_url)
