"""Budgets an owner sets on a workspace's credits: monthly caps (the workspace's, each member's), low-balance
warnings by email once per crossing, and an optional automatic top-up with a monthly ceiling.

Caps are checked inside credits.reserve, so every job start (page, REST, workflow step) is held to them.
A month is the calendar month in UTC; what a month spent is its reservations less what failed jobs gave back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import event, update
from sqlmodel import Session, col, func, select

from app.errors import AppError, ValidationFailed
from app.models import (
    BillingEffect,
    BillingState,
    CreditEntry,
    Job,
    MemberBudget,
    Membership,
    User,
    Workspace,
    WorkspaceBudget,
    utcnow,
)
from app.services import mail

log = logging.getLogger(__name__)
MAX_CAP = 100_000_000
MAX_THRESHOLDS = 5
TOPUP_PENDING = "topup_pending:{}"
TOPUP_STALE = timedelta(minutes=10)


class BudgetExceeded(AppError):
    status = 402
    code = "budget_workspace_cap"


def month_start(now: datetime | None = None) -> datetime:
    return (now or utcnow()).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def spent_this_month(*, session: Session, workspace_id: int, user_id: int | None = None) -> int:
    """Credits reserved this month less those given back, for the workspace or one member's jobs."""
    query = select(func.coalesce(func.sum(CreditEntry.amount), 0)).where(
        CreditEntry.workspace_id == workspace_id, col(CreditEntry.kind).in_(("reserve", "release")),
        col(CreditEntry.created_at) >= month_start())
    if user_id is not None:
        query = query.join(Job, col(Job.id) == col(CreditEntry.job_id)).where(Job.user_id == user_id)
    return -int(session.exec(query).one())


def get_budget(*, session: Session, workspace_id: int) -> WorkspaceBudget | None:
    return session.get(WorkspaceBudget, workspace_id)


def member_cap(*, session: Session, budget: WorkspaceBudget | None, workspace_id: int, user_id: int) -> int | None:
    own = session.get(MemberBudget, (workspace_id, user_id))
    if own is not None and own.monthly_cap is not None:
        return own.monthly_cap
    return budget.member_cap if budget is not None else None


def check_caps(*, session: Session, workspace_id: int, user_id: int | None, amount: int) -> None:
    """Raise BudgetExceeded when `amount` more this month would pass the workspace's or the member's cap."""
    budget = get_budget(session=session, workspace_id=workspace_id)
    if budget is not None and budget.monthly_cap is not None:
        spent = spent_this_month(session=session, workspace_id=workspace_id)
        if spent + amount > budget.monthly_cap:
            raise BudgetExceeded(f"This needs {amount} credits; the workspace has spent {spent:,} of its "
                                 f"{budget.monthly_cap:,}-credit monthly budget. An owner can raise it on the "
                                 "Billing page.", code="budget_workspace_cap")
    if user_id is None:
        return
    cap = member_cap(session=session, budget=budget, workspace_id=workspace_id, user_id=user_id)
    if cap is not None:
        spent = spent_this_month(session=session, workspace_id=workspace_id, user_id=user_id)
        if spent + amount > cap:
            raise BudgetExceeded(f"This needs {amount} credits; you have spent {spent:,} of your {cap:,}-credit "
                                 "monthly budget in this workspace. Its owner can raise it.",
                                 code="budget_member_cap")


def parse_thresholds(text: str) -> list[int]:
    """"100, 20" → [100, 20] (highest first); refuses anything but up to five positive whole numbers."""
    parts = [p.strip() for p in (text or "").replace(";", ",").split(",") if p.strip()]
    if len(parts) > MAX_THRESHOLDS or not all(p.isdigit() and 0 < int(p) <= MAX_CAP for p in parts):
        raise ValidationFailed(f"Warning thresholds are up to {MAX_THRESHOLDS} positive whole numbers separated by "
                               "commas, such as '100, 20'.", code="invalid_thresholds")
    return sorted({int(p) for p in parts}, reverse=True)


def warning_for(thresholds: list[int], before: int, after: int, warned: int | None) -> tuple[int | None, int | None]:
    """(warned_threshold to store, threshold to warn about now or None) for a spend from `before` to `after`.

    A threshold warned about is re-armed once the balance was back at or above it (`before` ≥ it); a spend
    warns about the lowest threshold it took the balance under, unless that one was already warned about.
    """
    if warned is not None and before >= warned:
        warned = None
    crossed = [t for t in thresholds if after < t <= before]
    if not crossed:
        return warned, None
    lowest = min(crossed)
    if warned is not None and warned <= lowest:
        return warned, None
    return lowest, lowest


