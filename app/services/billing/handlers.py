"""What each Stripe event means for Atelier. Payment events first *plan* their effects (business key,
workspace, credits) and then apply them through effects.apply_effect; reconciliation asks for the same
plans to prove the ledger holds each one exactly once.

The workspace comes from what checkout set (the contract with the Billing page): `client_reference_id =
str(workspace_id)` and `metadata = {"workspace_id", "kind": "pack" | "plan" | "topup", "pack_id" |
"plan_id" + "plan_version_id"}`, also on `subscription_data.metadata` (and so on each invoice's
`parent.subscription_details.metadata`) and on a top-up's payment intent.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, func, select

from app.models import BillingCustomer, BillingEffect, CreditPack, Plan, PlanVersion, Subscription, Workspace, utcnow
from app.services.billing import client, effects

PAYMENT_KINDS = ("pack", "plan_credits", "topup")
TAKE_BACK_KINDS = ("refund", "dispute")


class RetryLater(Exception):  # answered 503, so Stripe delivers it again
    """The event refers to a payment not applied yet (a refund delivered before its payment)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class Unapplicable(Exception):  # the event is kept as failed, with a BillingIssue
    def __init__(self, kind: str, detail: str, business_key: str = "") -> None:
        super().__init__(detail)
        self.kind, self.detail, self.business_key = kind, detail, business_key


@dataclass(frozen=True)
class Planned:
    business_key: str
    kind: str
    workspace_id: int
    credits: int
    amount_cents: int
    currency: str
    stripe_object_id: str


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _workspace(session: Session, metadata: dict[str, Any], reference: Any = None, key: str = "") -> int:
    workspace_id = _int((metadata or {}).get("workspace_id")) or _int(reference)
    if workspace_id is None or session.get(Workspace, workspace_id) is None:
        raise Unapplicable("unknown_workspace", f"no workspace {workspace_id if workspace_id else '(none named)'}",
                           key)
    return workspace_id


def _pack(session: Session, metadata: dict[str, Any], key: str) -> CreditPack:
    pack = session.get(CreditPack, _int((metadata or {}).get("pack_id")) or 0)
    if pack is None:
        raise Unapplicable("unknown_pack", f"no credit pack {(metadata or {}).get('pack_id')!r}", key)
    return pack


def _apply(session: Session, event: dict[str, Any], planned: list[Planned]) -> tuple[str, str]:
    done = []
    for p in planned:
        applied = effects.apply_effect(session=session, business_key=p.business_key, kind=p.kind,
                                       workspace_id=p.workspace_id, credits=p.credits, event_id=event["id"],
                                       amount_cents=p.amount_cents, currency=p.currency,
                                       stripe_object_id=p.stripe_object_id)
        done.append(f"{p.business_key} {p.credits:+d}" if applied else f"{p.business_key} already applied")
    return "applied", "; ".join(done) or "nothing to apply"


# --- one-off payments -----------------------------------------------------------------------------------------

def plan_checkout_payment(session: Session, obj: dict[str, Any]) -> list[Planned]:
    """A paid Checkout Session in payment mode: the pack's credits, keyed by its payment intent."""
    if obj.get("mode") != "payment" or obj.get("payment_status") != "paid":
        return []
    pi = obj.get("payment_intent") or obj["id"]
    key = f"pack:{pi}"
    metadata = obj.get("metadata") or {}
    workspace_id = _workspace(session, metadata, obj.get("client_reference_id"), key)
    pack = _pack(session, metadata, key)
    return [Planned(key, "pack", workspace_id, pack.credits, _int(obj.get("amount_total")) or 0,
                    obj.get("currency") or pack.currency, pi)]


def plan_topup(session: Session, obj: dict[str, Any]) -> list[Planned]:
    metadata = obj.get("metadata") or {}
    if metadata.get("kind") != "topup" or obj.get("status") != "succeeded":
        return []
    key = f"topup:{obj['id']}"
    workspace_id = _workspace(session, metadata, None, key)
    pack = _pack(session, metadata, key)
    return [Planned(key, "topup", workspace_id, pack.credits, _int(obj.get("amount")) or 0,
                    obj.get("currency") or pack.currency, obj["id"])]


