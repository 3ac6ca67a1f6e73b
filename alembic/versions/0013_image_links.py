"""image links: signed public addresses of library pictures in emails that leave (image_link)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 23:45:00
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

S = sqlmodel.sql.sqltypes.AutoString


def _fk(column, target):
    return sa.ForeignKeyConstraint([column], [f'{target}.id'], name=f'fk_image_link_{column}_{target}')


def upgrade() -> None:
    op.create_table(
        'image_link',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('asset_id', sa.Integer(), nullable=False),
        sa.Column('template_id', sa.Integer(), nullable=False),
        sa.Column('template_version_id', sa.Integer(), nullable=False),
        sa.Column('purpose', S(length=16), nullable=False),
        sa.Column('token_hash', S(length=64), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.Column('revoked_by', sa.Integer(), nullable=True),
        sa.Column('revoked_reason', S(length=16), nullable=False, server_default=''),
        _fk('workspace_id', 'workspace'),
        _fk('template_id', 'template'),
        _fk('template_version_id', 'template_version'),
        _fk('created_by', 'user'),
        _fk('revoked_by', 'user'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('asset_id', 'template_version_id', 'purpose', name='uq_image_link_asset_version_purpose'),
        sa.UniqueConstraint('token_hash', name='uq_image_link_token_hash'),
    )
    op.create_index('ix_image_link_asset_id', 'image_link', ['asset_id'])
    op.create_index('ix_image_link_template_id', 'image_link', ['template_id'])


def downgrade() -> None:
    op.drop_index('ix_image_link_template_id', table_name='image_link')
    op.drop_index('ix_image_link_asset_id', table_name='image_link')
    op.drop_table('image_link')
