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
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam
from sqlmodel import Session, col, select

from app.errors import ValidationFailed
from app.models import BillingCustomer, BillingEffect, CreditAccount, Membership, User, Workspace, utcnow
from app.services import mail
from app.services.billing import effect_rows, sql

log = logging.getLogger(__name__)

# What each effect is; "purchase" is accepted as another name for a pack bought once.
KINDS = ("pack", "plan_credits", "refund", "dispute", "dispute_won", "topup")
ALIASES = {"purchase": "pack"}
# Payments (credits in) that send the owner a receipt.
RECEIPT_KINDS = ("pack", "plan_credits", "topup")
# Outbox ids written in a session, to hand to the mail queue once it commits (see queue_receipts).
RECEIPTS_KEY = "billing_receipts"
LEDGER_PREFIX = "stripe:"


def ledger_reference(business_key: str) -> str:
    return LEDGER_PREFIX + business_key


@dataclass(frozen=True, slots=True)
class Applied:
    """A billing_effect row as apply_effect wrote it."""

    id: int
    business_key: str
    kind: str
    workspace_id: int
    event_id: str
    credits: int
    applied_credits: int
    shortfall: int
    amount_cents: int
    currency: str
    stripe_object_id: str
    created_at: datetime


def apply_effect(*, session: Session, business_key: str, kind: str, workspace_id: int, credits: int,
                 event_id: str = "", amount_cents: int = 0, currency: str = "usd",
                 stripe_object_id: str = "") -> Applied | None:
    """Apply one effect of money on a workspace's credits; None when its business key was applied before.

    Positive credits first pay off the workspace's debt, the rest reaches the balance. Negative credits
    take the balance down to zero at most; what they could not take is the effect's `shortfall`, added
    to the debt. Writes nothing outside the caller's transaction except an outbox receipt (same one).
    Returns what was written (a plain record: building an ORM object costs more than the row's INSERT).
    """
    kind = ALIASES.get(kind, kind)
    if kind not in KINDS:
        raise ValidationFailed(f"Unknown billing effect {kind!r}; one of {', '.join(KINDS)}.", code="invalid_effect")
    business_key = (business_key or "").strip()
    if not business_key or len(ledger_reference(business_key)) > 128:
        raise ValidationFailed("A billing effect needs a business key of at most 120 characters.",
                               code="invalid_effect")
    facts = workspace_facts(session, workspace_id)
    if facts is None:
        raise ValidationFailed(f"No workspace {workspace_id}.", code="unknown_workspace")
    conn = sql.connection(session)
    # The account row is locked first (PostgreSQL: FOR UPDATE; SQLite: the write transaction already holds
    # the database), so the split between balance and debt is computed on figures nobody else moves.
    figures = _locked_figures(conn, workspace_id)
    if figures is None:  # the workspace's first credits
        sql.insert_new(conn, ACCOUNT, {"workspace_id": workspace_id, "balance": 0, "held": 0, "debt": 0})
        figures = _locked_figures(conn, workspace_id)
    balance, debt_now = figures
    if credits >= 0:
        paid_debt = min(debt_now, credits)
        applied, shortfall = credits - paid_debt, -paid_debt
    else:
        taken = min(max(balance, 0), -credits)
        applied, shortfall = -taken, -credits - taken
    created_at = utcnow()
    values = {"business_key": business_key, "kind": kind, "workspace_id": workspace_id, "event_id": event_id[:100],
              "credits": credits, "applied_credits": applied, "shortfall": shortfall, "amount_cents": amount_cents,
              "currency": (currency or "usd").lower()[:3], "stripe_object_id": stripe_object_id[:100],
              "created_at": created_at}
    ledger = {"workspace_id": workspace_id, "kind": kind, "amount": applied,
              "reference": ledger_reference(business_key), "job_id": None,
              "reason": _reason(kind, credits, shortfall), "actor_id": None, "created_at": created_at}
    wants_receipt = kind in RECEIPT_KINDS and amount_cents > 0
    receipt = _receipt(values, facts) if wants_receipt and facts.owner_email else None
    # The unique business key is the exactly-once guard: a second effect for it writes nothing, and then
    # neither the balance nor the ledger moves, and no receipt is written.
    written = effect_rows.write_effect(conn, values, ledger, receipt)
    if written is None:
        return None
    effect_id, outbox_id = written
    _forget_account(session, workspace_id)
    if wants_receipt and receipt is None:
        log.warning("billing receipt for %s not sent: workspace %s has no owner", business_key, workspace_id)
    if receipt is not None and receipt["status"] == "pending":
        session.info.setdefault(RECEIPTS_KEY, []).append(outbox_id)
    return Applied(id=effect_id, **values)


