"""The credits ledger: a balance per workspace and one row per change, each with a unique reference.

A job reserves its cost when it is enqueued (balance → held), captures it on success and
releases it on failure or cancel. Settling uses one reference per job, so a job can be
captured or released once, never both, however often a worker retries.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from app.errors import InsufficientCredits, ValidationFailed
from app.models import CreditAccount, CreditEntry, Workspace, utcnow
from app.observability import metrics
from app.services import audit
from app.settings import get_settings


def price_for(provider: str, units: int = 1) -> int:
    """Credits for `units` of work on `provider`; unknown providers are priced like the dearest."""
    prices = get_settings().provider_prices
    per_unit = prices.get(provider, max(prices.values(), default=0))
    return max(0, per_unit) * max(0, units)


def _ensure_account(session: Session, workspace_id: int) -> None:
    if session.get(CreditAccount, workspace_id) is None:
        try:
            with session.begin_nested():
                session.add(CreditAccount(workspace_id=workspace_id))
        except IntegrityError:
            pass  # created by a concurrent request


def _entry(session: Session, **values) -> bool:
    """Insert a ledger row; False when its reference was already used (a replay)."""
    try:
        with session.begin_nested():
            session.add(CreditEntry(**values))
        return True
    except IntegrityError:
        return False


def _allowance(session: Session, workspace_id: int) -> int:
    # The free monthly allowance goes to personal workspaces only: a team made for it would otherwise
    # mint credits. Teams get theirs from an admin grant (or billing).
    workspace = session.get(Workspace, workspace_id)
    return get_settings().monthly_free_credits if workspace is not None and workspace.kind == "personal" else 0


def grant_monthly_allowance(*, session: Session, workspace_id: int, now: datetime | None = None) -> bool:
    amount = _allowance(session, workspace_id)
    _ensure_account(session, workspace_id)
    month = (now or utcnow()).strftime("%Y-%m")
    if amount <= 0 or not _entry(session, workspace_id=workspace_id, kind="allowance", amount=amount,
                                  reference=f"allowance:{workspace_id}:{month}",
                                  reason=f"Free allowance for {month}"):
        return False
    session.execute(update(CreditAccount).where(col(CreditAccount.workspace_id) == workspace_id)
                    .values(balance=CreditAccount.balance + amount))
    return True


def reserve(*, session: Session, workspace_id: int, amount: int, job_id: str, user_id: int | None = None) -> None:
    """Hold `amount` for a job started by `user_id`; raises InsufficientCredits, or BudgetExceeded past the
    workspace's or the member's monthly cap. Never takes a balance below zero."""
    from app.services.billing import budgets

    if amount <= 0:
        return
    grant_monthly_allowance(session=session, workspace_id=workspace_id)
    _ensure_account(session, workspace_id)
    # Lock the account row first so two jobs starting at once are held to the caps one after the other
    # (PostgreSQL; SQLite already serialises writers with BEGIN IMMEDIATE).
    before = session.exec(select(CreditAccount.balance).where(CreditAccount.workspace_id == workspace_id)
                          .with_for_update()).first() or 0
    budgets.check_caps(session=session, workspace_id=workspace_id, user_id=user_id, amount=amount)
    if not _entry(session, workspace_id=workspace_id, kind="reserve", amount=-amount,
                  reference=f"job:{job_id}:reserve", job_id=job_id, reason="Reserved for a job"):
        return
    # The WHERE clause is the guard: concurrent spends serialise on the row and re-check it.
    moved = session.execute(
        update(CreditAccount)
        .where(col(CreditAccount.workspace_id) == workspace_id, col(CreditAccount.balance) >= amount,
               col(CreditAccount.debt) <= 0)
        .values(balance=CreditAccount.balance - amount, held=CreditAccount.held + amount)
    )
    if moved.rowcount != 1:
        _refuse_debt(session, workspace_id)  # debt is the reason (the WHERE clause also refuses it)
        raise InsufficientCredits(f"This needs {amount} credits; this workspace's balance is too low.")
    budgets.after_reserve(session=session, workspace_id=workspace_id, before=before, after=before - amount)


def _refuse_debt(session: Session, workspace_id: int) -> None:
    """A workspace that owes credits (a refund or dispute took back more than its balance) starts no job."""
    account = session.get(CreditAccount, workspace_id, populate_existing=True)
    if account is not None and account.debt > 0:
        raise InsufficientCredits(
            f"This workspace owes {account.debt} credits (a payment was refunded or disputed after its credits "
            "were spent): new jobs wait until a payment covers it.", code="billing_debt",
            details={"debt": account.debt})


def _reserved(session: Session, job_id: str) -> CreditEntry | None:
    return session.exec(select(CreditEntry).where(CreditEntry.reference == f"job:{job_id}:reserve")).first()


def settle(*, session: Session, job_id: str, success: bool) -> None:
    """Capture (success) or release (failure, cancel) what a job reserved, exactly once."""
    held = _reserved(session, job_id)
    if held is None:
        return
    amount = -held.amount
    kind = "capture" if success else "release"
    if not _entry(session, workspace_id=held.workspace_id, kind=kind, amount=0 if success else amount,
                  reference=f"job:{job_id}:settle", job_id=job_id,
                  reason="Job succeeded" if success else "Job did not finish: credits returned"):
        return
    values = {"held": CreditAccount.held - amount}
    if not success:
        values["balance"] = CreditAccount.balance + amount
    session.execute(update(CreditAccount).where(col(CreditAccount.workspace_id) == held.workspace_id).values(**values))
    if success:  # counted once: a second settle of the same job found its entry and returned above
        metrics.count_credits_spent(amount)


def adjust(*, session: Session, actor_id: int, workspace_id: int, amount: int, reason: str, reference: str) -> None:
    """An admin grant (positive) or correction (negative); the balance never goes below zero."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationFailed("Say why: a reason is required.", code="reason_required")
    if amount == 0 or abs(amount) > 1_000_000:
        raise ValidationFailed("The amount must be non-zero and at most 1,000,000.", code="invalid_amount")
    _ensure_account(session, workspace_id)
    if not _entry(session, workspace_id=workspace_id, kind="grant" if amount > 0 else "adjust", amount=amount,
                  reference=reference[:128], reason=reason[:300], actor_id=actor_id):
        return
    moved = session.execute(
        update(CreditAccount)
        .where(col(CreditAccount.workspace_id) == workspace_id, col(CreditAccount.balance) + amount >= 0)
        .values(balance=CreditAccount.balance + amount)
    )
    if moved.rowcount != 1:
        raise ValidationFailed("That would take the balance below zero.", code="invalid_amount")
    audit.record(session=session, action="admin.credits", actor_id=actor_id, target=str(workspace_id),
                 detail=f"{amount:+d}: {reason}"[:1000])


