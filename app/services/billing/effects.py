"""Money's effects on credits, exactly once per business key.

Whatever Stripe's delivery does (duplicates, replays, reorders, a reconciliation that finds the same
payment), one business key — a payment intent, an invoice, a refund, a dispute — moves credits once:
the BillingEffect row is unique by it, and its ledger row by `stripe:<business_key>`.

Credits in pay off debt first; credits taken back stop at a zero balance and the rest becomes debt,
which refuses new jobs (credits.reserve) until a later payment covers it. On every effect:
    credits == applied_credits - shortfall     (shortfall < 0: debt this payment paid off)
so a workspace's debt is the sum of its effects' shortfalls, and its ledger rows sum to its balance.
"""

from __future__ import annotations

import logging

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.errors import ValidationFailed
from app.models import BillingEffect, CreditAccount, CreditEntry, Membership, User, Workspace
from app.services import mail
from app.services.credits import _ensure_account

log = logging.getLogger(__name__)

# What each effect is; "purchase" is accepted as another name for a pack bought once.
KINDS = ("pack", "plan_credits", "refund", "dispute", "topup")
ALIASES = {"purchase": "pack"}
# Payments (credits in) that send the owner a receipt.
RECEIPT_KINDS = ("pack", "plan_credits", "topup")
# Outbox ids written in a session, to hand to the mail queue once it commits (see queue_receipts).
RECEIPTS_KEY = "billing_receipts"
LEDGER_PREFIX = "stripe:"


def ledger_reference(business_key: str) -> str:
    return LEDGER_PREFIX + business_key


def apply_effect(*, session: Session, business_key: str, kind: str, workspace_id: int, credits: int,
                 event_id: str = "", amount_cents: int = 0, currency: str = "usd",
                 stripe_object_id: str = "") -> BillingEffect | None:
    """Apply one effect of money on a workspace's credits; None when its business key was applied before.

    Positive credits first pay off the workspace's debt, the rest reaches the balance. Negative credits
    take the balance down to zero at most; what they could not take is the effect's `shortfall`, added
    to the debt. Writes nothing outside the caller's transaction except an outbox receipt (same one).
    """
    kind = ALIASES.get(kind, kind)
    if kind not in KINDS:
        raise ValidationFailed(f"Unknown billing effect {kind!r}; one of {', '.join(KINDS)}.", code="invalid_effect")
    business_key = (business_key or "").strip()
    if not business_key or len(ledger_reference(business_key)) > 128:
        raise ValidationFailed("A billing effect needs a business key of at most 120 characters.",
                               code="invalid_effect")
    if session.get(Workspace, workspace_id) is None:
        raise ValidationFailed(f"No workspace {workspace_id}.", code="unknown_workspace")
    # The account row is locked first (PostgreSQL: FOR UPDATE; SQLite: the write transaction already holds
    # the database), so the split between balance and debt is computed on figures nobody else moves.
    account = _locked_account(session, workspace_id)
    if account is None:  # the workspace's first credits
        _ensure_account(session, workspace_id)
        account = _locked_account(session, workspace_id)
    if credits >= 0:
        paid_debt = min(account.debt, credits)
        applied, shortfall = credits - paid_debt, -paid_debt
    else:
        taken = min(max(account.balance, 0), -credits)
        applied, shortfall = -taken, -credits - taken
    effect = BillingEffect(business_key=business_key, kind=kind, workspace_id=workspace_id, event_id=event_id[:100],
                           credits=credits, applied_credits=applied, shortfall=shortfall, amount_cents=amount_cents,
                           currency=(currency or "usd").lower()[:3], stripe_object_id=stripe_object_id[:100])
    try:
        # The unique business key is the exactly-once guard.
        with session.begin_nested():
            session.add(effect)
            session.flush()
    except IntegrityError:
        session.expire(account)
        return None
    session.execute(update(CreditAccount).where(col(CreditAccount.workspace_id) == workspace_id)
                    .values(balance=CreditAccount.balance + applied, debt=CreditAccount.debt + shortfall))
    session.add(CreditEntry(workspace_id=workspace_id, kind=kind, amount=applied,
                            reference=ledger_reference(business_key), reason=_reason(kind, credits, shortfall)))
    session.flush()
    session.expire(account)
    if kind in RECEIPT_KINDS and amount_cents > 0:
        _write_receipt(session, effect)
    return effect


def _locked_account(session: Session, workspace_id: int) -> CreditAccount | None:
    return session.exec(select(CreditAccount).where(CreditAccount.workspace_id == workspace_id)
                        .with_for_update().execution_options(populate_existing=True)).first()


def _reason(kind: str, credits: int, shortfall: int) -> str:
    what = {"pack": "Credit pack bought", "plan_credits": "Plan credits for the month", "topup": "Automatic top-up",
            "refund": "Payment refunded: credits taken back", "dispute": "Payment disputed: credits taken back"}[kind]
    if shortfall > 0:
        return f"{what} ({shortfall} could not be taken: recorded as debt)"
    if shortfall < 0:
        return f"{what} ({-shortfall} paid off debt)"
    return what


def owner_email(session: Session, workspace_id: int) -> str:
    """The first owner's address (the workspace's creator when it is still an owner)."""
    rows = session.exec(select(User.email, User.id).join(Membership, col(Membership.user_id) == col(User.id))
                        .where(Membership.workspace_id == workspace_id, Membership.role == "owner",
                               col(User.is_active).is_(True))
                        .order_by(col(Membership.created_at), col(User.id))).all()
    return rows[0][0] if rows else ""


def _write_receipt(session: Session, effect: BillingEffect) -> None:
    to = owner_email(session, effect.workspace_id)
    if not to:
        log.warning("billing receipt for %s not sent: workspace %s has no owner", effect.business_key,
                    effect.workspace_id)
        return
    workspace = session.get(Workspace, effect.workspace_id)
    amount = f"{effect.amount_cents / 100:.2f} {effect.currency.upper()}"
    what = {"pack": "a credit pack", "plan_credits": "your plan", "topup": "an automatic top-up"}[effect.kind]
    body = (f"Thank you. We received {amount} for {what} in the workspace \"{workspace.name}\".\n\n"
            f"Credits added: {effect.credits}\n"
            + (f"Of those, {-effect.shortfall} paid off what the workspace owed.\n" if effect.shortfall < 0 else "")
            + f"Reference: {effect.stripe_object_id or effect.business_key}\n\n"
            "Stripe's own receipt and invoices are in the billing portal (Billing → Manage payment).\n")
    row = mail.write_outbox(session=session, to=to, subject=f"Receipt: {amount} for {what}", body=body)
    if row.status == "pending":
        session.info.setdefault(RECEIPTS_KEY, []).append(row.id)


def take_receipts(session: Session) -> list[int]:
    """The outbox ids of receipts written in this session, forgotten here; queue them after the commit."""
    return session.info.pop(RECEIPTS_KEY, [])


def queue_receipts(outbox_ids: list[int]) -> None:
    """Hand committed receipts to the mail queue; a failed enqueue leaves them pending for the reaper."""
    from app.queue import enqueue_email_delivery

    for outbox_id in outbox_ids:
        try:
            enqueue_email_delivery(outbox_id)
        except Exception:
            log.exception("could not enqueue billing receipt %s (the reaper will)", outbox_id)


def effect_for(*, session: Session, business_key: str) -> BillingEffect | None:
    return session.exec(select(BillingEffect).where(BillingEffect.business_key == business_key)).first()


def debt(*, session: Session, workspace_id: int) -> int:
    account = session.get(CreditAccount, workspace_id, populate_existing=True)
    return account.debt if account else 0