def topup_due(*, below: int | None, before: int, after: int) -> bool:
    """A spend that takes the balance under the mark starts one top-up (a later spend is not a new crossing)."""
    return below is not None and after < below <= before


@dataclass(frozen=True)
class AfterSpend:
    warn: int | None
    topup: bool


def after_reserve(*, session: Session, workspace_id: int, before: int, after: int) -> AfterSpend:
    """Warnings and top-up for a reserve that moved the balance from `before` to `after` (same transaction)."""
    budget = get_budget(session=session, workspace_id=workspace_id)
    if budget is None:
        return AfterSpend(None, False)
    thresholds = parse_thresholds(budget.low_balance_thresholds) if budget.low_balance_thresholds else []
    warned, warn = warning_for(thresholds, before, after, budget.warned_threshold)
    if warned != budget.warned_threshold:
        # Guarded by the old value: of two spends at once only one stores (and sends) the warning.
        moved = session.execute(update(WorkspaceBudget).where(
            col(WorkspaceBudget.workspace_id) == workspace_id,
            col(WorkspaceBudget.warned_threshold).is_(None) if budget.warned_threshold is None
            else col(WorkspaceBudget.warned_threshold) == budget.warned_threshold).values(warned_threshold=warned))
        if moved.rowcount != 1:
            warn = None
    if warn is not None:
        _warn_managers(session, workspace_id, after, warn)
    topup = (budget.auto_topup_pack_id is not None
             and topup_due(below=budget.auto_topup_below, before=before, after=after)
             and _claim_topup(session, workspace_id))
    if topup:
        _enqueue_topup_after_commit(session, workspace_id)
    return AfterSpend(warn, topup)


def _managers(session: Session, workspace_id: int) -> list[str]:
    return list(session.exec(select(User.email).join(Membership, col(Membership.user_id) == User.id).where(
        Membership.workspace_id == workspace_id, col(Membership.role).in_(("owner", "admin")),
        User.is_active == True)).all())  # noqa: E712


def _warn_managers(session: Session, workspace_id: int, balance: int, threshold: int) -> None:
    from app.services.workspaces.invitations import _enqueue_after_commit

    workspace = session.get(Workspace, workspace_id)
    for email in _managers(session, workspace_id):
        row = mail.write_outbox(session=session, to=email, subject=f"{workspace.name}: credits below {threshold:,}",
                                body=f"The workspace {workspace.name} has {balance:,} credits left, below the "
                                     f"{threshold:,} you asked to be warned at.\n\nBuy credits on the Billing page.")
        _enqueue_after_commit(session, row.id)


def _claim_topup(session: Session, workspace_id: int) -> bool:
    """One top-up at a time per workspace: the marker is removed when the top-up job ends. A marker older than
    TOPUP_STALE (its job was never queued, or died) no longer blocks: the month's ceiling still bounds spending."""
    key = TOPUP_PENDING.format(workspace_id)[:40]
    row = session.get(BillingState, key)
    if row is not None and row.updated_at > utcnow() - TOPUP_STALE:
        return False
    row = row or BillingState(key=key)
    row.value, row.updated_at = "pending", utcnow()
    session.add(row)
    session.flush()
    return True


def release_topup(*, session: Session, workspace_id: int) -> None:
    row = session.get(BillingState, TOPUP_PENDING.format(workspace_id)[:40])
    if row is not None:
        session.delete(row)


def _enqueue_topup_after_commit(session: Session, workspace_id: int) -> None:
    def _send(_session) -> None:
        from app.queue import enqueue_topup

        try:
            enqueue_topup(workspace_id)
        except Exception:  # the marker stays until it is stale (TOPUP_STALE); the next crossing after that tries
            log.exception("could not enqueue the top-up of workspace %s", workspace_id)

    event.listen(session, "after_commit", _send, once=True)


def topped_up_this_month(*, session: Session, workspace_id: int) -> int:
    return int(session.exec(select(func.coalesce(func.sum(BillingEffect.credits), 0)).where(
        BillingEffect.workspace_id == workspace_id, BillingEffect.kind == "topup",
        col(BillingEffect.created_at) >= month_start())).one())


# --- the owner's form -------------------------------------------------------------------------------------


