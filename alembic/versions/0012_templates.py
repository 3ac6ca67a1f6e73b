"""templates and approvals: template, template_version, template_approval, approval_workflow, template_comment,
template_sample, notification

JSON columns are real JSON (sa.JSON: TEXT on SQLite, json on PostgreSQL), read and written as Python values.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 20:30:00
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

S = sqlmodel.sql.sqltypes.AutoString


def _id():
    return sa.Column('id', sa.Integer(), nullable=False)


def _fk(table, column, target):
    return sa.ForeignKeyConstraint([column], [f'{target}.id'], name=f'fk_{table}_{column}_{target}')


def upgrade() -> None:
    op.create_table(
        'template', _id(),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('kind', S(length=16), nullable=False),
        sa.Column('name', S(length=120), nullable=False),
        sa.Column('description', S(length=1000), nullable=False, server_default=''),
        sa.Column('category', S(length=60), nullable=False, server_default=''),
        sa.Column('tags', sa.JSON(), nullable=False),
        sa.Column('thumbnail_key', S(length=300), nullable=False, server_default=''),
        sa.Column('active_version_id', sa.Integer(), nullable=True),
        sa.Column('latest_number', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('archived_at', sa.DateTime(), nullable=True),
        _fk('template', 'workspace_id', 'workspace'),
        _fk('template', 'created_by', 'user'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_template_workspace_id_kind', 'template', ['workspace_id', 'kind'])
    op.create_index('ix_template_updated_at', 'template', ['updated_at'])
    op.create_table(
        'template_version', _id(),
        sa.Column('template_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('note', S(length=200), nullable=False, server_default=''),
        sa.Column('content', sa.JSON(), nullable=False),
        sa.Column('content_hash', S(length=64), nullable=False, server_default=''),
        sa.Column('status', S(length=16), nullable=False, server_default='draft'),
        sa.Column('revision', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('stage', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('workflow_version', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('reason', S(length=1000), nullable=False, server_default=''),
        sa.Column('checks', sa.JSON(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('submitted_at', sa.DateTime(), nullable=True),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        _fk('template_version', 'template_id', 'template'),
        _fk('template_version', 'author_id', 'user'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('template_id', 'number', name='uq_template_version_template_id_number'),
    )
    op.create_index('ix_template_version_status', 'template_version', ['status'])
    op.create_table(
        'template_approval', _id(),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('stage', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        _fk('template_approval', 'version_id', 'template_version'),
        _fk('template_approval', 'user_id', 'user'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('version_id', 'stage', 'user_id', name='uq_template_approval_version_stage_user'),
    )
    op.create_table(
        'approval_workflow',
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False, server_default='1'),
        sa.Column('stages', sa.JSON(), nullable=False),
        sa.Column('updated_by', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        _fk('approval_workflow', 'workspace_id', 'workspace'),
        _fk('approval_workflow', 'updated_by', 'user'),
        sa.PrimaryKeyConstraint('workspace_id'),
    )
    op.create_table(
        'template_comment', _id(),
        sa.Column('template_id', sa.Integer(), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('parent_id', sa.Integer(), nullable=True),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('body', S(length=4000), nullable=False),
        sa.Column('mentions', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('edited_at', sa.DateTime(), nullable=True),
        sa.Column('deleted_at', sa.DateTime(), nullable=True),
        _fk('template_comment', 'template_id', 'template'),
        _fk('template_comment', 'version_id', 'template_version'),
        _fk('template_comment', 'parent_id', 'template_comment'),
        _fk('template_comment', 'author_id', 'user'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_template_comment_version_id', 'template_comment', ['version_id'])
    op.create_table(
        'template_sample', _id(),
        sa.Column('template_id', sa.Integer(), nullable=False),
        sa.Column('name', S(length=60), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        _fk('template_sample', 'template_id', 'template'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('template_id', 'name', name='uq_template_sample_template_id_name'),
    )
    op.create_table(
        'notification', _id(),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=True),
        sa.Column('kind', S(length=24), nullable=False),
        sa.Column('title', S(length=200), nullable=False),
        sa.Column('body', S(length=500), nullable=False, server_default=''),
        sa.Column('link', S(length=300), nullable=False, server_default=''),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('read_at', sa.DateTime(), nullable=True),
        _fk('notification', 'user_id', 'user'),
        _fk('notification', 'workspace_id', 'workspace'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_notification_user_id_read_at', 'notification', ['user_id', 'read_at'])


def downgrade() -> None:
    op.drop_index('ix_notification_user_id_read_at', table_name='notification')
    op.drop_table('notification')
    op.drop_table('template_sample')
    op.drop_index('ix_template_comment_version_id', table_name='template_comment')
    op.drop_table('template_comment')
    op.drop_table('approval_workflow')
    op.drop_table('template_approval')
    op.drop_index('ix_template_version_status', table_name='template_version')
    op.drop_table('template_version')
    op.drop_index('ix_template_updated_at', table_name='template')
    op.drop_index('ix_template_workspace_id_kind', table_name='template')
    op.drop_table('template')
