"""typed JSON: the text columns that held JSON become real JSON columns (sa.JSON: TEXT on SQLite, json on
PostgreSQL), read and written as Python values like 0012's tables

Existing rows keep their values. An empty text where JSON was expected (a deck's outline while a chat provider
plans it) becomes SQL NULL in a nullable column and its empty value ({} or []) in the others; a downgrade turns
NULL back into "" (deck outline) or NULL (applied_before), as they were.

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-06 23:40:00
"""
import sqlalchemy as sa
import sqlmodel

from alembic import op

revision = '0014'
down_revision = "0013"
branch_labels = None
depends_on = None

S = sqlmodel.sql.sqltypes.AutoString
# table -> [(column, empty value, nullable)]; a nullable column's empty text becomes NULL.
COLUMNS = {
    'job': [('params', '{}', False)],
    'asset': [('meta', '{}', False)],
    'rename_batch': [('options', '{}', False)],
    'rename_item': [('tags', '[]', False), ('fields', '{}', False), ('applied_before', None, True)],
    'vision_cache': [('result', '{}', False)],
    'generation': [('handle', '{}', False)],
    'recipe': [('definition', '{}', False)],
    'workflow_run': [('definition', '{}', False)],
    'workflow_item': [('outputs', '[]', False), ('info', '{}', False)],
    'deck': [('spec', '{}', False), ('outline', None, True)],
    'deck_version': [('outline', '{}', False)],
    'ai_connection': [('options', '{}', False), ('offers', '[]', False)],
}
# Text that was never NULL before (deck.outline was "" while planning): a downgrade writes "" back for NULL.
WAS_NOT_NULL = {('deck', 'outline')}
# SQLite drops a table's triggers with it; batch mode rebuilds `asset`, so the full-text triggers come back after
# (the same statements as 0010).
SQLITE_ASSET_TRIGGERS = [
    "CREATE TRIGGER asset_fts_insert AFTER INSERT ON asset BEGIN "
    "INSERT INTO asset_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER asset_fts_delete AFTER DELETE ON asset BEGIN "
    "INSERT INTO asset_fts(asset_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER asset_fts_update AFTER UPDATE OF search_text ON asset BEGIN "
    "INSERT INTO asset_fts(asset_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO asset_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
]
TRIGGER_NAMES = ("asset_fts_insert", "asset_fts_delete", "asset_fts_update")


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _empty_text_fixed(table: str) -> None:
    """Empty text is not JSON: both databases would refuse it (PostgreSQL's cast, SQLite's reads)."""
    for column, empty, _nullable in COLUMNS[table]:
        value = 'NULL' if empty is None else f"'{empty}'"
        op.execute(f"UPDATE {table} SET {column} = {value} WHERE {column} = ''")


def _asset_triggers_back() -> None:
    for name in TRIGGER_NAMES:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for statement in SQLITE_ASSET_TRIGGERS:
        op.execute(statement)


def upgrade() -> None:
    for table, columns in COLUMNS.items():
        if _sqlite():
            # The values are already JSON text; SQLite's batch copy does not cast to JSON, so they move as they are.
            with op.batch_alter_table(table, recreate="always") as b:
                for column, _empty, nullable in columns:
                    b.alter_column(column, type_=sa.JSON(), existing_type=S(), nullable=nullable)
            _empty_text_fixed(table)
            continue
        for column, _empty, _nullable in columns:
            if (table, column) in WAS_NOT_NULL:
                op.alter_column(table, column, nullable=True, existing_type=S())
        _empty_text_fixed(table)
        for column, _empty, _nullable in columns:
            op.execute(f'ALTER TABLE {table} ALTER COLUMN {column} TYPE JSON USING {column}::json')
    if _sqlite():
        _asset_triggers_back()


def downgrade() -> None:
    for table, columns in COLUMNS.items():
        if not _sqlite():
            for column, _empty, _nullable in columns:
                op.execute(f'ALTER TABLE {table} ALTER COLUMN {column} TYPE VARCHAR USING {column}::text')
        for column, _empty, _nullable in columns:
            if (table, column) in WAS_NOT_NULL:
                op.execute(f"UPDATE {table} SET {column} = '' WHERE {column} IS NULL")
        if _sqlite():
            with op.batch_alter_table(table, recreate="always") as b:
                for column, _empty, nullable in columns:
                    b.alter_column(column, type_=S(), existing_type=sa.JSON(),
                                   nullable=nullable and (table, column) not in WAS_NOT_NULL)
            continue
        for column, _empty, _nullable in columns:
            if (table, column) in WAS_NOT_NULL:
                op.alter_column(table, column, nullable=False, existing_type=S())
    if _sqlite():
        _asset_triggers_back()