ACCOUNT, EFFECT = CreditAccount.__table__, BillingEffect.__table__
_FIGURES = (select(ACCOUNT.c.balance, ACCOUNT.c.debt).where(ACCOUNT.c.workspace_id == bindparam("ws"))
            .with_for_update())


def _locked_figures(conn: Connection, workspace_id: int) -> tuple[int, int] | None:
    row = conn.execute(_FIGURES, {"ws": workspace_id}).first()
    return (row[0], row[1]) if row else None


def _forget_account(session: Session, workspace_id: int) -> None:
    # The plain UPDATE bypassed the ORM: an account object this session already holds must be read again.
    held = session.identity_map.get(session.identity_key(CreditAccount, workspace_id))
    if held is not None:
        session.expire(held)


def _reason(kind: str, credits: int, shortfall: int) -> str:
    what = {"pack": "Credit pack bought", "plan_credits": "Plan credits for the month", "topup": "Automatic top-up",
            "refund": "Payment refunded: credits taken back", "dispute": "Payment disputed: credits taken back",
            "dispute_won": "Dispute won: credits given back"}[kind]
    if shortfall > 0:
        return f"{what} ({shortfall} could not be taken: recorded as debt)"
    if shortfall < 0:
        return f"{what} ({-shortfall} paid off debt)"
    return what


@dataclass(frozen=True)
class WorkspaceFacts:
    name: str
    owner_email: str  # the first active owner's address ("" when none): receipts go there
    has_customer: bool  # a Stripe Customer is on file (a checkout need not record one)


_OWNER_EMAIL = (select(User.email).join(Membership, col(Membership.user_id) == col(User.id))
                .where(col(Membership.workspace_id) == col(Workspace.id), col(Membership.role) == "owner",
                       col(User.is_active).is_(True))
                .order_by(col(Membership.created_at), col(User.id)).limit(1).correlate(Workspace).scalar_subquery())
_HAS_CUSTOMER = (select(BillingCustomer.workspace_id).where(col(BillingCustomer.workspace_id) == col(Workspace.id))
                 .correlate(Workspace).exists())
_FACTS = select(Workspace.name, _OWNER_EMAIL, _HAS_CUSTOMER).where(col(Workspace.id) == bindparam("ws"))
_FACTS_KEY = "billing_workspaces"


def workspace_facts(session: Session, workspace_id: int) -> WorkspaceFacts | None:
    """A workspace's name, owner's address and whether it has a Stripe Customer, in one read; None when there is
    no such workspace. Kept for the rest of the transaction: a webhook asks in its handler, its effect and its
    receipt."""
    transaction = session.get_transaction()
    kept_for, known = session.info.get(_FACTS_KEY, (None, {}))
    if kept_for is not transaction:
        known = {}
        session.info[_FACTS_KEY] = (transaction, known)
    if workspace_id not in known:
        row = sql.connection(session).execute(_FACTS, {"ws": workspace_id}).first()
        if row is None:
            return None  # not remembered: the workspace may be created later in the transaction
        known[workspace_id] = WorkspaceFacts(row[0], row[1] or "", bool(row[2]))
    return known[workspace_id]


def _receipt(effect: dict, facts: WorkspaceFacts) -> dict:
    """The owner's receipt for a payment effect, as an outbox row (mail.outbox_row)."""
    amount = f"{effect['amount_cents'] / 100:.2f} {effect['currency'].upper()}"
    what = {"pack": "a credit pack", "plan_credits": "your plan", "topup": "an automatic top-up"}[effect["kind"]]
    shortfall = effect["shortfall"]
    body = (f"Thank you. We received {amount} for {what} in the workspace \"{facts.name}\".\n\n"
            f"Credits added: {effect['credits']}\n"
            + (f"Of those, {-shortfall} paid off what the workspace owed.\n" if shortfall < 0 else "")
            + f"Reference: {effect['stripe_object_id'] or effect['business_key']}\n\n"
            "Stripe's own receipt and invoices are in the billing portal (Billing → Manage payment).\n")
    return mail.outbox_row(to=facts.owner_email, subject=f"Receipt: {amount} for {what}", body=body)


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
