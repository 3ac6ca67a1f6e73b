"""Starting payments: Checkout Sessions for packs and plans, the Customer Portal, automatic top-ups.

Nothing here moves credits. A paid checkout reaches the ledger through the webhook (A's effects, by business
key); an automatic top-up applies its own effect when Stripe answers that the PaymentIntent succeeded, under
the key the webhook uses too, so whichever comes first counts and the other changes nothing.

Sessions carry `client_reference_id` = the workspace id and metadata naming what is bought (the contract with
the webhook): {"workspace_id", "kind": "pack", "pack_id"} or {"workspace_id", "kind": "plan", "plan_id",
"plan_version_id"} (also on the subscription).
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from sqlmodel import Session

from app import routes
from app.errors import AppError, Conflict, NotFound, ServiceUnavailable, ValidationFailed
from app.models import BillingCustomer, Workspace
from app.services.auth.accounts import UserPublic
from app.services.billing import client, plans
from app.services.workspaces.members import authorize
from app.settings import get_settings

log = logging.getLogger(__name__)


def require_enabled() -> None:
    if not client.enabled():
        raise NotFound("Billing is off on this server.", code="billing_off")


def safe_return_url(return_url: str | None) -> str:
    """Where Stripe sends the browser back: our own PUBLIC_URL only (never an open redirect)."""
    base = get_settings().public_url
    if not return_url:
        return base + routes.BILLING
    if return_url.startswith("/") and not return_url.startswith("//"):
        return base + return_url
    own, given = urlsplit(base), urlsplit(return_url)
    if (given.scheme, given.netloc) != (own.scheme, own.netloc):
        raise ValidationFailed("Payments return only to this site's own pages.", code="invalid_return_url")
    return return_url


def _call(what: str, fn, **params):
    import stripe

    try:
        return fn(params=params)
    except stripe.StripeError as exc:
        log.warning("stripe %s failed: %s", what, type(exc).__name__)
        raise ServiceUnavailable(f"Stripe did not answer the {what}; nothing was charged. Try again in a moment.",
                                 code="stripe_unavailable", details={"service": "stripe"}) from exc


def customer_for(*, session: Session, workspace_id: int, email: str) -> str:
    """The workspace's Stripe Customer id, created on first use."""
    row = session.get(BillingCustomer, workspace_id)
    if row is not None:
        return row.stripe_customer_id
    workspace = session.get(Workspace, workspace_id)
    created = _call("customer creation", client.stripe_client().v1.customers.create, email=email,
                    name=workspace.name[:200], metadata={"workspace_id": str(workspace_id)})
    session.add(BillingCustomer(workspace_id=workspace_id, stripe_customer_id=created.id, email=email))
    session.flush()
    return created.id


def _urls(return_url: str | None) -> dict:
    back = safe_return_url(return_url)
    sep = "&" if "?" in back else "?"
    return {"success_url": f"{back}{sep}checkout=success", "cancel_url": f"{back}{sep}checkout=cancel"}


def _authorized(session: Session, user: UserPublic, workspace_id: int) -> None:
    require_enabled()
    authorize(session=session, actor=user, workspace_id=workspace_id, action="billing.manage")


def start_pack_checkout(*, session: Session, user: UserPublic, workspace_id: int, pack_id: int,
                        return_url: str | None = None) -> str:
    """A one-off Checkout Session for a credit pack; the URL of Stripe's hosted page."""
    _authorized(session, user, workspace_id)
    pack = plans.get_pack(session=session, pack_id=pack_id)
    if not pack.active:
        raise Conflict("That credit pack is no longer sold.", code="pack_inactive")
    urls = _urls(return_url)  # checked before anything is made at Stripe
    customer = customer_for(session=session, workspace_id=workspace_id, email=user.email)
    metadata = {"workspace_id": str(workspace_id), "kind": "pack", "pack_id": str(pack.id)}
    created = _call("checkout", client.stripe_client().v1.checkout.sessions.create, mode="payment",
                    customer=customer, client_reference_id=str(workspace_id), metadata=metadata,
                    line_items=[{"price": pack.stripe_price_id, "quantity": 1}],
                    payment_intent_data={"metadata": metadata}, **urls)
    return created.url


def start_plan_checkout(*, session: Session, user: UserPublic, workspace_id: int, plan_id: int,
                        return_url: str | None = None) -> str:
    """A Checkout Session in subscription mode on the plan's latest version. A workspace that already has a
    subscription changes plan through the Customer Portal (Stripe prorates there)."""
    _authorized(session, user, workspace_id)
    plan = plans.get_plan(session=session, plan_id=plan_id)
    if plan.is_free:
        raise Conflict("The free plan needs no checkout: cancel the subscription in the portal to return to it.",
                       code="plan_free")
    if not plan.active:
        raise Conflict("That plan is no longer offered.", code="plan_inactive")
    if plans.live_subscription(session=session, workspace_id=workspace_id) is not None:
        raise Conflict("This workspace already has a subscription; change plan through 'Manage cards and "
                       "invoices'.", code="subscription_exists")
    version = plans.latest_version(session=session, plan_id=plan.id)
    urls = _urls(return_url)
    customer = customer_for(session=session, workspace_id=workspace_id, email=user.email)
    metadata = {"workspace_id": str(workspace_id), "kind": "plan", "plan_id": str(plan.id),
                "plan_version_id": str(version.id)}
    created = _call("checkout", client.stripe_client().v1.checkout.sessions.create, mode="subscription",
                    customer=customer, client_reference_id=str(workspace_id), metadata=metadata,
                    line_items=[{"price": version.stripe_price_id, "quantity": 1}],
                    subscription_data={"metadata": metadata}, **urls)
    return created.url


def portal_url(*, session: Session, user: UserPublic, workspace_id: int, return_url: str | None = None) -> str:
    """The Stripe Customer Portal (cards, invoices, cancellation) for the workspace's customer."""
    _authorized(session, user, workspace_id)
    back = safe_return_url(return_url)
    customer = customer_for(session=session, workspace_id=workspace_id, email=user.email)
    created = _call("portal", client.stripe_client().v1.billing_portal.sessions.create, customer=customer,
                    return_url=back)
    return created.url


def charge_topup(*, session: Session, workspace_id: int, pack_id: int):
    """An off-session PaymentIntent for the pack on the customer's saved card; the PaymentIntent. Raises
    AppError when the workspace has no customer or Stripe refuses (the card is declined)."""
    import stripe

    row = session.get(BillingCustomer, workspace_id)
    if row is None:
        raise Conflict("No card on file: buy a pack once first.", code="no_customer")
    pack = plans.get_pack(session=session, pack_id=pack_id)
    metadata = {"workspace_id": str(workspace_id), "kind": "topup", "pack_id": str(pack.id)}
    stripe_api = client.stripe_client().v1
    try:
        customer = stripe_api.customers.retrieve(row.stripe_customer_id)
        card = (customer.to_dict().get("invoice_settings") or {}).get("default_payment_method")
        if not card:
            raise Conflict("No saved card: add one under 'Manage cards and invoices'.", code="no_card")
        return stripe_api.payment_intents.create(params={
            "amount": pack.amount_cents, "currency": pack.currency, "customer": row.stripe_customer_id,
            "payment_method": card if isinstance(card, str) else card["id"],
            "off_session": True, "confirm": True, "metadata": metadata,
            "description": f"Automatic top-up: {pack.name}"})
    except stripe.StripeError as exc:
        raise AppError(f"Stripe refused the automatic top-up ({type(exc).__name__}).", code="topup_refused") from exc
