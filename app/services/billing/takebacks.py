"""Money going back: refunds and disputes take a payment's credits back, a won dispute gives them back.

Each take-back moves the payment's credits to a target, so the result does not depend on the order Stripe's
events arrive in: while a dispute is open (or lost) the target is all of the payment's credits; otherwise it is
floor(C · refunded / A) for C credits bought for A cents, over the refunds applied so far. A refund takes
what brings the payment to its target (so several partial refunds take exactly their share in all), a dispute
takes the rest, and a won dispute (`dispute_won:<dispute>`) gives back what takes the payment from "all" down to
the refunds' share — what the dispute took, unless refunds came in meanwhile. A lost one changes nothing more.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, NoReturn

from sqlmodel import Session, col, select

from app.models import BillingEffect
from app.services.billing import client, effects
from app.services.billing.planning import (
    PAYMENT_KINDS,
    Planned,
    RetryLater,
    Unapplicable,
    apply_planned,
    to_int,
)

ADJUSTMENT_KINDS = ("refund", "dispute", "dispute_won")
# Stripe retries a failed delivery for up to three days; a take-back whose payment is still unknown after
# that is not waiting for anything (a payment made outside Atelier): it is recorded instead.
RETRY_WINDOW_SECONDS = 3 * 86400


def payment_effect(session: Session, payment_intent: str) -> BillingEffect | None:
    return session.exec(select(BillingEffect).where(BillingEffect.stripe_object_id == payment_intent,
                                                    col(BillingEffect.kind).in_(PAYMENT_KINDS))).first()


@dataclass(frozen=True)
class Adjusted:
    """Where a payment's credits stand after the take-backs applied so far (leaving one key out)."""

    taken: int  # credits taken back in all, net of what won disputes gave back
    refunded_cents: int
    open_disputes: frozenset[str]  # dispute ids applied and not (yet) won


def adjusted(session: Session, payment_intent: str, *, but: str = "") -> Adjusted:
    rows = session.exec(select(BillingEffect.kind, BillingEffect.business_key, BillingEffect.credits,
                               BillingEffect.amount_cents).where(
        BillingEffect.stripe_object_id == payment_intent, col(BillingEffect.kind).in_(ADJUSTMENT_KINDS),
        BillingEffect.business_key != but)).all()
    disputes = {key.partition(":")[2] for kind, key, _, _ in rows if kind == "dispute"}
    won = {key.partition(":")[2] for kind, key, _, _ in rows if kind == "dispute_won"}
    return Adjusted(taken=-sum(credits for _, _, credits, _ in rows),
                    refunded_cents=sum(cents for kind, _, _, cents in rows if kind == "refund"),
                    open_disputes=frozenset(disputes - won))


def _target(paid: BillingEffect, total_cents: int, refunded_cents: int, disputed: bool) -> int:
    """Credits the payment should have lost: all while disputed, else the refunded share (rounded down)."""
    if disputed:
        return paid.credits
    total = max(total_cents, 1)
    return paid.credits * min(refunded_cents, total) // total


def _paid(session: Session, payment_intent: str | None, created: int | None) -> BillingEffect:
    """The payment effect a refund or dispute takes credits back from."""
    paid = payment_effect(session, payment_intent) if payment_intent else None
    if paid is None and payment_intent:
        # A subscription invoice's effect is keyed by the invoice; webhooks do not include the invoice's
        # payments, so ask which invoice this payment intent paid.
        listed = client.stripe_client().v1.invoice_payments.list(
            {"payment": {"type": "payment_intent", "payment_intent": payment_intent}, "limit": 10})
        for row in listed.data:
            invoice = row.invoice if isinstance(row.invoice, str) else row.invoice.id
            paid = paid or effects.effect_for(session=session, business_key=f"invoice:{invoice}")
    if paid is None:
        _wait_or_give_up(created, f"payment {payment_intent} is not applied yet", "unknown_payment",
                         f"payment {payment_intent} was never applied in Atelier", f"payment:{payment_intent}")
    return paid


def _wait_or_give_up(created: int | None, waiting: str, kind: str, detail: str, key: str) -> NoReturn:
    """RetryLater while Stripe may still deliver what this event waits for; after its retry window, Unapplicable."""
    if created is not None and time.time() - created > RETRY_WINDOW_SECONDS:
        raise Unapplicable(kind, detail, key)
    raise RetryLater(waiting)


