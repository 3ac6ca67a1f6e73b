"""workspaces own the work: workspace, membership, invitation, sso_identity; owner_id -> workspace_id on every
work table (and credits); sessions and API tokens act in a workspace; tokens get scopes and expiry

Every existing user gets a personal workspace (with the user's id, so existing rows keep their numbers) in
which they are the owner; their work moves into it unchanged.

Revision ID: 0010
Revises: 0009b
Create Date: 2026-12-06 13:40:00
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0010'
down_revision = '0009b'
branch_labels = None
depends_on = None

S = sqlmodel.sql.sqltypes.AutoString
# (table, old column, unique constraint on it: (old name, new name, columns after the rename) or None, indexed)
MOVES = [
    ("job", "owner_id", None),
    ("asset", "owner_id", ("uq_asset_owner_sha256", "uq_asset_workspace_sha256", ["workspace_id", "sha256"])),
    ("collection", "owner_id", ("uq_collection_owner_parent_name", "uq_collection_workspace_parent_name",
                                ["workspace_id", "parent_id", "name"])),
    ("credit_account", "user_id", None),
    ("credit_entry", "user_id", None),
    ("rename_batch", "owner_id", None),
    ("generation", "owner_id", None),
    ("generation_image", "owner_id", None),
    ("recipe", "owner_id", ("uq_recipe_owner_name", "uq_recipe_workspace_name", ["workspace_id", "name"])),
    ("workflow_run", "owner_id", None),
    ("deck", "owner_id", None),
]
NOT_INDEXED = {"credit_account"}  # its column is the primary key
FK_NAMES = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}
# SQLite drops a table's triggers with it; batch mode rebuilds `asset`, so the full-text triggers come back after.
SQLITE_ASSET_TRIGGERS = [
    "CREATE TRIGGER asset_fts_insert AFTER INSERT ON asset BEGIN "
    "INSERT INTO asset_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER asset_fts_delete AFTER DELETE ON asset BEGIN "
    "INSERT INTO asset_fts(asset_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER asset_fts_update AFTER UPDATE OF search_text ON asset BEGIN "
    "INSERT INTO asset_fts(asset_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO asset_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
]


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _move(table: str, old: str, new: str, unique, *, target: str) -> None:
    """Rename `old` to `new` and point its foreign key at `target` (workspace going up, user going down)."""
    indexed = table not in NOT_INDEXED
    old_target = "user" if target == "workspace" else "workspace"
    if _sqlite():
        with op.batch_alter_table(table, recreate="always", naming_convention=FK_NAMES) as b:
            b.drop_constraint(f"fk_{table}_{old}_{old_target}", type_="foreignkey")
            if indexed:
                b.drop_index(f"ix_{table}_{old}")
            if unique:
                b.drop_constraint(unique[0], type_="unique")
            b.alter_column(old, new_column_name=new)
            b.create_foreign_key(f"fk_{table}_{new}_{target}", target, [old], ["id"])  # batch names the old column
            if unique:
                b.create_unique_constraint(unique[1], [old if c == new else c for c in unique[2]])
        if indexed:  # after the rebuild: batch mode looks indexes up by the old column names
            op.create_index(f"ix_{table}_{new}", table, [new])
        return
    # PostgreSQL named the first foreign key itself ("asset_owner_id_fkey"); a downgrade names its own.
    fk = next(f["name"] for f in sa.inspect(op.get_bind()).get_foreign_keys(table) if f["constrained_columns"] == [old])
    op.drop_constraint(fk, table, type_="foreignkey")
    op.alter_column(table, old, new_column_name=new)
    op.create_foreign_key(f"fk_{table}_{new}_{target}", table, target, [new], ["id"])
    if indexed:
        op.execute(f'ALTER INDEX ix_{table}_{old} RENAME TO ix_{table}_{new}')
    if unique:
        op.execute(f'ALTER TABLE {table} RENAME CONSTRAINT {unique[0]} TO {unique[1]}')


def upgrade() -> None:
    op.create_table(
        'workspace',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', S(length=80), nullable=False),
        sa.Column('kind', S(length=16), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['created_by'], ['user.id'], name='fk_workspace_created_by_user'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_workspace_created_by', 'workspace', ['created_by'])
    op.create_table(
        'membership',
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('role', S(length=16), nullable=False),
        sa.Column('role_source', S(length=64), nullable=False, server_default=''),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name='fk_membership_workspace_id_workspace'),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name='fk_membership_user_id_user'),
        sa.PrimaryKeyConstraint('workspace_id', 'user_id'),
    )
    op.create_index('ix_membership_user_id', 'membership', ['user_id'])
    op.create_table(
        'invitation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('email', S(length=254), nullable=False),
        sa.Column('role', S(length=16), nullable=False),
        sa.Column('token_hash', S(length=64), nullable=False),
        sa.Column('invited_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('sent_count', sa.Integer(), nullable=False, server_default='1'),
        sa.Column('accepted_at', sa.DateTime(), nullable=True),
        sa.Column('accepted_by', sa.Integer(), nullable=True),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name='fk_invitation_workspace_id_workspace'),
        sa.ForeignKeyConstraint(['invited_by'], ['user.id'], name='fk_invitation_invited_by_user'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_invitation_workspace_id', 'invitation', ['workspace_id'])
    op.create_index('ix_invitation_email', 'invitation', ['email'])
    op.create_index('ix_invitation_token_hash', 'invitation', ['token_hash'], unique=True)
    op.create_table(
        'sso_identity',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('provider', S(length=40), nullable=False),
        sa.Column('subject', S(length=255), nullable=False),
        sa.Column('email', S(length=254), nullable=False, server_default=''),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_used_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name='fk_sso_identity_user_id_user'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('provider', 'subject', name='uq_sso_identity_provider_subject'),
    )
    op.create_index('ix_sso_identity_user_id', 'sso_identity', ['user_id'])
    with op.batch_alter_table('user') as b:
        b.add_column(sa.Column('pending', sa.Boolean(), nullable=False, server_default=sa.false()))
        b.add_column(sa.Column('personal_workspace_id', sa.Integer(), nullable=True))
        b.create_index('ix_user_personal_workspace_id', ['personal_workspace_id'])
    with op.batch_alter_table('auth_session') as b:
        b.add_column(sa.Column('workspace_id', sa.Integer(), nullable=True))
    with op.batch_alter_table('api_token') as b:
        b.add_column(sa.Column('workspace_id', sa.Integer(), nullable=True))
        b.add_column(sa.Column('scopes', S(length=500), nullable=False, server_default=''))
        b.add_column(sa.Column('expires_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('job') as b:
        b.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        b.create_index('ix_job_user_id', ['user_id'])

    # A personal workspace per user, numbered as the user: the rows that name an owner keep their values.
    op.execute("INSERT INTO workspace (id, name, kind, created_by, created_at) "
               "SELECT id, 'Personal', 'personal', id, created_at FROM \"user\"")
    op.execute("INSERT INTO membership (workspace_id, user_id, role, role_source, created_at) "
               "SELECT id, id, 'owner', '', created_at FROM \"user\"")
    op.execute("UPDATE \"user\" SET personal_workspace_id = id")
    op.execute("UPDATE job SET user_id = owner_id")
    if not _sqlite():
        op.execute("SELECT setval(pg_get_serial_sequence('workspace', 'id'), "
                   "GREATEST((SELECT COALESCE(MAX(id), 0) FROM workspace), 1))")
    for table, old, unique in MOVES:
        _move(table, old, "workspace_id", unique, target="workspace")
    if _sqlite():
        for statement in SQLITE_ASSET_TRIGGERS:
            op.execute(statement)
    _rename_plain("moderation_event", "user_id", "workspace_id")


def _rename_plain(table: str, old: str, new: str) -> None:
    """A column with an index and no foreign key: both databases rename it in place."""
    op.execute(f"ALTER TABLE {table} RENAME COLUMN {old} TO {new}")
    op.drop_index(f"ix_{table}_{old}", table_name=table)
    op.create_index(f"ix_{table}_{new}", table, [new])


def downgrade() -> None:
    _rename_plain("moderation_event", "workspace_id", "user_id")
    # Team work goes to the user who made the team; personal work to its user.
    for table, old, unique in MOVES:
        op.execute(f"UPDATE {table} SET workspace_id = (SELECT created_by FROM workspace "
                   f"WHERE workspace.id = {table}.workspace_id)")
        back = (unique[1], unique[0], [old if c == "workspace_id" else c for c in unique[2]]) if unique else None
        _move(table, "workspace_id", old, back, target="user")
    if _sqlite():
        for name in ("asset_fts_insert", "asset_fts_delete", "asset_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        for statement in SQLITE_ASSET_TRIGGERS:
            op.execute(statement)
    with op.batch_alter_table('job') as b:
        b.drop_index('ix_job_user_id')
        b.drop_column('user_id')
    with op.batch_alter_table('api_token') as b:
        b.drop_column('expires_at')
        b.drop_column('scopes')
        b.drop_column('workspace_id')
    with op.batch_alter_table('auth_session') as b:
        b.drop_column('workspace_id')
    with op.batch_alter_table('user') as b:
        b.drop_index('ix_user_personal_workspace_id')
        b.drop_column('personal_workspace_id')
        b.drop_column('pending')
    for table in ('sso_identity', 'invitation', 'membership', 'workspace'):
        op.drop_table(table)
