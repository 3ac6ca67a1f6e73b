"""library: origin, lineage, alt text, date taken, camera, colour, OCR words and a search column on assets;
tags; collections; soft delete for Undo; full-text index (SQLite FTS5 with triggers, PostgreSQL GIN)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 10:30:00
"""
import json
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

S = sqlmodel.sql.sqltypes.AutoString
# The FTS5 table reads its text from asset.search_text (external content); the triggers keep it in step.
SQLITE_FTS = [
    "CREATE VIRTUAL TABLE asset_fts USING fts5(search_text, content='asset', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER asset_fts_insert AFTER INSERT ON asset BEGIN "
    "INSERT INTO asset_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER asset_fts_delete AFTER DELETE ON asset BEGIN "
    "INSERT INTO asset_fts(asset_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER asset_fts_update AFTER UPDATE OF search_text ON asset BEGIN "
    "INSERT INTO asset_fts(asset_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO asset_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
]
PG_INDEX = ("CREATE INDEX ix_asset_search_text_fts ON asset "
            "USING gin (to_tsvector('simple', search_text))")


def _parse_taken(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    for fmt in ("%Y:%m:%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(value[:19], fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def _colour_name(hex_colour: str) -> str:
    """Thumbnails made before colours had names carry only "#rrggbb": named with the palette search uses."""
    if not hex_colour:
        return ""
    from app.services.rename.vision.colours import nearest_name

    return nearest_name(hex_colour)


def _search_text(filename: str, camera: str) -> str:
    # The words the app writes for a new asset (library.index), so both databases find older files by
    # the parts of their names ("sunset" in beach-sunset-01.jpg); tags and alt text do not exist yet.
    from app.services.library.index import fold, words_of

    words = words_of(" ".join(p for p in (filename, camera) if p))
    folded = {f: None for f in (fold(w) for w in words if not w.isascii()) if f and f not in set(words)}
    return " ".join([*words, *folded])


def _backfill(bind) -> None:
    """Existing assets: origin and source from the tables that made them, camera/date/colour from meta,
    and the search column from the name (tags and alt text do not exist yet)."""
    asset = sa.table("asset", sa.column("id", sa.Integer), sa.column("filename", sa.String),
                     sa.column("meta", sa.String), sa.column("origin", sa.String),
                     sa.column("source_asset_id", sa.Integer), sa.column("taken_at", sa.DateTime),
                     sa.column("camera", sa.String), sa.column("colour", sa.String),
                     sa.column("search_text", sa.String))
    generated = {r[0] for r in bind.execute(sa.text("SELECT asset_id FROM generation_image"))}
    made_from: dict[int, int | None] = {}
    for outputs, source in bind.execute(sa.text("SELECT outputs, source_asset_id FROM workflow_item")):
        try:
            for asset_id in json.loads(outputs or "[]"):
                if isinstance(asset_id, int) and asset_id != source:
                    made_from[asset_id] = source
        except ValueError:
            continue
    for row in bind.execute(sa.select(asset.c.id, asset.c.filename, asset.c.meta)).all():
        try:
            meta = json.loads(row.meta or "{}")
        except ValueError:
            meta = {}
        exif = meta.get("exif") if isinstance(meta.get("exif"), dict) else {}
        make, model = (" ".join(str(exif.get(k) or "").split()) for k in ("Make", "Model"))
        if make and model.lower().startswith(make.lower()):  # "Canon" + "Canon EOS R5": the make once
            make = ""
        camera = " ".join(p for p in (make, model) if p)[:120]
        colours = meta.get("colours") if isinstance(meta.get("colours"), list) else []
        first = colours[0] if colours and isinstance(colours[0], dict) else {}
        colour = str(first.get("name") or _colour_name(str(first.get("hex") or "")))[:24]
        origin = ("slide" if "slides" in meta else "generated" if row.id in generated
                  else "workflow" if row.id in made_from else "upload")
        bind.execute(asset.update().where(asset.c.id == row.id).values(
            origin=origin, source_asset_id=made_from.get(row.id), camera=camera, colour=colour,
            taken_at=_parse_taken(exif.get("DateTimeOriginal")),
            search_text=_search_text(row.filename, camera)))


def upgrade() -> None:
    with op.batch_alter_table('asset', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin', S(length=16), nullable=False, server_default='upload'))
        batch_op.add_column(sa.Column('source_asset_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('alt_text', S(length=300), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('taken_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('camera', S(length=120), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('colour', S(length=24), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('ocr_text', S(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('search_text', S(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('deleted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        for column in ('origin', 'source_asset_id', 'taken_at', 'colour', 'deleted_at'):
            batch_op.create_index(batch_op.f(f'ix_asset_{column}'), [column], unique=False)
    op.create_table(
        'asset_tag',
        sa.Column('asset_id', sa.Integer(), nullable=False),
        sa.Column('tag', S(length=60), nullable=False),
        sa.ForeignKeyConstraint(['asset_id'], ['asset.id']),
        sa.PrimaryKeyConstraint('asset_id', 'tag'),
    )
    with op.batch_alter_table('asset_tag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_asset_tag_tag'), ['tag'], unique=False)
    op.create_table(
        'collection',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=False),
        sa.Column('parent_id', sa.Integer(), nullable=True),
        sa.Column('name', S(length=80), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['owner_id'], ['user.id']),
        sa.ForeignKeyConstraint(['parent_id'], ['collection.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('owner_id', 'parent_id', 'name', name='uq_collection_owner_parent_name'),
    )
    with op.batch_alter_table('collection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_collection_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_collection_parent_id'), ['parent_id'], unique=False)
    op.create_table(
        'collection_asset',
        sa.Column('collection_id', sa.Integer(), nullable=False),
        sa.Column('asset_id', sa.Integer(), nullable=False),
        sa.Column('added_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['asset_id'], ['asset.id']),
        sa.ForeignKeyConstraint(['collection_id'], ['collection.id']),
        sa.PrimaryKeyConstraint('collection_id', 'asset_id'),
    )
    with op.batch_alter_table('collection_asset', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_collection_asset_asset_id'), ['asset_id'], unique=False)
    with op.batch_alter_table('rename_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('applied_before', S(), nullable=True))
    bind = op.get_bind()
    _backfill(bind)
    if bind.dialect.name == "sqlite":
        for statement in SQLITE_FTS:
            op.execute(statement)
        op.execute("INSERT INTO asset_fts(asset_fts) VALUES ('rebuild')")
    elif bind.dialect.name == "postgresql":
        op.execute(PG_INDEX)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in ("asset_fts_insert", "asset_fts_delete", "asset_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS asset_fts")
    elif bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_asset_search_text_fts")
    with op.batch_alter_table('rename_item', schema=None) as batch_op:
        batch_op.drop_column('applied_before')
    with op.batch_alter_table('collection_asset', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_collection_asset_asset_id'))
    op.drop_table('collection_asset')
    with op.batch_alter_table('collection', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_collection_parent_id'))
        batch_op.drop_index(batch_op.f('ix_collection_owner_id'))
    op.drop_table('collection')
    with op.batch_alter_table('asset_tag', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_asset_tag_tag'))
    op.drop_table('asset_tag')
    with op.batch_alter_table('asset', schema=None) as batch_op:
        for column in ('origin', 'source_asset_id', 'taken_at', 'colour', 'deleted_at'):
            batch_op.drop_index(batch_op.f(f'ix_asset_{column}'))
        for column in ('deleted_at', 'search_text', 'ocr_text', 'colour', 'camera', 'taken_at', 'alt_text',
                       'source_asset_id', 'origin'):
            batch_op.drop_column(column)