def _checkout_completed(session: Session, event: dict[str, Any]) -> tuple[str, str]:
    obj = event["data"]["object"]
    metadata = obj.get("metadata") or {}
    if obj.get("customer"):
        _remember_customer(session, obj, metadata)
    if obj.get("mode") == "subscription":
        if obj.get("subscription"):
            _subscription_row(session, obj["subscription"], metadata, obj.get("client_reference_id"))
        return "applied", "subscription started (credits come with its paid invoice)"
    if obj.get("payment_status") != "paid":
        return "applied", f"payment {obj.get('payment_status')}: waiting for the async payment"
    return _apply(session, event, plan_checkout_payment(session, obj))


def _async_succeeded(session: Session, event: dict[str, Any]) -> tuple[str, str]:
    return _apply(session, event, plan_checkout_payment(session, event["data"]["object"]))


def _async_failed(session: Session, event: dict[str, Any]) -> tuple[str, str]:
    return "applied", "the async payment failed: no credits"


def _topup(session: Session, event: dict[str, Any]) -> tuple[str, str]:
    planned = plan_topup(session, event["data"]["object"])
    return _apply(session, event, planned) if planned else ("ignored", "not an automatic top-up")


def _remember_customer(session: Session, obj: dict[str, Any], metadata: dict[str, Any]) -> None:
    workspace_id = _int(metadata.get("workspace_id")) or _int(obj.get("client_reference_id"))
    if workspace_id and session.get(Workspace, workspace_id) and session.get(BillingCustomer, workspace_id) is None:
        taken = session.exec(select(BillingCustomer).where(
            BillingCustomer.stripe_customer_id == obj["customer"])).first()
        if taken is None:
            email = (obj.get("customer_details") or {}).get("email") or obj.get("customer_email") or ""
            session.add(BillingCustomer(workspace_id=workspace_id, stripe_customer_id=obj["customer"],
                                        email=email[:254]))
            session.flush()


# --- subscriptions --------------------------------------------------------------------------------------------

def latest_version(session: Session, plan_id: int) -> PlanVersion | None:
    return session.exec(select(PlanVersion).where(PlanVersion.plan_id == plan_id)
                        .order_by(col(PlanVersion.version).desc())).first()


def _subscription_row(session: Session, sub_id: str, metadata: dict[str, Any], reference: Any = None) -> Subscription:
    row = session.exec(select(Subscription).where(Subscription.stripe_subscription_id == sub_id)).first()
    if row is not None:
        return row
    key = f"subscription:{sub_id}"
    workspace_id = _workspace(session, metadata, reference, key)
    plan = session.get(Plan, _int(metadata.get("plan_id")) or 0)
    version = session.get(PlanVersion, _int(metadata.get("plan_version_id")) or 0)
    if plan is None or version is None or version.plan_id != plan.id:
        raise Unapplicable("unknown_plan", f"no plan {metadata.get('plan_id')!r} version "
                                           f"{metadata.get('plan_version_id')!r}", key)
    row = Subscription(workspace_id=workspace_id, stripe_subscription_id=sub_id, plan_id=plan.id,
                       plan_version_id=version.id)
    session.add(row)
    session.flush()
    return row


