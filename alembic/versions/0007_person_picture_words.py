"""moderation: nudity next to a picture of a person ("nude portrait", "nude selfie") is refused

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 06:50:00
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def _rule() -> dict:
    # The row as the starter list writes it today; 0004 already seeded it on databases made after the change.
    from app.services.moderation.service import DEFAULT_DENYLIST

    entry = next(e for e in DEFAULT_DENYLIST if "portrait" in e.term and "nude" in e.term)
    return entry.as_dict()


def upgrade() -> None:
    row = _rule()
    term = sa.table("denylist_term", sa.column("term", sa.String), sa.column("kind", sa.String),
                    sa.column("category", sa.String), sa.column("reason", sa.String),
                    sa.column("created_at", sa.DateTime))
    bind = op.get_bind()
    present = bind.execute(sa.select(sa.func.count()).select_from(term).where(term.c.term == row["term"])).scalar()
    if not present:
        op.bulk_insert(term, [{**row, "created_at": datetime.now(UTC)}])


def downgrade() -> None:
    term = sa.table("denylist_term", sa.column("term", sa.String))
    op.execute(term.delete().where(term.c.term == _rule()["term"]))