def _refunds_of(charge: dict[str, Any]) -> list[dict[str, Any]]:
    listed = charge.get("refunds")
    if isinstance(listed, dict) and not listed.get("has_more"):
        refunds = listed.get("data") or []
    else:  # not in the event since API 2022-11-15: ask Stripe
        refunds = [r.to_dict() for r in client.stripe_client().v1.refunds.list(
            {"charge": charge["id"], "limit": 100}).auto_paging_iter()]
    return sorted((r for r in refunds if r.get("status") in ("succeeded", "pending")),
                  key=lambda r: (r.get("created") or 0, r["id"]))


def plan_refund(session: Session, paid: BillingEffect, charge: dict[str, Any], refund: dict[str, Any]) -> Planned:
    """Credits back pro rata: after this refund, the payment has lost floor(C · refunded / A) in all (all of
    them while a dispute is open), whatever order the refunds arrive in."""
    key = f"refund:{refund['id']}"
    now = adjusted(session, paid.stripe_object_id, but=key)
    cents = to_int(refund.get("amount")) or 0
    total = to_int(charge.get("amount")) or paid.amount_cents or 1
    target = _target(paid, total, now.refunded_cents + cents, bool(now.open_disputes))
    return Planned(key, "refund", paid.workspace_id, -max(0, target - now.taken), cents,
                   refund.get("currency") or paid.currency, paid.stripe_object_id)


def plan_refunds(session: Session, charge: dict[str, Any]) -> list[Planned]:
    paid = _paid(session, charge.get("payment_intent"), charge.get("created"))
    return [plan_refund(session, paid, charge, refund) for refund in _refunds_of(charge)]


def _dispute_payment(session: Session, dispute: dict[str, Any]) -> BillingEffect:
    pi = dispute.get("payment_intent")
    return _paid(session, pi if isinstance(pi, str) else (pi or {}).get("id"), dispute.get("created"))


def plan_dispute(session: Session, dispute: dict[str, Any]) -> list[Planned]:
    """A dispute takes back what is left of the payment's credits (a refund may have taken some)."""
    paid = _dispute_payment(session, dispute)
    key = f"dispute:{dispute['id']}"
    now = adjusted(session, paid.stripe_object_id, but=key)
    return [Planned(key, "dispute", paid.workspace_id, -max(0, paid.credits - now.taken),
                    to_int(dispute.get("amount")) or 0, dispute.get("currency") or paid.currency,
                    paid.stripe_object_id)]


def plan_dispute_closed(session: Session, dispute: dict[str, Any]) -> list[Planned]:
    """A won dispute gives back what the dispute took (down to the refunds' share); lost or a closed inquiry:
    nothing. Waits (RetryLater) for the dispute's own effect when it arrives first."""
    if dispute.get("status") != "won":
        return []
    paid = _dispute_payment(session, dispute)
    if effects.effect_for(session=session, business_key=f"dispute:{dispute['id']}") is None:
        _wait_or_give_up(dispute.get("created"), f"dispute {dispute['id']} is not applied yet", "unknown_dispute",
                         f"dispute {dispute['id']} was never applied in Atelier", f"dispute:{dispute['id']}")
    key = f"dispute_won:{dispute['id']}"
    now = adjusted(session, paid.stripe_object_id, but=key)
    still_open = now.open_disputes - {dispute["id"]}
    total = paid.amount_cents or to_int(dispute.get("amount")) or 1
    target = _target(paid, total, now.refunded_cents, bool(still_open))
    return [Planned(key, "dispute_won", paid.workspace_id, max(0, now.taken - target),
                    to_int(dispute.get("amount")) or 0, dispute.get("currency") or paid.currency,
                    paid.stripe_object_id)]


def refunded(session: Session, event: dict[str, Any]) -> tuple[str, str]:
    charge = event["data"]["object"]
    paid = _paid(session, charge.get("payment_intent"), charge.get("created"))
    done = []
    for refund in _refunds_of(charge):  # one at a time: each share depends on those applied before it
        done.append(apply_planned(session, event, [plan_refund(session, paid, charge, refund)])[1])
    return "applied", "; ".join(done) or "no refund to apply"


def disputed(session: Session, event: dict[str, Any]) -> tuple[str, str]:
    return apply_planned(session, event, plan_dispute(session, event["data"]["object"]))


def dispute_closed(session: Session, event: dict[str, Any]) -> tuple[str, str]:
    dispute = event["data"]["object"]
    planned = plan_dispute_closed(session, dispute)
    if not planned:
        return "applied", f"dispute {dispute.get('id')} closed {dispute.get('status')}: the credits stay taken"
    return apply_planned(session, event, planned)
