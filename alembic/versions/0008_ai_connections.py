"""AI connections (admins add and test them in the app), a default per capability, seeded settings;
provider columns widen to hold "conn:<id>:<model>"

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 10:00:00
"""
import sqlalchemy as sa
import sqlmodel

from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

WIDENED = (("generation", "provider"), ("deck", "provider"), ("deck", "image_provider"),
           ("vision_cache", "provider"))


def upgrade() -> None:
    op.create_table(
        'ai_connection',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('preset', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column('base_url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column('secret', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('options', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('offers', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('tested_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('test_error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column('latency_ms', sa.Integer(), nullable=True),
        sa.Column('seeded_from', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
        sa.UniqueConstraint('seeded_from'),
    )
    op.create_table(
        'ai_default',
        sa.Column('capability', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('connection_id', sa.Integer(), nullable=False),
        sa.Column('model', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('price', sa.Integer(), nullable=False),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['connection_id'], ['ai_connection.id']),
        sa.PrimaryKeyConstraint('capability'),
    )
    with op.batch_alter_table('ai_default', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ai_default_connection_id'), ['connection_id'], unique=False)
    op.create_table(
        'ai_seed',
        sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )
    for table, column in WIDENED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, type_=sqlmodel.sql.sqltypes.AutoString(length=200),
                                  existing_type=sqlmodel.sql.sqltypes.AutoString(length=32), existing_nullable=False)


def downgrade() -> None:
    for table, column in WIDENED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, type_=sqlmodel.sql.sqltypes.AutoString(length=32),
                                  existing_type=sqlmodel.sql.sqltypes.AutoString(length=200), existing_nullable=False)
    op.drop_table('ai_seed')
    with op.batch_alter_table('ai_default', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ai_default_connection_id'))
    op.drop_table('ai_default')
    op.drop_table('ai_connection')