def balance(*, session: Session, workspace_id: int) -> tuple[int, int]:
    grant_monthly_allowance(session=session, workspace_id=workspace_id)
    # populate_existing: the UPDATEs above bypass the identity map, so read the row afresh.
    account = session.get(CreditAccount, workspace_id, populate_existing=True)
    return (account.balance, account.held) if account else (0, 0)


def balances(*, session: Session, workspace_ids: list[int]) -> dict[int, int]:
    """Spendable balances of many workspaces in three queries, without writing anything.

    A month's allowance is granted lazily on a workspace's first credit read or spend; until then it
    is counted here as if granted, so admins see what the user will see.
    """
    month = utcnow().strftime("%Y-%m")
    held = {a.workspace_id: a.balance for a in session.exec(
        select(CreditAccount).where(col(CreditAccount.workspace_id).in_(workspace_ids))).all()}
    granted = set(session.exec(select(CreditEntry.reference).where(
        col(CreditEntry.reference).in_([f"allowance:{u}:{month}" for u in workspace_ids]))).all())
    personal = set(session.exec(select(Workspace.id).where(col(Workspace.id).in_(workspace_ids),
                                                          Workspace.kind == "personal")).all())
    allowance = get_settings().monthly_free_credits
    return {u: held.get(u, 0) + (0 if f"allowance:{u}:{month}" in granted or u not in personal else allowance)
            for u in workspace_ids}


def history(*, session: Session, workspace_id: int, limit: int = 50, offset: int = 0) -> tuple[list[CreditEntry], int]:
    rows = session.exec(select(CreditEntry).where(CreditEntry.workspace_id == workspace_id)
                        .order_by(col(CreditEntry.id).desc()).limit(limit).offset(offset)).all()
    total = session.exec(select(func.count()).select_from(CreditEntry)
                         .where(CreditEntry.workspace_id == workspace_id)).one()
    return list(rows), total
