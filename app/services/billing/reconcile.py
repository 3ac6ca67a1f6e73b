"""Reconciliation: page through Stripe's events since the cursor and prove every payment effect is in the
ledger exactly once with the right credits.

- An event the webhook never delivered is applied now through the same code (its effects are keyed by
  business key, so this can never count twice) and recorded as a `missing_delivery` issue, resolved.
- A payment event whose effect is missing, or carries other credits than the event asks for, is an issue.
- Every effect must have exactly one ledger row `stripe:<business_key>` whose amount is what reached the
  balance; a ledger row under `stripe:` with no effect, or two payment effects for one payment, are issues.
Each new issue is emailed to the instance admins once. Admin pages read `list_issues` and `payments`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import literal
from sqlmodel import Session, col, func, select

from app.db import session_scope
from app.models import (
    BillingEffect,
    BillingIssue,
    BillingState,
    CreditEntry,
    OutboxStatus,
    StripeEvent,
    User,
    Workspace,
    utcnow,
)
from app.services import mail
from app.services.billing import client, effects, webhooks
from app.services.billing.handlers import PAYMENT_KINDS, RetryLater, Unapplicable, planned_effects

log = logging.getLogger(__name__)

CURSOR_KEY = "events_cursor"
# Events are re-read from this many seconds before the cursor: several share a second, and a page boundary
# may split them. Re-reading is harmless (events and effects are stored once).
OVERLAP_SECONDS = 300
PAGE = 100


def _cursor(session: Session) -> int:
    row = session.get(BillingState, CURSOR_KEY)
    return int(row.value) if row and row.value.isdigit() else 0


def _set_cursor(session: Session, value: int) -> None:
    row = session.get(BillingState, CURSOR_KEY) or BillingState(key=CURSOR_KEY)
    row.value, row.updated_at = str(value), utcnow()
    session.add(row)


def _issue(session: Session, kind: str, business_key: str, detail: str, *, resolved: bool = False) -> bool:
    """Record an issue unless the same one is still open (or, for a resolved kind, was ever recorded)."""
    query = select(BillingIssue.id).where(BillingIssue.kind == kind, BillingIssue.business_key == business_key[:160])
    if not resolved:
        query = query.where(col(BillingIssue.resolved_at).is_(None))
    if session.exec(query).first() is not None:
        return False
    session.add(BillingIssue(kind=kind, business_key=business_key[:160], detail=detail[:500],
                             resolved_at=utcnow() if resolved else None))
    session.flush()
    return True


def _fetch_events(since: int) -> list[dict]:
    """Stripe's events created at or after `since`, oldest first (the API lists newest first)."""
    listing = client.stripe_client().v1.events.list({"created": {"gte": since}, "limit": PAGE})
    return [e.to_dict() for e in listing.auto_paging_iter()][::-1]


def _check_event(session: Session, event: dict, new: list[str]) -> None:
    try:
        planned = planned_effects(session, event)
    except (RetryLater, Unapplicable):
        return  # an event that cannot apply is already an issue (Unapplicable) or waits (RetryLater)
    for p in planned:
        found = effects.effect_for(session=session, business_key=p.business_key)
        if found is None:
            if _issue(session, "missing_effect", p.business_key, f"{event['type']} {event['id']} asks for "
                      f"{p.credits:+d} credits; the ledger has nothing"):
                new.append(f"missing_effect {p.business_key}")
        elif p.kind in PAYMENT_KINDS and found.credits != p.credits and _issue(
                session, "amount_mismatch", p.business_key,
                f"{event['type']} {event['id']} asks for {p.credits:+d} credits; the effect has {found.credits:+d}"):
            new.append(f"amount_mismatch {p.business_key}")


def _check_ledger(session: Session, new: list[str]) -> None:
    reference = literal(effects.LEDGER_PREFIX) + BillingEffect.business_key
    rows = session.exec(select(BillingEffect, CreditEntry).join(
        CreditEntry, col(CreditEntry.reference) == reference, isouter=True)).all()
    for effect, entry in rows:
        if entry is None:
            problem, detail = "missing_effect", "the effect has no ledger row"
        elif entry.amount != effect.applied_credits or entry.workspace_id != effect.workspace_id:
            problem, detail = "amount_mismatch", (f"the ledger row says {entry.amount:+d} for workspace "
                                                  f"{entry.workspace_id}; the effect applied "
                                                  f"{effect.applied_credits:+d} to {effect.workspace_id}")
        elif effect.credits != effect.applied_credits - effect.shortfall:
            problem, detail = "amount_mismatch", (f"the effect asks {effect.credits:+d} but applied "
                                                  f"{effect.applied_credits:+d} with shortfall {effect.shortfall}")
        else:
            continue
        if _issue(session, problem, effect.business_key, detail):
            new.append(f"{problem} {effect.business_key}")
    orphans = session.exec(select(CreditEntry).where(
        col(CreditEntry.reference).startswith(effects.LEDGER_PREFIX),
        ~select(BillingEffect.id).where(reference == CreditEntry.reference).exists())).all()
    for entry in orphans:
        if _issue(session, "duplicate_effect", entry.reference[len(effects.LEDGER_PREFIX):],
                  f"ledger row {entry.id} ({entry.amount:+d}) has no billing effect"):
            new.append(f"duplicate_effect {entry.reference}")
    doubled = session.exec(select(BillingEffect.stripe_object_id, BillingEffect.kind, func.count()).where(
        col(BillingEffect.kind).in_(PAYMENT_KINDS)).group_by(BillingEffect.stripe_object_id, BillingEffect.kind)
        .having(func.count() > 1)).all()
    for payment, kind, count in doubled:
        if _issue(session, "duplicate_effect", f"{kind}:{payment}", f"{count} {kind} effects for payment {payment}"):
            new.append(f"duplicate_effect {kind}:{payment}")


