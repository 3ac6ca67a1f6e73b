"""What the Billing pages and GET /api/v1/billing show, as plain dicts (one reading for REST and pages)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from app.models import BillingEffect, BillingIssue, CreditAccount, Plan, PlanVersion, Subscription, Workspace
from app.services import credits
from app.services.billing import budgets, plans

PAYMENT_KINDS = ("pack", "plan_credits", "topup")


def version_dict(plan: Plan, version: PlanVersion) -> dict:
    return {"plan_id": plan.id, "key": plan.key, "name": plan.name, "is_free": plan.is_free, "active": plan.active,
            "version_id": version.id, "version": version.version, "stripe_price_id": version.stripe_price_id,
            "amount_cents": version.amount_cents, "currency": version.currency,
            "monthly_credits": version.monthly_credits, "monthly_rename_quota": version.monthly_rename_quota,
            "member_limit": version.member_limit, "storage_limit_mb": version.storage_limit_mb,
            "created_at": version.created_at}


def pack_dict(pack) -> dict:
    return {"id": pack.id, "name": pack.name, "credits": pack.credits, "stripe_price_id": pack.stripe_price_id,
            "amount_cents": pack.amount_cents, "currency": pack.currency, "active": pack.active}


def effect_dict(row: BillingEffect) -> dict:
    return {"id": row.id, "kind": row.kind, "workspace_id": row.workspace_id, "credits": row.credits,
            "applied_credits": row.applied_credits, "shortfall": row.shortfall, "amount_cents": row.amount_cents,
            "currency": row.currency, "stripe_object_id": row.stripe_object_id, "business_key": row.business_key,
            "created_at": row.created_at}


def subscription_dict(sub: Subscription | None) -> dict | None:
    if sub is None:
        return None
    return {"id": sub.id, "status": sub.status, "plan_id": sub.plan_id, "plan_version_id": sub.plan_version_id,
            "current_period_end": sub.current_period_end, "cancel_at_period_end": sub.cancel_at_period_end}


def workspace_billing(*, session: Session, workspace_id: int, payments: int = 20) -> dict:
    plan, version = plans.current_plan(session=session, workspace_id=workspace_id)
    balance, held = credits.balance(session=session, workspace_id=workspace_id)
    account = session.get(CreditAccount, workspace_id)
    sub = session.exec(select(Subscription).where(Subscription.workspace_id == workspace_id)
                       .order_by(col(Subscription.id).desc())).first()
    rows = session.exec(select(BillingEffect).where(BillingEffect.workspace_id == workspace_id)
                        .order_by(col(BillingEffect.id).desc()).limit(payments)).all()
    return {
        "plan": version_dict(plan, version), "balance": balance, "held": held,
        "debt": account.debt if account else 0,
        "spent_this_month": budgets.spent_this_month(session=session, workspace_id=workspace_id),
        "packs": [pack_dict(p) for p in plans.list_packs(session=session, active_only=True)],
        "plans": [version_dict(p, v) for p, v in plans.list_plans(session=session, active_only=True)],
        "subscription": subscription_dict(sub), "payments": [effect_dict(r) for r in rows],
    }


def budget_dict(*, session: Session, workspace_id: int) -> dict:
    budget = budgets.get_budget(session=session, workspace_id=workspace_id)
    return {
        "monthly_cap": budget.monthly_cap if budget else None,
        "member_cap": budget.member_cap if budget else None,
        "low_balance_thresholds": budget.low_balance_thresholds if budget else "",
        "warned_threshold": budget.warned_threshold if budget else None,
        "auto_topup_pack_id": budget.auto_topup_pack_id if budget else None,
        "auto_topup_below": budget.auto_topup_below if budget else None,
        "auto_topup_monthly_max": budget.auto_topup_monthly_max if budget else None,
        "topped_up_this_month": budgets.topped_up_this_month(session=session, workspace_id=workspace_id),
        "member_caps": {str(k): v for k, v in budgets.member_caps(session=session, workspace_id=workspace_id).items()},
    }


def admin_billing(*, session: Session, limit: int = 100) -> dict:
    """Payments, refunds, disputes, reconciliation issues (open first) and each workspace's plan."""
    def effects(kinds: tuple[str, ...]) -> list[dict]:
        rows = session.exec(select(BillingEffect).where(col(BillingEffect.kind).in_(kinds))
                            .order_by(col(BillingEffect.id).desc()).limit(limit)).all()
        return [effect_dict(r) for r in rows]

    issues = session.exec(select(BillingIssue).order_by(col(BillingIssue.resolved_at).is_not(None),
                                                        col(BillingIssue.id).desc()).limit(limit)).all()
    workspaces = session.exec(select(Workspace).order_by(col(Workspace.id)).limit(500)).all()
    plan_of = []
    for workspace in workspaces:
        plan, version = plans.current_plan(session=session, workspace_id=workspace.id)
        sub = plans.live_subscription(session=session, workspace_id=workspace.id)
        plan_of.append({"workspace_id": workspace.id, "workspace": workspace.name, "plan": plan.name,
                        "version": version.version, "status": sub.status if sub else "free"})
    return {
        "payments": effects(PAYMENT_KINDS), "refunds": effects(("refund",)),
        "disputes": effects(("dispute", "dispute_won")),
        "issues": [{"id": i.id, "kind": i.kind, "business_key": i.business_key, "detail": i.detail,
                    "found_at": i.found_at, "resolved_at": i.resolved_at} for i in issues],
        "workspaces": plan_of,
    }


def plan_history(*, session: Session) -> list[dict]:
    """Every plan with its versions, newest first (the admin editor's history)."""
    out = []
    for plan, latest in plans.list_plans(session=session):
        out.append({**version_dict(plan, latest), "sort": plan.sort,
                    "versions": [version_dict(plan, v) for v in plans.versions(session=session, plan_id=plan.id)]})
    return out
