"""library speed: the camera filter's normalised, indexed column (asset.camera_key); the tag index
covering the asset id (a tag's pictures are read from the index alone); on PostgreSQL the words' tsvector
stored in a generated column (asset.search_tsv) with the GIN index on it

Revision ID: 0009b
Revises: 0009
Create Date: 2026-12-06 13:30:00
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0009b'
down_revision = '0009'
branch_labels = None
depends_on = None

# PostgreSQL: to_tsvector() in a WHERE clause runs again for each row the plan reads (~20 µs each): a page or a
# capped count read through another index (created_at, colour) spent 90 ms there. Stored, it is computed on
# write only. SQLite's FTS5 table already stores its words.
PG_UP = [
    "ALTER TABLE asset ADD COLUMN search_tsv tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED",
    "CREATE INDEX ix_asset_search_tsv ON asset USING gin (search_tsv)",
    "DROP INDEX IF EXISTS ix_asset_search_text_fts",
]
PG_DOWN = [
    "CREATE INDEX IF NOT EXISTS ix_asset_search_text_fts ON asset USING gin (to_tsvector('simple', search_text))",
    "DROP INDEX IF EXISTS ix_asset_search_tsv",
    "ALTER TABLE asset DROP COLUMN IF EXISTS search_tsv",
]


def _backfill(bind) -> None:
    # The key the app writes (library.index.camera_key_of), one UPDATE per distinct camera (a dozen or so).
    from app.services.library.index import camera_key_of

    cameras = [r[0] for r in bind.execute(sa.text("SELECT DISTINCT camera FROM asset WHERE camera != ''"))]
    for camera in cameras:
        bind.execute(sa.text("UPDATE asset SET camera_key = :key WHERE camera = :camera"),
                     {"key": camera_key_of(camera), "camera": camera})


def upgrade() -> None:
    # Plain ALTER TABLE (no batch copy of asset, which would lose its full-text triggers on SQLite).
    op.add_column('asset', sa.Column('camera_key', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False,
                                     server_default=''))
    op.create_index('ix_asset_camera_key', 'asset', ['camera_key'], unique=False)
    _backfill(op.get_bind())
    op.create_index('ix_asset_tag_tag_asset_id', 'asset_tag', ['tag', 'asset_id'], unique=False)
    op.drop_index('ix_asset_tag_tag', table_name='asset_tag')
    if op.get_bind().dialect.name == "postgresql":
        for statement in PG_UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in PG_DOWN:
            op.execute(statement)
    op.create_index('ix_asset_tag_tag', 'asset_tag', ['tag'], unique=False)
    op.drop_index('ix_asset_tag_tag_asset_id', table_name='asset_tag')
    # Not in batch mode: on SQLite that copies the table, and the copy would lose the full-text triggers.
    op.drop_index('ix_asset_camera_key', table_name='asset')
    op.drop_column('asset', 'camera_key')
