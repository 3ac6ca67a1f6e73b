"""replaced invitation links: the hashes of invitation links a later send replaced (replaced_invitation_link)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 10:00:00
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

S = sqlmodel.sql.sqltypes.AutoString
TABLE = 'replaced_invitation_link'


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', S(length=64), nullable=False),
        sa.Column('invitation_id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('replaced_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['invitation_id'], ['invitation.id'], name=f'fk_{TABLE}_invitation_id_invitation'),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=f'fk_{TABLE}_workspace_id_workspace'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash', name=f'uq_{TABLE}_token_hash'),
    )
    op.create_index(f'ix_{TABLE}_invitation_id', TABLE, ['invitation_id'])
    op.create_index(f'ix_{TABLE}_workspace_id', TABLE, ['workspace_id'])


def downgrade() -> None:
    op.drop_index(f'ix_{TABLE}_workspace_id', table_name=TABLE)
    op.drop_index(f'ix_{TABLE}_invitation_id', table_name=TABLE)
    op.drop_table(TABLE)
