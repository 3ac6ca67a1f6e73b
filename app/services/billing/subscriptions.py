"""Subscription events: the row a subscription keeps, its paid invoices (the plan's monthly credits, keyed by the
invoice) and its status, which only moves forward in Stripe's time.

A renewal (`subscription_cycle` invoice) moves the subscription to its plan's latest version; when that version
sells at another Stripe price, the Stripe subscription's item is moved to it too (no proration: the new price
applies from the next period), so what Stripe charges follows the terms Atelier grants.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import stripe
from sqlmodel import Session, col, select

from app.models import Plan, PlanVersion, Subscription, utcnow
from app.services.billing import client
from app.services.billing.planning import Planned, RetryLater, Unapplicable, apply_planned, to_int, workspace_of

log = logging.getLogger(__name__)


def latest_version(session: Session, plan_id: int) -> PlanVersion | None:
    return session.exec(select(PlanVersion).where(PlanVersion.plan_id == plan_id)
                        .order_by(col(PlanVersion.version).desc())).first()


def subscription_row(session: Session, sub_id: str, metadata: dict[str, Any], reference: Any = None) -> Subscription:
    row = session.exec(select(Subscription).where(Subscription.stripe_subscription_id == sub_id)).first()
    if row is not None:
        return row
    key = f"subscription:{sub_id}"
    workspace_id = workspace_of(session, metadata, reference, key)
    plan = session.get(Plan, to_int(metadata.get("plan_id")) or 0)
    version = session.get(PlanVersion, to_int(metadata.get("plan_version_id")) or 0)
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


def follow_price(sub_id: str, version: PlanVersion) -> str:
    """Move the Stripe subscription's item to the version's price unless it is there already; what was done.
    Raises RetryLater when Stripe does not answer (the renewal is then applied when Stripe delivers it again;
    the idempotency key makes a repeated change one change)."""
    api = client.stripe_client().v1
    try:
        items = api.subscriptions.retrieve(sub_id).to_dict().get("items", {}).get("data") or []
        if not items:
            return "the Stripe subscription has no item to move"
        item = items[0]
        if (item.get("price") or {}).get("id") == version.stripe_price_id:
            return f"price {version.stripe_price_id} already"
        api.subscriptions.update(sub_id, params={
            "items": [{"id": item["id"], "price": version.stripe_price_id}], "proration_behavior": "none"},
            options={"idempotency_key": f"atelier-renewal-{sub_id}-version-{version.id}"})
    except stripe.StripeError as exc:
        log.warning("moving subscription %s to price %s failed: %s", sub_id, version.stripe_price_id,
                    type(exc).__name__)
        raise RetryLater(f"Stripe did not move subscription {sub_id} to price {version.stripe_price_id} "
                         f"({type(exc).__name__})") from None
    return f"price moved to {version.stripe_price_id}"


def plan_invoice(session: Session, obj: dict[str, Any], *, move_version: bool) -> list[Planned]:
    """A paid subscription invoice: the plan's monthly credits, keyed by the invoice. A renewal
    (`subscription_cycle`) first moves the subscription to its plan's latest version (and Stripe's price with
    it, see follow_price)."""
    sub_id, metadata = _invoice_subscription(obj)
    if not sub_id or obj.get("status") not in ("paid", None):
        return []
    row = subscription_row(session, sub_id, metadata)
    version = session.get(PlanVersion, row.plan_version_id)
    if move_version and obj.get("billing_reason") == "subscription_cycle":
        latest = latest_version(session, row.plan_id)
        if latest is not None and latest.id != row.plan_version_id:
            if latest.stripe_price_id and latest.stripe_price_id != version.stripe_price_id:
                log.info("subscription %s renews on version %s: %s", sub_id, latest.version,
                         follow_price(sub_id, latest))
            row.plan_version_id, row.updated_at = latest.id, utcnow()
            session.add(row)
            version = latest
    return [Planned(f"invoice:{obj['id']}", "plan_credits", row.workspace_id, version.monthly_credits,
                    to_int(obj.get("amount_paid")) or 0, obj.get("currency") or version.currency,
                    _invoice_payment_intent(obj))]


def invoice_paid(session: Session, event: dict[str, Any]) -> tuple[str, str]:
    planned = plan_invoice(session, event["data"]["object"], move_version=True)
    return apply_planned(session, event, planned) if planned else ("ignored", "not a paid subscription invoice")


_TYPE_RANK = {"customer.subscription.created": 0, "customer.subscription.updated": 1,
              "customer.subscription.deleted": 2}


def subscription_changed(session: Session, event: dict[str, Any]) -> tuple[str, str]:
    obj = event["data"]["object"]
    row = subscription_row(session, obj["id"], obj.get("metadata") or {})
    at = datetime.fromtimestamp(event["created"], UTC)
    seen = row.status_at.replace(tzinfo=UTC) if row.status_at and row.status_at.tzinfo is None else row.status_at
    # Status only moves forward in Stripe's time. Within one second, a creation never overrides, and
    # nothing brings back a canceled subscription.
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
        # A plan change (e.g. in the customer portal): the newest version that sells at this price. Never an
        # older version of the same plan: that is a late event from before a renewal moved the price on.
        switched = session.exec(select(PlanVersion).where(PlanVersion.stripe_price_id == price)
                                .order_by(col(PlanVersion.version).desc())).first()
        if switched is not None and (switched.plan_id != current.plan_id or switched.version > current.version):
            row.plan_id, row.plan_version_id = switched.plan_id, switched.id
    session.add(row)
    return "applied", f"subscription {obj['id']} {status}"