def _invoice_subscription(obj: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    details = ((obj.get("parent") or {}).get("subscription_details") or {})
    sub = details.get("subscription") or obj.get("subscription")
    return (sub if isinstance(sub, str) else (sub or {}).get("id")), details.get("metadata") or {}


def _invoice_payment_intent(obj: dict[str, Any]) -> str:
    for payment in ((obj.get("payments") or {}).get("data") or []):
        pi = (payment.get("payment") or {}).get("payment_intent")
        if pi:
            return pi if isinstance(pi, str) else pi.get("id", "")
    return obj.get("payment_intent") or obj["id"]


def plan_invoice(session: Session, obj: dict[str, Any], *, move_version: bool) -> list[Planned]:
    """A paid subscription invoice: the plan's monthly credits, keyed by the invoice. A renewal
    (`subscription_cycle`) first moves the subscription to its plan's latest version."""
    sub_id, metadata = _invoice_subscription(obj)
    if not sub_id or obj.get("status") not in ("paid", None):
        return []
    row = _subscription_row(session, sub_id, metadata)
    if move_version and obj.get("billing_reason") == "subscription_cycle":
        latest = latest_version(session, row.plan_id)
        if latest is not None and latest.id != row.plan_version_id:
            row.plan_version_id, row.updated_at = latest.id, utcnow()
            session.add(row)
    version = session.get(PlanVersion, row.plan_version_id)
    return [Planned(f"invoice:{obj['id']}", "plan_credits", row.workspace_id, version.monthly_credits,
                    _int(obj.get("amount_paid")) or 0, obj.get("currency") or version.currency,
                    _invoice_payment_intent(obj))]


def _invoice_paid(session: Session, event: dict[str, Any]) -> tuple[str, str]:
    planned = plan_invoice(session, event["data"]["object"], move_version=True)
    return _apply(session, event, planned) if planned else ("ignored", "not a paid subscription invoice")


_TYPE_RANK = {"customer.subscription.created": 0, "customer.subscription.updated": 1,
              "customer.subscription.deleted": 2}


def _subscription_changed(session: Session, event: dict[str, Any]) -> tuple[str, str]:
    obj = event["data"]["object"]
    row = _subscription_row(session, obj["id"], obj.get("metadata") or {})
    at = datetime.fromtimestamp(event["created"], UTC)
    seen = row.status_at.replace(tzinfo=UTC) if row.status_at and row.status_at.tzinfo is None else row.status_at
    # Status only moves forward in Stripe's time. Within one second, a creation never overrides, and
    # nothing brings back a cancelled subscription.
    if seen is not None and (at < seen or (at == seen and (_TYPE_RANK[event["type"]] == 0
                                                           or row.status == "canceled"))):
        return "ignored", f"older than the status it would change ({row.status} at {seen.isoformat()})"
    status = "canceled" if event["type"] == "customer.subscription.deleted" else str(obj.get("status") or row.status)
    items = (obj.get("items") or {}).get("data") or [{}]
    period_end = items[0].get("current_period_end") or obj.get("current_period_end")
    row.status, row.status_at, row.updated_at = status[:24], at, utcnow()
    row.cancel_at_period_end = bool(obj.get("cancel_at_period_end"))
    if period_end:
        row.current_period_end = datetime.fromtimestamp(int(period_end), UTC)
    price = (items[0].get("price") or {}).get("id")
    current = session.get(PlanVersion, row.plan_version_id)
    if price and current is not None and price != current.stripe_price_id:
        # A plan change (e.g. in the customer portal): the newest version that sells at this price.
        switched = session.exec(select(PlanVersion).where(PlanVersion.stripe_price_id == price)
                                .order_by(col(PlanVersion.version).desc())).first()
        if switched is not None:
            row.plan_id, row.plan_version_id = switched.plan_id, switched.id
    session.add(row)
    return "applied", f"subscription {obj['id']} {status}"


# --- money going back --------------------------------------------------------------------------------------

def payment_effect(session: Session, payment_intent: str) -> BillingEffect | None:
    return session.exec(select(BillingEffect).where(BillingEffect.stripe_object_id == payment_intent,
                                                    col(BillingEffect.kind).in_(PAYMENT_KINDS))).first()


def _taken_back(session: Session, payment_intent: str, *, kinds: tuple[str, ...] = TAKE_BACK_KINDS,
                but: str = "") -> tuple[int, int]:
    """(credits, cents) already taken back from a payment by effects of `kinds`, leaving out `but`."""
    credits, cents = session.exec(select(func.coalesce(func.sum(BillingEffect.credits), 0),
                                         func.coalesce(func.sum(BillingEffect.amount_cents), 0)).where(
        BillingEffect.stripe_object_id == payment_intent, col(BillingEffect.kind).in_(kinds),
        BillingEffect.business_key != but)).one()
    return -credits, cents


# Stripe retries a failed delivery for up to three days; a take-back whose payment is still unknown after
# that is not waiting for anything (a payment made outside Atelier): it is recorded instead.
RETRY_WINDOW_SECONDS = 3 * 86400


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
    if paid is not None:
        return paid
    if created is not None and time.time() - created > RETRY_WINDOW_SECONDS:
        raise Unapplicable("unknown_payment", f"payment {payment_intent} was never applied in Atelier",
                           f"payment:{payment_intent}")
    raise RetryLater(f"payment {payment_intent} is not applied yet")


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
    """Credits back pro rata: after this refund, refunds have taken floor(C · refunded / A) of the payment's
    C credits for A cents in all, whatever order they arrive in (so full refunds take exactly C); never
    more than is left after a dispute or earlier refunds."""
    key = f"refund:{refund['id']}"
    total = _int(charge.get("amount")) or paid.amount_cents or 1
    refunded_credits, refunded_cents = _taken_back(session, paid.stripe_object_id, kinds=("refund",), but=key)
    cents = _int(refund.get("amount")) or 0
    share = paid.credits * min(refunded_cents + cents, total) // total - refunded_credits
    left = paid.credits - _taken_back(session, paid.stripe_object_id, but=key)[0]
    return Planned(key, "refund", paid.workspace_id, -max(0, min(share, left)), cents,
                   refund.get("currency") or paid.currency, paid.stripe_object_id)


def plan_refunds(session: Session, charge: dict[str, Any]) -> list[Planned]:
    paid = _paid(session, charge.get("payment_intent"), charge.get("created"))
    return [plan_refund(session, paid, charge, refund) for refund in _refunds_of(charge)]


def plan_dispute(session: Session, dispute: dict[str, Any]) -> list[Planned]:
    """A dispute takes back what is left of the payment's credits (a refund may have taken some)."""
    pi = dispute.get("payment_intent")
    paid = _paid(session, pi if isinstance(pi, str) else (pi or {}).get("id"), dispute.get("created"))
    key = f"dispute:{dispute['id']}"
    left = paid.credits - _taken_back(session, paid.stripe_object_id, but=key)[0]
    return [Planned(key, "dispute", paid.workspace_id, -max(0, left), _int(dispute.get("amount")) or 0,
                    dispute.get("currency") or paid.currency, paid.stripe_object_id)]


def _refunded(session: Session, event: dict[str, Any]) -> tuple[str, str]:
    charge = event["data"]["object"]
    paid = _paid(session, charge.get("payment_intent"), charge.get("created"))
    done = []
    for refund in _refunds_of(charge):  # one at a time: each share depends on those applied before it
        done.append(_apply(session, event, [plan_refund(session, paid, charge, refund)])[1])
    return "applied", "; ".join(done) or "no refund to apply"


def _disputed(session: Session, event: dict[str, Any]) -> tuple[str, str]:
    return _apply(session, event, plan_dispute(session, event["data"]["object"]))


HANDLERS = {
    "checkout.session.completed": _checkout_completed,
    "checkout.session.async_payment_succeeded": _async_succeeded,
    "checkout.session.async_payment_failed": _async_failed,
    "invoice.paid": _invoice_paid,
    "customer.subscription.created": _subscription_changed,
    "customer.subscription.updated": _subscription_changed,
    "customer.subscription.deleted": _subscription_changed,
    "charge.refunded": _refunded,
    "charge.dispute.created": _disputed,
    "payment_intent.succeeded": _topup,
}


def planned_effects(session: Session, event: dict[str, Any]) -> list[Planned]:
    """The money effects an event asks for (reconciliation's expectation); [] for the others."""
    obj, kind = event["data"]["object"], event["type"]
    if kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
        return plan_checkout_payment(session, obj)
    if kind == "invoice.paid":
        return plan_invoice(session, obj, move_version=False)
    if kind == "payment_intent.succeeded":
        return plan_topup(session, obj)
    if kind == "charge.refunded":
        return plan_refunds(session, obj)
    if kind == "charge.dispute.created":
        return plan_dispute(session, obj)
    return []
