"""billing with Stripe: plans with versions, credit packs, customers, subscriptions, received events,
money effects by business key, reconciliation state and issues, budgets; credit_account.debt

The free plan is seeded (version 1) with the 5,000-image rename quota RENAME_MONTHLY_IMAGES had by default.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 17:00:00
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

S = sqlmodel.sql.sqltypes.AutoString


def _id():
    return sa.Column('id', sa.Integer(), nullable=False)


def upgrade() -> None:
    with op.batch_alter_table('credit_account') as batch:
        batch.add_column(sa.Column('debt', sa.Integer(), nullable=False, server_default='0'))
    op.create_table(
        'plan', _id(),
        sa.Column('key', S(length=40), nullable=False),
        sa.Column('name', S(length=80), nullable=False),
        sa.Column('is_free', sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column('sort', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key', name='uq_plan_key'),
    )
    op.create_table(
        'plan_version', _id(),
        sa.Column('plan_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('stripe_price_id', S(length=100), nullable=False, server_default=''),
        sa.Column('amount_cents', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('currency', S(length=3), nullable=False, server_default='usd'),
        sa.Column('monthly_credits', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('monthly_rename_quota', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('member_limit', sa.Integer(), nullable=True),
        sa.Column('storage_limit_mb', sa.Integer(), nullable=True),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name='fk_plan_version_plan_id_plan'),
        sa.ForeignKeyConstraint(['created_by'], ['user.id'], name='fk_plan_version_created_by_user'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('plan_id', 'version', name='uq_plan_version_plan_id_version'),
    )
    op.create_index('ix_plan_version_plan_id', 'plan_version', ['plan_id'])
    op.create_table(
        'credit_pack', _id(),
        sa.Column('name', S(length=80), nullable=False),
        sa.Column('credits', sa.Integer(), nullable=False),
        sa.Column('stripe_price_id', S(length=100), nullable=False),
        sa.Column('amount_cents', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('currency', S(length=3), nullable=False, server_default='usd'),
        sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('stripe_price_id', name='uq_credit_pack_stripe_price_id'),
    )
    op.create_table(
        'billing_customer',
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('stripe_customer_id', S(length=100), nullable=False),
        sa.Column('email', S(length=254), nullable=False, server_default=''),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name='fk_billing_customer_workspace_id_workspace'),
        sa.PrimaryKeyConstraint('workspace_id'),
        sa.UniqueConstraint('stripe_customer_id', name='uq_billing_customer_stripe_customer_id'),
    )
    op.create_table(
        'subscription', _id(),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('stripe_subscription_id', S(length=100), nullable=False),
        sa.Column('plan_id', sa.Integer(), nullable=False),
        sa.Column('plan_version_id', sa.Integer(), nullable=False),
        sa.Column('status', S(length=24), nullable=False),
        sa.Column('status_at', sa.DateTime(), nullable=True),
        sa.Column('current_period_end', sa.DateTime(), nullable=True),
        sa.Column('cancel_at_period_end', sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name='fk_subscription_workspace_id_workspace'),
        sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name='fk_subscription_plan_id_plan'),
        sa.ForeignKeyConstraint(['plan_version_id'], ['plan_version.id'], name='fk_subscription_plan_version_id'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('stripe_subscription_id', name='uq_subscription_stripe_subscription_id'),
    )
    op.create_index('ix_subscription_workspace_id', 'subscription', ['workspace_id'])
    op.create_index('ix_subscription_plan_id', 'subscription', ['plan_id'])
    op.create_table(
        'stripe_event',
        sa.Column('id', S(length=100), nullable=False),
        sa.Column('type', S(length=80), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('received_at', sa.DateTime(), nullable=False),
        sa.Column('outcome', S(length=16), nullable=False),
        sa.Column('detail', S(length=300), nullable=False, server_default=''),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_stripe_event_received_at', 'stripe_event', ['received_at'])
    op.create_table(
        'billing_effect', _id(),
        sa.Column('business_key', S(length=160), nullable=False),
        sa.Column('kind', S(length=24), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('event_id', S(length=100), nullable=False, server_default=''),
        sa.Column('credits', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('applied_credits', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('shortfall', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('amount_cents', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('currency', S(length=3), nullable=False, server_default='usd'),
        sa.Column('stripe_object_id', S(length=100), nullable=False, server_default=''),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name='fk_billing_effect_workspace_id_workspace'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('business_key', name='uq_billing_effect_business_key'),
    )
    op.create_index('ix_billing_effect_workspace_id', 'billing_effect', ['workspace_id'])
    op.create_index('ix_billing_effect_stripe_object_id', 'billing_effect', ['stripe_object_id'])
    op.create_index('ix_billing_effect_created_at', 'billing_effect', ['created_at'])
    op.create_table(
        'billing_state',
        sa.Column('key', S(length=40), nullable=False),
        sa.Column('value', S(length=200), nullable=False, server_default=''),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )
    op.create_table(
        'billing_issue', _id(),
        sa.Column('kind', S(length=32), nullable=False),
        sa.Column('business_key', S(length=160), nullable=False, server_default=''),
        sa.Column('detail', S(length=500), nullable=False, server_default=''),
        sa.Column('found_at', sa.DateTime(), nullable=False),
        sa.Column('resolved_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_billing_issue_business_key', 'billing_issue', ['business_key'])
    op.create_index('ix_billing_issue_found_at', 'billing_issue', ['found_at'])
    op.create_table(
        'workspace_budget',
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('monthly_cap', sa.Integer(), nullable=True),
        sa.Column('member_cap', sa.Integer(), nullable=True),
        sa.Column('low_balance_thresholds', S(length=100), nullable=False, server_default=''),
        sa.Column('warned_threshold', sa.Integer(), nullable=True),
        sa.Column('auto_topup_pack_id', sa.Integer(), nullable=True),
        sa.Column('auto_topup_below', sa.Integer(), nullable=True),
        sa.Column('auto_topup_monthly_max', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name='fk_workspace_budget_workspace_id_workspace'),
        sa.ForeignKeyConstraint(['auto_topup_pack_id'], ['credit_pack.id'], name='fk_workspace_budget_pack'),
        sa.PrimaryKeyConstraint('workspace_id'),
    )
    op.create_table(
        'member_budget',
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('monthly_cap', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name='fk_member_budget_workspace_id_workspace'),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name='fk_member_budget_user_id_user'),
        sa.PrimaryKeyConstraint('workspace_id', 'user_id'),
    )
    # The free plan every workspace without a subscription is on, with the quota RENAME_MONTHLY_IMAGES
    # defaulted to (admins edit it on /admin/billing; a new version applies from the next month).
    plan = sa.table('plan', sa.column('id', sa.Integer()), sa.column('key', S()), sa.column('name', S()),
                    sa.column('is_free', sa.Boolean()), sa.column('active', sa.Boolean()),
                    sa.column('sort', sa.Integer()), sa.column('created_at', sa.DateTime()))
    op.execute(sa.insert(plan).values(key='free', name='Free', is_free=True, active=True, sort=0,
                                      created_at=sa.func.current_timestamp()))
    op.execute(sa.text("INSERT INTO plan_version (plan_id, version, stripe_price_id, amount_cents, currency, "
                       "monthly_credits, monthly_rename_quota, created_at) "
                       "SELECT id, 1, '', 0, 'usd', 0, 5000, created_at FROM plan WHERE key = 'free'"))


def downgrade() -> None:
    for name in ('member_budget', 'workspace_budget', 'billing_issue', 'billing_state', 'billing_effect',
                 'stripe_event', 'subscription', 'billing_customer', 'credit_pack', 'plan_version', 'plan'):
        op.drop_table(name)
    with op.batch_alter_table('credit_account') as batch:
        batch.drop_column('debt')