def _cap(value: int | None, label: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_CAP:
        raise ValidationFailed(f"{label} is a whole number from 0 to {MAX_CAP:,}, or empty for no limit.",
                               code="invalid_budget")
    return value


@dataclass(frozen=True)
class BudgetForm:
    monthly_cap: int | None = None
    member_cap: int | None = None
    low_balance_thresholds: str = ""
    auto_topup_pack_id: int | None = None
    auto_topup_below: int | None = None
    auto_topup_monthly_max: int | None = None
    member_caps: dict[int, int | None] | None = None  # user id → cap (None removes theirs)


def save_budget(*, session: Session, actor, workspace_id: int, form: BudgetForm) -> WorkspaceBudget:
    """Owners only (budgets.manage). The top-up pack must be active and the ceiling at least one pack."""
    from app.services.billing import plans
    from app.services.workspaces.members import authorize

    authorize(session=session, actor=actor, workspace_id=workspace_id, action="budgets.manage")
    thresholds = parse_thresholds(form.low_balance_thresholds)
    budget = get_budget(session=session, workspace_id=workspace_id) or WorkspaceBudget(workspace_id=workspace_id)
    budget.monthly_cap = _cap(form.monthly_cap, "The monthly cap")
    budget.member_cap = _cap(form.member_cap, "Each member's cap")
    new_thresholds = ",".join(str(t) for t in thresholds)
    if new_thresholds != budget.low_balance_thresholds:
        budget.warned_threshold = None  # new marks: each is warned about afresh
    budget.low_balance_thresholds = new_thresholds
    if form.auto_topup_pack_id is None:
        budget.auto_topup_pack_id = budget.auto_topup_below = budget.auto_topup_monthly_max = None
    else:
        pack = plans.get_pack(session=session, pack_id=form.auto_topup_pack_id)
        if not pack.active:
            raise ValidationFailed("That credit pack is no longer sold; choose another.", code="pack_inactive")
        below = _cap(form.auto_topup_below, "Top up below")
        ceiling = _cap(form.auto_topup_monthly_max, "The monthly top-up ceiling")
        if not below or ceiling is None or ceiling < pack.credits:
            raise ValidationFailed(f"Automatic top-up needs a balance to top up below (above 0) and a monthly "
                                   f"ceiling of at least one pack ({pack.credits:,} credits).",
                                   code="invalid_topup")
        budget.auto_topup_pack_id, budget.auto_topup_below, budget.auto_topup_monthly_max = pack.id, below, ceiling
    budget.updated_at = utcnow()
    session.add(budget)
    for user_id, cap in (form.member_caps or {}).items():
        if session.get(Membership, (workspace_id, user_id)) is None:
            raise ValidationFailed(f"User {user_id} is not a member of this workspace.", code="not_a_member")
        row = session.get(MemberBudget, (workspace_id, user_id))
        if cap is None:
            if row is not None:
                session.delete(row)
            continue
        row = row or MemberBudget(workspace_id=workspace_id, user_id=user_id)
        row.monthly_cap, row.updated_at = _cap(cap, "A member's cap"), utcnow()
        session.add(row)
    session.flush()
    return budget


def member_caps(*, session: Session, workspace_id: int) -> dict[int, int | None]:
    rows = session.exec(select(MemberBudget).where(MemberBudget.workspace_id == workspace_id)).all()
    return {row.user_id: row.monthly_cap for row in rows}



def run_topup(*, workspace_id: int) -> int | None:
    """The automatic top-up a crossing claimed: charge the saved card for the pack unless that would pass the
    month's ceiling; credits when Stripe answers `succeeded` (key `topup:<pi>`, the webhook's too). Returns
    the credits added, None when nothing was charged. The claim is released whatever happens."""
    from app.db import session_scope
    from app.services.billing import checkout, effects, plans

    try:
        with session_scope() as session:
            budget = get_budget(session=session, workspace_id=workspace_id)
            if budget is None or budget.auto_topup_pack_id is None:
                return None
            pack = plans.get_pack(session=session, pack_id=budget.auto_topup_pack_id)
            done = topped_up_this_month(session=session, workspace_id=workspace_id)
            if not pack.active or done + pack.credits > (budget.auto_topup_monthly_max or 0):
                log.info("top-up of workspace %s skipped: ceiling %s reached (%s this month)", workspace_id,
                         budget.auto_topup_monthly_max, done)
                return None
            intent = checkout.charge_topup(session=session, workspace_id=workspace_id, pack_id=pack.id)
            if intent.status != "succeeded":
                log.info("top-up %s of workspace %s is %s: the webhook credits it if it succeeds", intent.id,
                         workspace_id, intent.status)
                return None
            effects.apply_effect(session=session, business_key=f"topup:{intent.id}", kind="topup",
                                 workspace_id=workspace_id, credits=pack.credits, amount_cents=intent.amount,
                                 currency=intent.currency, stripe_object_id=intent.id)
            receipts = effects.take_receipts(session)
        effects.queue_receipts(receipts)  # committed: the owner's receipt can go
        return pack.credits
    except AppError as exc:
        log.warning("top-up of workspace %s refused: %s", workspace_id, exc.code)
        return None
    finally:
        with session_scope() as session:
            release_topup(session=session, workspace_id=workspace_id)
