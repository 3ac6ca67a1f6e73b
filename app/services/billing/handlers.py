"""What each Stripe event means for Atelier. Payment events first *plan* their effects (business key,
workspace, credits) and then apply them through effects.apply_effect; reconciliation asks for the same
plans to prove the ledger holds each one exactly once. Subscriptions are in subscriptions.py, refunds and
disputes in takebacks.py; one-off payments and the table of handlers are here.

The workspace comes from what checkout set (the contract with the Billing page): `client_reference_id =
str(workspace_id)` and `metadata = {"workspace_id", "kind": "pack" | "plan" | "topup", "pack_id" |
"plan_id" + "plan_version_id"}`, also on `subscription_data.metadata` (and so on each invoice's
`parent.subscription_details.metadata`) and on a top-up's payment intent.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from app.models import BillingCustomer, utcnow
from app.services.billing import effects, sql, subscriptions, takebacks
from app.services.billing.planning import (
    PAYMENT_KINDS,
    Planned,
    RetryLater,
    Unapplicable,
    apply_planned,
    named_workspace,
    pack_of,
    to_int,
    workspace_of,
)

__all__ = ["HANDLERS", "PAYMENT_KINDS", "RetryLater", "Unapplicable", "planned_effects"]


# --- one-off payments -----------------------------------------------------------------------------------------

def plan_checkout_payment(session: Session, obj: dict[str, Any]) -> list[Planned]:
    """A paid Checkout Session in payment mode: the pack's credits, keyed by its payment intent."""
    if obj.get("mode") != "payment" or obj.get("payment_status") != "paid":
        return []
    pi = obj.get("payment_intent") or obj["id"]
    key = f"pack:{pi}"
    metadata = obj.get("metadata") or {}
    workspace_id = workspace_of(session, metadata, obj.get("client_reference_id"), key)
    pack = pack_of(session, metadata, key)
    return [Planned(key, "pack", workspace_id, pack.credits, to_int(obj.get("amount_total")) or 0,
                    obj.get("currency") or pack.currency, pi)]


def plan_topup(session: Session, obj: dict[str, Any]) -> list[Planned]:
    metadata = obj.get("metadata") or {}
    if metadata.get("kind") != "topup" or obj.get("status") != "succeeded":
        return []
    key = f"topup:{obj['id']}"
    workspace_id = workspace_of(session, metadata, None, key)
    pack = pack_of(session, metadata, key)
    return [Planned(key, "topup", workspace_id, pack.credits, to_int(obj.get("amount")) or 0,
                    obj.get("currency") or pack.currency, obj["id"])]


def _checkout_completed(session: Session, event: dict[str, Any]) -> tuple[str, str]:
    obj = event["data"]["object"]
    metadata = obj.get("metadata") or {}
    if obj.get("customer"):
        _remember_customer(session, obj, metadata)
    if obj.get("mode") == "subscription":
        if obj.get("subscription"):
            subscriptions.subscription_row(session, obj["subscription"], metadata, obj.get("client_reference_id"))
        return "applied", "subscription started (credits come with its paid invoice)"
    if obj.get("payment_status") != "paid":
        return "applied", f"payment {obj.get('payment_status')}: waiting for the async payment"
    return apply_planned(session, event, plan_checkout_payment(session, obj))


def _async_succeeded(session: Session, event: dict[str, Any]) -> tuple[str, str]:
    return apply_planned(session, event, plan_checkout_payment(session, event["data"]["object"]))


def _async_failed(session: Session, event: dict[str, Any]) -> tuple[str, str]:
    return "applied", "the async payment failed: no credits"


def _topup(session: Session, event: dict[str, Any]) -> tuple[str, str]:
    planned = plan_topup(session, event["data"]["object"])
    return apply_planned(session, event, planned) if planned else ("ignored", "not an automatic top-up")


def _remember_customer(session: Session, obj: dict[str, Any], metadata: dict[str, Any]) -> None:
    """The workspace's first Stripe Customer; a workspace that has one, or a customer another workspace has,
    keeps what it has (the insert does nothing on either unique key)."""
    workspace_id = named_workspace(metadata, obj.get("client_reference_id"))
    facts = effects.workspace_facts(session, workspace_id) if workspace_id else None
    if facts is not None and not facts.has_customer:
        email = (obj.get("customer_details") or {}).get("email") or obj.get("customer_email") or ""
        sql.insert_new(sql.connection(session), BillingCustomer.__table__, {
            "workspace_id": workspace_id, "stripe_customer_id": str(obj["customer"])[:100], "email": email[:254],
            "created_at": utcnow()})


HANDLERS = {
    "checkout.session.completed": _checkout_completed,
    "checkout.session.async_payment_succeeded": _async_succeeded,
    "checkout.session.async_payment_failed": _async_failed,
    "invoice.paid": subscriptions.invoice_paid,
    "customer.subscription.created": subscriptions.subscription_changed,
    "customer.subscription.updated": subscriptions.subscription_changed,
    "customer.subscription.deleted": subscriptions.subscription_changed,
    "charge.refunded": takebacks.refunded,
    "charge.dispute.created": takebacks.disputed,
    "charge.dispute.closed": takebacks.dispute_closed,
    "payment_intent.succeeded": _topup,
}


def planned_effects(session: Session, event: dict[str, Any]) -> list[Planned]:
    """The money effects an event asks for (reconciliation's expectation); [] for the others."""
    obj, kind = event["data"]["object"], event["type"]
    if kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
        return plan_checkout_payment(session, obj)
    if kind == "invoice.paid":
        return subscriptions.plan_invoice(session, obj, move_version=False)
    if kind == "payment_intent.succeeded":
        return plan_topup(session, obj)
    if kind == "charge.refunded":
        return takebacks.plan_refunds(session, obj)
    if kind == "charge.dispute.created":
        return takebacks.plan_dispute(session, obj)
    if kind == "charge.dispute.closed":
        return takebacks.plan_dispute_closed(session, obj)
    return []
