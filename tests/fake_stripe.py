"""A fake Stripe on a real loopback HTTP server, for the billing tests, the journeys and the benchmark.

It speaks the documented shapes of what Atelier uses (form bodies in Stripe's bracket syntax, a Bearer
secret key, errors as `{"error": {"type", "message", "code"}}`, idempotency keys honoured on POST):
  POST/GET /v1/customers, GET /v1/customers/{id}; POST /v1/checkout/sessions (payment and subscription
  modes), GET /v1/checkout/sessions/{id}; POST /v1/billing_portal/sessions; GET and POST (update: an item's
  price, proration_behavior) /v1/subscriptions/{id};
  GET /v1/events (newest first: created[gt|gte|lt|lte], starting_after, limit, has_more; type);
  POST /v1/payment_intents (off_session + confirm: automatic top-up), GET /v1/payment_intents/{id};
  GET /v1/charges/{id}; GET /v1/refunds?charge=…; GET /v1/invoice_payments?invoice=…|payment[payment_intent]=…
A hosted Checkout page `GET /pay/{id}` has a "Pay" button (and "Pay by bank transfer": an async payment);
paying creates the payment intent, charge, subscription and invoice, records the events and POSTs each to
`webhook_url` signed with Stripe's scheme, then redirects to the session's success_url. The portal page
`GET /portal/{id}` links back to its return_url.

Test helpers, each recording (and delivering) correctly shaped events: `add_price`, `pay`, `settle_async`,
`refund`, `dispute`, `close_dispute`, `renew`, `update_subscription`, `cancel_subscription`, `deliver`/`redeliver`.
`hold_deliveries` records events without posting them (a webhook Stripe never got through);
`clock_offset` moves the fake's clock (event times and signature timestamps).
"""

from __future__ import annotations

import html
import json
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from tests.fake_image_providers import FakeImageServer
from tests.fake_providers import Recorded, Reply
from tests.fake_stripe_api import StripeApi
from tests.fake_stripe_shapes import charge_object, event, new_id, payment_intent_object, sign

__all__ = ["FakeStripe", "sign"]