def _email_admins(session: Session, new: list[str]) -> None:
    admins = session.exec(select(User.email).where(User.role == "admin", col(User.is_active).is_(True))).all()
    body = ("Billing reconciliation found what Stripe and the credits ledger disagree on:\n\n"
            + "\n".join(f"- {line}" for line in new) + "\n\nDetails are on Admin → Billing.\n")
    for to in admins:
        row = mail.write_outbox(session=session, to=to, subject=f"Billing: {len(new)} new reconciliation issue(s)",
                                body=body)
        if row.status == OutboxStatus.PENDING:
            session.info.setdefault(effects.RECEIPTS_KEY, []).append(row.id)


def _reconcile_event(event: dict, applied: list[str], new: list[str]) -> list[int]:
    """Apply one listed event if the webhook never did, then check its effects; the receipts to queue."""
    with session_scope() as session:
        if session.get(StripeEvent, event["id"]) is None:
            outcome = webhooks.process_event(session=session, event=event)
            if outcome == "applied":
                applied.append(event["id"])
                if planned_effects(session, event) and _issue(
                        session, "missing_delivery", event["id"], f"{event['type']} never arrived by webhook; "
                        "applied by reconciliation", resolved=True):
                    new.append(f"missing_delivery {event['type']} {event['id']} (applied now)")
        _check_event(session, event, new)
        return effects.take_receipts(session)


def reconcile() -> dict[str, object]:
    """One pass; what it did. Safe to run at any time, on any worker (everything it writes is keyed)."""
    if not client.enabled():
        return {"skipped": "billing is off"}
    with session_scope() as session:
        cursor = _cursor(session)
    events = _fetch_events(max(0, cursor - OVERLAP_SECONDS))
    applied, waiting, new, outbox = [], [], [], []
    newest = cursor
    for event in events:
        try:
            outbox += _reconcile_event(event, applied, new)
        except RetryLater as exc:
            waiting.append(event["created"])
            log.info("reconcile: %s waits: %s", event["id"], exc.detail)
            continue
        except webhooks.DuplicateDelivery:
            pass  # the webhook delivered it meanwhile: checked on the next pass
        newest = max(newest, event["created"])
    with session_scope() as session:
        _check_ledger(session, new)
        # Not past an event still waiting for its payment: the next pass reads it again.
        _set_cursor(session, min([newest, *[t - 1 for t in waiting]]))
        if new:
            _email_admins(session, new)
        outbox += effects.take_receipts(session)
    effects.queue_receipts(outbox)
    return {"events": len(events), "applied": applied, "waiting": len(waiting), "issues": new}


# --- for the admin page ---------------------------------------------------------------------------------------

def list_issues(session: Session, limit: int = 100) -> list[BillingIssue]:
    """Open issues first, newest first."""
    return list(session.exec(select(BillingIssue).order_by(col(BillingIssue.resolved_at).is_not(None),
                                                           col(BillingIssue.id).desc()).limit(limit)).all())


@dataclass(frozen=True)
class PaymentRow:
    id: int
    kind: str  # pack | plan_credits | topup | refund | dispute
    workspace_id: int
    workspace_name: str
    credits: int
    applied_credits: int
    shortfall: int
    amount_cents: int
    currency: str
    business_key: str
    stripe_object_id: str
    created_at: datetime


def payments(session: Session, limit: int = 50, offset: int = 0) -> list[PaymentRow]:
    """Money effects (payments, refunds, disputes), newest first, with their workspace's name."""
    rows = session.exec(select(BillingEffect, Workspace.name).join(
        Workspace, col(Workspace.id) == col(BillingEffect.workspace_id))
        .order_by(col(BillingEffect.id).desc()).limit(limit).offset(offset)).all()
    return [PaymentRow(e.id, e.kind, e.workspace_id, name, e.credits, e.applied_credits, e.shortfall, e.amount_cents,
                       e.currency, e.business_key, e.stripe_object_id, e.created_at) for e, name in rows]


def payments_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(BillingEffect)).one()
