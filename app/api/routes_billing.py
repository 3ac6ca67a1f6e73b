"""/api/v1/billing (the acting workspace's plan, credits, packs, checkout, portal, budget) and
/api/v1/admin/billing (plans and their versions, packs, payments, reconciliation issues).

Everything answers 404 `billing_off` while Stripe is not configured, except the admin plan routes: plans carry
the rename quota and member/storage limits, which matter without Stripe too.
"""

from __future__ import annotations

from fastapi import APIRouter

from app.api.billing_schemas import (
    AdminBillingOut,
    BillingOut,
    BudgetIn,
    BudgetOut,
    CheckoutIn,
    PackIn,
    PackList,
    PackOut,
    PlanCreate,
    PlanHistoryOut,
    PlanList,
    PlanVersionIn,
    PortalIn,
    RedirectOut,
)
from app.api.deps import AdminDep, CallerDep, requires
from app.api.ids import IdPath
from app.db import read_scope, session_scope
from app.services.billing import budgets, checkout, overview, plans

router = APIRouter(tags=["billing"])


def _terms(body) -> plans.Terms:
    return plans.Terms(**{k: getattr(body, k) for k in plans.Terms.__dataclass_fields__})


@router.get("/billing", response_model=BillingOut, dependencies=[requires("billing.manage")])
def get_billing(caller: CallerDep) -> BillingOut:
    """The workspace's plan and its limits, balance and debt, what is for sale, its subscription, recent
    payments (credits arrive when Stripe's webhook says the money is in)."""
    checkout.require_enabled()
    with session_scope() as session:  # the month's free allowance may be granted on this first read
        return BillingOut(**overview.workspace_billing(session=session, workspace_id=caller.user.workspace_id))


@router.post("/billing/checkout", response_model=RedirectOut, dependencies=[requires("billing.manage")])
def start_checkout(body: CheckoutIn, caller: CallerDep) -> RedirectOut:
    """A Stripe Checkout Session for a pack ({pack_id}) or a plan ({plan_id}); send the browser to `url`."""
    with session_scope() as session:
        ws = caller.user.workspace_id
        if body.pack_id is not None:
            url = checkout.start_pack_checkout(session=session, user=caller.user, workspace_id=ws,
                                               pack_id=body.pack_id, return_url=body.return_url)
        else:
            url = checkout.start_plan_checkout(session=session, user=caller.user, workspace_id=ws,
                                               plan_id=body.plan_id, return_url=body.return_url)
    return RedirectOut(url=url)


@router.post("/billing/portal", response_model=RedirectOut, dependencies=[requires("billing.manage")])
def open_portal(body: PortalIn, caller: CallerDep) -> RedirectOut:
    """The Stripe Customer Portal: cards, invoices, plan changes and cancellation."""
    with session_scope() as session:
        return RedirectOut(url=checkout.portal_url(session=session, user=caller.user,
                                                   workspace_id=caller.user.workspace_id,
                                                   return_url=body.return_url))


@router.get("/billing/budget", response_model=BudgetOut, dependencies=[requires("budgets.manage")])
def get_budget(caller: CallerDep) -> BudgetOut:
    checkout.require_enabled()
    with read_scope() as session:
        return BudgetOut(**overview.budget_dict(session=session, workspace_id=caller.user.workspace_id))


@router.put("/billing/budget", response_model=BudgetOut, dependencies=[requires("budgets.manage")])
def put_budget(body: BudgetIn, caller: CallerDep) -> BudgetOut:
    """Monthly caps (workspace, each member, per member), low-balance warnings, automatic top-up."""
    checkout.require_enabled()
    form = budgets.BudgetForm(**body.model_dump())
    with session_scope() as session:
        budgets.save_budget(session=session, actor=caller.user, workspace_id=caller.user.workspace_id, form=form)
        return BudgetOut(**overview.budget_dict(session=session, workspace_id=caller.user.workspace_id))


# --- site admin -------------------------------------------------------------------------------------------


@router.get("/admin/billing", response_model=AdminBillingOut)
def admin_overview(caller: AdminDep) -> AdminBillingOut:
    checkout.require_enabled()
    with read_scope() as session:
        return AdminBillingOut(**overview.admin_billing(session=session))


@router.get("/admin/billing/plans", response_model=PlanList)
def admin_plans(caller: AdminDep) -> PlanList:
    """Every plan with its version history (newest first)."""
    with read_scope() as session:
        return PlanList(plans=overview.plan_history(session=session))


def _plan_out(session, plan_id: int) -> PlanHistoryOut:
    return PlanHistoryOut(**next(p for p in overview.plan_history(session=session) if p["plan_id"] == plan_id))


@router.post("/admin/billing/plans", status_code=201, response_model=PlanHistoryOut)
def admin_create_plan(body: PlanCreate, caller: AdminDep) -> PlanHistoryOut:
    with session_scope() as session:
        plan, _ = plans.create_plan(session=session, actor_id=caller.user.id, key=body.key, name=body.name,
                                    terms=_terms(body), sort=body.sort)
        return _plan_out(session, plan.id)


@router.post("/admin/billing/plans/{plan_id}/versions", status_code=201, response_model=PlanHistoryOut)
def admin_new_version(plan_id: IdPath, body: PlanVersionIn, caller: AdminDep) -> PlanHistoryOut:
    """New terms for a plan: new subscriptions take them, running ones at their next renewal."""
    with session_scope() as session:
        plans.edit_plan(session=session, actor_id=caller.user.id, plan_id=plan_id, terms=_terms(body),
                        name=body.name, active=body.active)
        return _plan_out(session, plan_id)


@router.get("/admin/billing/packs", response_model=PackList)
def admin_packs(caller: AdminDep) -> PackList:
    checkout.require_enabled()
    with read_scope() as session:
        return PackList(packs=[overview.pack_dict(p) for p in plans.list_packs(session=session)])


@router.post("/admin/billing/packs", status_code=201, response_model=PackOut)
def admin_create_pack(body: PackIn, caller: AdminDep) -> PackOut:
    checkout.require_enabled()
    with session_scope() as session:
        pack = plans.create_pack(session=session, name=body.name, credits=body.credits,
                                 stripe_price_id=body.stripe_price_id, amount_cents=body.amount_cents,
                                 currency=body.currency)
        pack.active = body.active
        return PackOut(**overview.pack_dict(pack))


@router.put("/admin/billing/packs/{pack_id}", response_model=PackOut)
def admin_edit_pack(pack_id: IdPath, body: PackIn, caller: AdminDep) -> PackOut:
    """Edit or deactivate (`active: false`) a pack; checkouts already started keep what they said."""
    checkout.require_enabled()
    with session_scope() as session:
        pack = plans.edit_pack(session=session, pack_id=pack_id, **body.model_dump())
        return PackOut(**overview.pack_dict(pack))