class FakeStripe(StripeApi, FakeImageServer):
    def __init__(self, *, api_key: str = "sk_test_fake_atelier", webhook_secret: str = "whsec_fake_atelier",
                 webhook_url: str = "") -> None:
        FakeImageServer.__init__(self)
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.webhook_url = webhook_url
        self.hold_deliveries = False
        self.clock_offset = 0
        self.objects: dict[str, dict[str, dict[str, Any]]] = {
            k: {} for k in ("price", "customer", "checkout.session", "billing_portal.session", "subscription",
                            "invoice", "payment_intent", "charge", "refund", "dispute", "checkout.extra",
                            "invoice_payment")}
        self.events: list[dict[str, Any]] = []  # oldest first
        self.deliveries: list[tuple[str, int]] = []  # (event id, HTTP status or 0 when unreachable)
        self.idempotent: dict[str, Reply] = {}
        self.state_lock = threading.RLock()

    # --- clock, events, deliveries --------------------------------------------------------------------------

    def now(self) -> int:
        return int(time.time()) + self.clock_offset

    def env(self) -> dict[str, str]:
        """Settings for an Atelier that uses this fake."""
        return {"STRIPE_SECRET_KEY": self.api_key, "STRIPE_WEBHOOK_SECRET": self.webhook_secret,
                "STRIPE_API_BASE": self.origin}

    def record(self, kind: str, obj: dict[str, Any], previous: dict[str, Any] | None = None,
               created: int | None = None) -> dict[str, Any]:
        with self.state_lock:
            # Stripe's event times are seconds; keep them non-decreasing in recording order.
            last = self.events[-1]["created"] if self.events else 0
            made = event(kind, obj, max(created if created is not None else self.now(), last), previous)
            self.events.append(made)
        return made

    def deliver(self, evt: dict[str, Any], *, timestamp: int | None = None, secret: str | None = None) -> int:
        """POST one event to webhook_url, signed; the HTTP status (0: unreachable). Not while held."""
        if self.hold_deliveries or not self.webhook_url:
            return -1
        payload = json.dumps(evt, indent=2)  # Stripe pretty-prints its payloads
        header = sign(payload, secret or self.webhook_secret, self.now() if timestamp is None else timestamp)
        request = urllib.request.Request(self.webhook_url, data=payload.encode(), method="POST", headers={
            "Content-Type": "application/json; charset=utf-8", "Stripe-Signature": header,
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)"})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                status = answer.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError:
            status = 0
        self.deliveries.append((evt["id"], status))
        return status

    def redeliver(self, event_id: str, **kwargs: Any) -> int:
        return self.deliver(self.event(event_id), **kwargs)

    def event(self, event_id: str) -> dict[str, Any]:
        return next(e for e in self.events if e["id"] == event_id)

    def emit(self, kind: str, obj: dict[str, Any], previous: dict[str, Any] | None = None) -> dict[str, Any]:
        made = self.record(kind, obj, previous)
        self.deliver(made)
        return made

    # --- objects --------------------------------------------------------------------------------------------

    def add_price(self, price_id: str, amount: int, *, currency: str = "usd", interval: str | None = None) -> None:
        """A Price as made in Stripe's dashboard; `interval="month"` for a plan's price."""
        from tests.fake_stripe_shapes import price_object

        self.objects["price"][price_id] = price_object(price_id, amount, currency, interval)

    def _extra(self, session_id: str) -> dict[str, Any]:
        return self.objects["checkout.extra"][session_id]

    def get(self, kind: str, ident: str) -> dict[str, Any]:
        return self.objects[kind][ident]

    def _charge(self, pi: dict[str, Any]) -> dict[str, Any]:
        pi["status"], pi["amount_received"] = "succeeded", pi["amount"]
        charge = charge_object(pi=pi, created=self.now())
        self.objects["charge"][charge["id"]] = charge
        pi["latest_charge"] = charge["id"]
        return charge

    def _new_pi(self, *, amount: int, currency: str, customer: str | None, metadata: dict[str, Any],
                status: str = "succeeded") -> dict[str, Any]:
        pi = payment_intent_object(amount=amount, currency=currency, customer=customer, metadata=metadata,
                                   created=self.now(), status=status)
        self.objects["payment_intent"][pi["id"]] = pi
        return pi

    def _customer_for(self, session: dict[str, Any]) -> str:
        if not session.get("customer"):
            customer = self.create_customer({"email": session.get("customer_email") or ""})
            session["customer"] = customer["id"]
        self.objects["customer"][session["customer"]]["invoice_settings"]["default_payment_method"] = new_id("pm")
        return session["customer"]

    # --- what paying does -----------------------------------------------------------------------------------

    def pay(self, session_id: str, *, async_payment: bool = False) -> list[dict[str, Any]]:
        """Complete a Checkout Session as its Pay button does; the events it produced (delivered)."""
        with self.state_lock:
            session = self.objects["checkout.session"][session_id]
            if session["status"] != "open":
                raise ValueError(f"checkout session {session_id} is {session['status']}")
            customer = self._customer_for(session)
            session["status"] = "complete"
            made: list[dict[str, Any]] = []
            if session["mode"] == "payment":
                pi = self._new_pi(amount=session["amount_total"], currency=session["currency"], customer=customer,
                                  metadata=dict(self._extra(session_id)["payment_intent_data_metadata"]),
                                  status="processing" if async_payment else "succeeded")
                session["payment_intent"] = pi["id"]
                if async_payment:
                    session["payment_status"] = "unpaid"
                else:
                    session["payment_status"] = "paid"
                    charge = self._charge(pi)
                    made += [self.record("charge.succeeded", charge), self.record("payment_intent.succeeded", pi)]
                made.append(self.record("checkout.session.completed", session))
            else:
                sub, invoice, sub_events = self._start_subscription(session, customer)
                session.update(subscription=sub["id"], invoice=invoice["id"], payment_status="paid")
                made += sub_events
                made.append(self.record("checkout.session.completed", session))
                made.append(self.record("invoice.paid", invoice))
        for evt in made:
            self.deliver(evt)
        return made

    def settle_async(self, session_id: str, *, succeeded: bool = True) -> dict[str, Any]:
        """An async payment (bank transfer) of a completed session clears or fails."""
        with self.state_lock:
            session = self.objects["checkout.session"][session_id]
            pi = self.objects["payment_intent"][session["payment_intent"]]
            made = []
            if succeeded:
                made += [self.record("charge.succeeded", self._charge(pi)), self.record("payment_intent.succeeded", pi)]
                session["payment_status"] = "paid"
                made.append(self.record("checkout.session.async_payment_succeeded", session))
            else:
                pi["status"] = "requires_payment_method"
                made.append(self.record("payment_intent.payment_failed", pi))
                made.append(self.record("checkout.session.async_payment_failed", session))
        for evt in made:
            self.deliver(evt)
        return made[-1]

    def _invoice(self, sub: dict[str, Any], reason: str) -> tuple[dict[str, Any], dict[str, Any]]:
        item = sub["items"]["data"][0]
        price = item["price"]
        pi = self._new_pi(amount=price["unit_amount"], currency=price["currency"], customer=sub["customer"],
                          metadata={})
        charge = self._charge(pi)
        invoice = {
            "id": new_id("in"), "object": "invoice", "customer": sub["customer"], "status": "paid",
            "billing_reason": reason, "amount_due": price["unit_amount"], "amount_paid": price["unit_amount"],
            "amount_remaining": 0, "currency": price["currency"], "created": self.now(), "livemode": False,
            "period_start": item["current_period_start"], "period_end": item["current_period_end"],
            "parent": {"type": "subscription_details", "quote_details": None,
                       "subscription_details": {"subscription": sub["id"], "metadata": dict(sub["metadata"])}},
            "lines": {"object": "list", "has_more": False, "url": "/v1/invoices/lines", "data": [{
                "id": new_id("il"), "object": "line_item", "amount": price["unit_amount"],
                "currency": price["currency"], "quantity": 1,
                "period": {"start": item["current_period_start"], "end": item["current_period_end"]},
                "pricing": {"type": "price_details", "price_details": {"price": price["id"]}}}]},
            "payments": {"object": "list", "has_more": False, "url": "/v1/invoice_payments", "data": [{
                "id": new_id("inpay"), "object": "invoice_payment", "amount_paid": price["unit_amount"],
                "status": "paid", "is_default": True,
                "payment": {"type": "payment_intent", "payment_intent": pi["id"]}}]},
        }
        self.objects["invoice"][invoice["id"]] = invoice
        for payment in invoice["payments"]["data"]:
            self.objects["invoice_payment"][payment["id"]] = {**payment, "invoice": invoice["id"]}
        sub["latest_invoice"] = invoice["id"]
        return invoice, charge

    def _start_subscription(self, session: dict[str, Any], customer: str):
        extra = self._extra(session["id"])
        price = self.objects["price"][extra["price"]]
        start = self.now()
        sub = {"id": new_id("sub"), "object": "subscription", "customer": customer, "status": "active",
               "metadata": dict(extra["subscription_data_metadata"]), "cancel_at_period_end": False,
               "canceled_at": None, "created": start, "livemode": False, "latest_invoice": None,
               "items": {"object": "list", "has_more": False, "url": "/v1/subscription_items", "data": [{
                   "id": new_id("si"), "object": "subscription_item", "price": price, "quantity": 1,
                   "current_period_start": start, "current_period_end": start + 30 * 86400}]}}
        self.objects["subscription"][sub["id"]] = sub
        invoice, charge = self._invoice(sub, "subscription_create")
        made = [self.record("customer.subscription.created", sub), self.record("charge.succeeded", charge)]
        return sub, invoice, made

    def renew(self, subscription_id: str) -> dict[str, Any]:
        """The next month: the period moves on and a `subscription_cycle` invoice is paid; the invoice."""
        with self.state_lock:
            sub = self.objects["subscription"][subscription_id]
            item = sub["items"]["data"][0]
            before = {"current_period_start": item["current_period_start"]}
            item["current_period_start"] = item["current_period_end"]
            item["current_period_end"] += 30 * 86400
            invoice, charge = self._invoice(sub, "subscription_cycle")
            made = [self.record("customer.subscription.updated", sub, {"items": before}),
                    self.record("charge.succeeded", charge), self.record("invoice.paid", invoice)]
        for evt in made:
            self.deliver(evt)
        return invoice

    def update_subscription(self, subscription_id: str, **changes: Any) -> dict[str, Any]:
        """E.g. status="past_due" or cancel_at_period_end=True; the customer.subscription.updated event."""
        with self.state_lock:
            sub = self.objects["subscription"][subscription_id]
            previous = {k: sub[k] for k in changes}
            sub.update(changes)
            made = self.record("customer.subscription.updated", sub, previous)
        self.deliver(made)
        return made

    def cancel_subscription(self, subscription_id: str) -> dict[str, Any]:
        with self.state_lock:
            sub = self.objects["subscription"][subscription_id]
            sub.update(status="canceled", canceled_at=self.now())
            made = self.record("customer.subscription.deleted", sub)
        self.deliver(made)
        return made

    def refund(self, charge_id: str, amount: int | None = None) -> dict[str, Any]:
        """Refund (part of) a charge; the `charge.refunded` event (its refunds are listed at /v1/refunds)."""
        with self.state_lock:
            charge = self.objects["charge"][charge_id]
            amount = charge["amount"] - charge["amount_refunded"] if amount is None else amount
            if amount <= 0 or charge["amount_refunded"] + amount > charge["amount"]:
                raise ValueError("refund exceeds what is left of the charge")
            refund = {"id": new_id("re"), "object": "refund", "amount": amount, "charge": charge_id,
                      "currency": charge["currency"], "created": self.now(), "payment_intent": charge["payment_intent"],
                      "status": "succeeded", "reason": "requested_by_customer", "metadata": {}}
            self.objects["refund"][refund["id"]] = refund
            previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
            charge["amount_refunded"] += amount
            charge["refunded"] = charge["amount_refunded"] == charge["amount"]
            made = [self.record("refund.created", refund), self.record("charge.refunded", charge, previous)]
        for evt in made:
            self.deliver(evt)
        return made[-1]

    def dispute(self, charge_id: str) -> dict[str, Any]:
        with self.state_lock:
            charge = self.objects["charge"][charge_id]
            charge["disputed"] = True
            dispute = {"id": new_id("dp"), "object": "dispute", "amount": charge["amount"] - charge["amount_refunded"],
                       "charge": charge_id, "currency": charge["currency"], "created": self.now(),
                       "payment_intent": charge["payment_intent"], "reason": "fraudulent",
                       "status": "needs_response", "livemode": False, "metadata": {}}
            self.objects["dispute"][dispute["id"]] = dispute
            made = self.record("charge.dispute.created", dispute)
        self.deliver(made)
        return made

    def close_dispute(self, dispute_id: str, *, won: bool) -> dict[str, Any]:
        """The bank decides: status `won` or `lost`; the `charge.dispute.closed` event."""
        with self.state_lock:
            dispute = self.objects["dispute"][dispute_id]
            if dispute["status"] in ("won", "lost"):
                raise ValueError(f"dispute {dispute_id} is already {dispute['status']}")
            previous = {"status": dispute["status"]}
            dispute["status"] = "won" if won else "lost"
            made = self.record("charge.dispute.closed", dispute, previous)
        self.deliver(made)
        return made

    # --- HTTP -----------------------------------------------------------------------------------------------

    def respond(self, request: Recorded, mode: str) -> Reply:
        path = request.path
        if path.startswith("/pay/") or path.startswith("/portal/"):
            return self._hosted(request)
        return self.api(request)

    def _hosted(self, request: Recorded) -> Reply:
        kind, _, ident = request.path.strip("/").partition("/")
        if kind == "portal":
            portal = self.objects["billing_portal.session"].get(ident)
            if portal is None:
                return 404, {"Content-Type": "text/html"}, b"<h1>Unknown portal session</h1>"
            page = (f"<!doctype html><title>Billing portal</title><h1>Billing portal</h1>"
                    f"<p>Customer {html.escape(portal['customer'])}</p>"
                    f"<a href=\"{html.escape(portal['return_url'] or '/')}\">Return</a>")
            return 200, {"Content-Type": "text/html; charset=utf-8"}, page.encode()
        session = self.objects["checkout.session"].get(ident)
        if session is None:
            return 404, {"Content-Type": "text/html"}, b"<h1>This checkout session does not exist</h1>"
        if request.method == "POST":
            if session["status"] == "open":
                self.pay(ident, async_payment=b"async=1" in request.raw)
            target = session["success_url"].replace("{CHECKOUT_SESSION_ID}", ident)
            return 303, {"Location": target}, b""
        price = self.objects["price"][self._extra(ident)["price"]]
        amount = f"{price['unit_amount'] / 100:.2f} {price['currency'].upper()}"
        page = (f"<!doctype html><title>Checkout</title><h1>Pay {amount}</h1>"
                f"<p>{'Subscription' if session['mode'] == 'subscription' else 'One-off payment'}</p>"
                f"<form method=\"post\"><button type=\"submit\">Pay</button></form>"
                f"<form method=\"post\"><input type=\"hidden\" name=\"async\" value=\"1\">"
                f"<button type=\"submit\">Pay by bank transfer</button></form>"
                f"<a href=\"{html.escape(session['cancel_url'] or '/')}\">Cancel</a>")
        return 200, {"Content-Type": "text/html; charset=utf-8"}, page.encode()
