"""The REST half of the fake Stripe (tests/fake_stripe.py): `/v1/...` requests checked and answered as
Stripe's API reference documents them. A mixin: the server class holds the objects and the events."""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from tests.fake_providers import Recorded, Reply, json_reply
from tests.fake_stripe_shapes import error, list_of, missing, new_id, parse_form, query_params

_ROUTES = [
    ("POST", re.compile(r"^/v1/customers$"), "_post_customer"),
    ("GET", re.compile(r"^/v1/customers$"), "_list_customers"),
    ("GET", re.compile(r"^/v1/customers/(?P<id>[^/]+)$"), "_get_customer"),
    ("POST", re.compile(r"^/v1/checkout/sessions$"), "_post_checkout"),
    ("GET", re.compile(r"^/v1/checkout/sessions/(?P<id>[^/]+)$"), "_get_checkout"),
    ("POST", re.compile(r"^/v1/billing_portal/sessions$"), "_post_portal"),
    ("GET", re.compile(r"^/v1/subscriptions/(?P<id>[^/]+)$"), "_get_subscription"),
    ("POST", re.compile(r"^/v1/subscriptions/(?P<id>[^/]+)$"), "_post_subscription"),
    ("GET", re.compile(r"^/v1/events$"), "_list_events"),
    ("GET", re.compile(r"^/v1/events/(?P<id>[^/]+)$"), "_get_event"),
    ("POST", re.compile(r"^/v1/payment_intents$"), "_post_payment_intent"),
    ("GET", re.compile(r"^/v1/payment_intents/(?P<id>[^/]+)$"), "_get_payment_intent"),
    ("GET", re.compile(r"^/v1/charges/(?P<id>[^/]+)$"), "_get_charge"),
    ("GET", re.compile(r"^/v1/refunds$"), "_list_refunds"),
    ("GET", re.compile(r"^/v1/invoice_payments$"), "_list_invoice_payments"),
]


def ok(body: Any) -> Reply:
    return json_reply(200, body, {"Request-Id": new_id("req")})


def _limit(params: dict[str, Any]) -> int | Reply:
    try:
        limit = int(params.get("limit", 10))
    except ValueError:
        return error(400, "Invalid integer: limit", code="parameter_invalid_integer", param="limit")
    if not 1 <= limit <= 100:
        return error(400, "This value must be between 1 and 100 (inclusive).", code="parameter_invalid_integer",
                     param="limit")
    return limit


class StripeApi:
    api_key: str
    objects: dict[str, dict[str, dict[str, Any]]]
    events: list[dict[str, Any]]
    idempotent: dict[str, Reply]
    origin: str
    decline_off_session = False  # the next automatic top-up's card is declined

    def api(self, request: Recorded) -> Reply:
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer "):
            return error(401, "You did not provide an API key. You need to provide your API key in the "
                              "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').")
        if auth[7:] != self.api_key:
            return error(401, f"Invalid API Key provided: {auth[7:][:8]}{'*' * 8}", code="api_key_invalid")
        key = request.headers.get("idempotency-key", "")
        if request.method == "POST" and key and key in self.idempotent:
            return self.idempotent[key]  # a retried POST answers what the first one did
        for method, pattern, handler in _ROUTES:
            match = pattern.match(request.path)
            if match and method == request.method:
                try:
                    params = parse_form(request.raw) if method == "POST" else query_params(request.query)
                except ValueError as exc:
                    return error(400, str(exc))
                reply = getattr(self, handler)(params, **match.groupdict())
                # As Stripe: a request refused in validation (400, 404) saves no result for its key.
                if request.method == "POST" and key and reply[0] not in (400, 404):
                    self.idempotent[key] = reply
                return reply
        return error(404, f"Unrecognized request URL ({request.method}: {request.path}).")

    # --- customers -------------------------------------------------------------------------------------------

    def create_customer(self, params: dict[str, Any]) -> dict[str, Any]:
        customer = {"id": new_id("cus"), "object": "customer", "email": params.get("email") or None,
                    "name": params.get("name") or None, "metadata": params.get("metadata") or {},
                    "created": self.now(), "livemode": False, "invoice_settings": {"default_payment_method": None}}
        self.objects["customer"][customer["id"]] = customer
        return customer

    def _post_customer(self, params: dict[str, Any]) -> Reply:
        return ok(self.create_customer(params))

    def _list_customers(self, params: dict[str, Any]) -> Reply:
        limit = _limit(params)
        if not isinstance(limit, int):
            return limit
        found = [c for c in reversed(self.objects["customer"].values())
                 if not params.get("email") or c["email"] == params["email"]]
        return ok(list_of(found[:limit], "/v1/customers", len(found) > limit))

    def _get_customer(self, params: dict[str, Any], id: str) -> Reply:
        found = self.objects["customer"].get(id)
        return ok(found) if found else missing("customer", id)

    # --- checkout and portal --------------------------------------------------------------------------------

    def _post_checkout(self, params: dict[str, Any]) -> Reply:
        mode = params.get("mode")
        if mode not in ("payment", "subscription"):
            return error(400, "Invalid mode: must be one of payment, setup, or subscription", param="mode")
        if not params.get("success_url"):
            return error(400, "Missing required param: success_url.", code="parameter_missing", param="success_url")
        items = params.get("line_items")
        if not isinstance(items, list) or not items or not isinstance(items[0], dict) or not items[0].get("price"):
            return error(400, "Missing required param: line_items[0][price].", code="parameter_missing",
                         param="line_items[0][price]")
        price = self.objects["price"].get(items[0]["price"])
        if price is None:
            return missing("price", items[0]["price"], "line_items[0][price]")
        if (mode == "subscription") != bool(price["recurring"]):
            return error(400, "You must provide at least one recurring price in `subscription` mode when using "
                              "prices." if mode == "subscription" else "You specified `payment` mode but passed a "
                              "recurring price.", param="line_items[0][price]")
        customer = params.get("customer")
        if customer and customer not in self.objects["customer"]:
            return missing("customer", customer, "customer")
        quantity = int(items[0].get("quantity") or 1)
        ident = new_id("cs")
        session = {
            "id": ident, "object": "checkout.session", "mode": mode, "status": "open", "payment_status": "unpaid",
            "client_reference_id": params.get("client_reference_id"), "metadata": params.get("metadata") or {},
            "customer": customer, "customer_email": params.get("customer_email"),
            "success_url": params["success_url"], "cancel_url": params.get("cancel_url"),
            "amount_total": price["unit_amount"] * quantity, "amount_subtotal": price["unit_amount"] * quantity,
            "currency": price["currency"], "payment_intent": None, "subscription": None, "invoice": None,
            "created": self.now(), "expires_at": self.now() + 86400, "livemode": False,
            "url": f"{self.origin}/pay/{ident}",
        }
        self.objects["checkout.session"][ident] = session
        # What the session was asked to pass on (kept beside it: Stripe does not echo these on the session).
        pi_data, sub_data = params.get("payment_intent_data") or {}, params.get("subscription_data") or {}
        session_extra = {"price": price["id"], "payment_intent_data_metadata": pi_data.get("metadata") or {},
                         "subscription_data_metadata": sub_data.get("metadata") or {}}
        self.objects["checkout.extra"][ident] = session_extra
        return ok(session)

    def _get_checkout(self, params: dict[str, Any], id: str) -> Reply:
        found = self.objects["checkout.session"].get(id)
        return ok(found) if found else missing("checkout.session", id)

    def _post_portal(self, params: dict[str, Any]) -> Reply:
        customer = params.get("customer")
        if not customer:
            return error(400, "Missing required param: customer.", code="parameter_missing", param="customer")
        if customer not in self.objects["customer"]:
            return missing("customer", customer, "customer")
        ident = new_id("bps")
        portal = {"id": ident, "object": "billing_portal.session", "customer": customer,
                  "return_url": params.get("return_url"), "created": self.now(), "livemode": False,
                  "url": f"{self.origin}/portal/{ident}"}
        self.objects["billing_portal.session"][ident] = portal
        return ok(portal)

    # --- subscriptions, payments, events --------------------------------------------------------------------

    def _get_subscription(self, params: dict[str, Any], id: str) -> Reply:
        found = self.objects["subscription"].get(id)
        return ok(found) if found else missing("subscription", id)

    def _post_subscription(self, params: dict[str, Any], id: str) -> Reply:
        """Update a subscription: `items[n][id]` + `items[n][price]` moves an item to another price,
        `proration_behavior` is create_prorations | none | always_invoice; a customer.subscription.updated
        event with the previous items follows."""
        sub = self.objects["subscription"].get(id)
        if sub is None:
            return missing("subscription", id)
        behavior = params.get("proration_behavior", "create_prorations")
        if behavior not in ("create_prorations", "none", "always_invoice"):
            return error(400, "Invalid proration_behavior: must be one of create_prorations, none, or "
                              "always_invoice", param="proration_behavior")
        if sub["status"] == "canceled":
            return error(400, "A canceled subscription can only update its cancellation_details and metadata.")
        changes = params.get("items") or []
        if not isinstance(changes, list):
            return error(400, "Invalid array", param="items")
        current = {item["id"]: item for item in sub["items"]["data"]}
        for n, change in enumerate(changes):
            if not isinstance(change, dict) or change.get("id") not in current:
                return missing("subscription_item", (change or {}).get("id", "") if isinstance(change, dict) else "",
                               f"items[{n}][id]")
            price = self.objects["price"].get(change.get("price") or "")
            if price is None:
                return missing("price", change.get("price") or "", f"items[{n}][price]")
            if not price["recurring"]:
                return error(400, "The price specified is set to `type=one_time` but this field only accepts prices "
                                  "with `type=recurring`.", param=f"items[{n}][price]")
        with self.state_lock:
            previous = {"items": json.loads(json.dumps(sub["items"]))}
            for change in changes:
                current[change["id"]]["price"] = self.objects["price"][change["price"]]
            if isinstance(params.get("metadata"), dict):
                sub["metadata"].update(params["metadata"])
            made = self.record("customer.subscription.updated", sub, previous)
        # After the answer, as Stripe does: the caller may be inside a transaction the webhook would wait for.
        threading.Thread(target=self.deliver, args=(made,), daemon=True).start()
        return ok(sub)

    def _get_payment_intent(self, params: dict[str, Any], id: str) -> Reply:
        found = self.objects["payment_intent"].get(id)
        return ok(found) if found else missing("payment_intent", id)

    def _get_charge(self, params: dict[str, Any], id: str) -> Reply:
        found = self.objects["charge"].get(id)
        return ok(found) if found else missing("charge", id)

    def _list_refunds(self, params: dict[str, Any]) -> Reply:
        limit = _limit(params)
        if not isinstance(limit, int):
            return limit
        found = sorted((r for r in self.objects["refund"].values()
                        if not params.get("charge") or r["charge"] == params["charge"]),
                       key=lambda r: r["created"], reverse=True)
        return ok(list_of(found[:limit], "/v1/refunds", len(found) > limit))

    def _list_invoice_payments(self, params: dict[str, Any]) -> Reply:
        limit = _limit(params)
        if not isinstance(limit, int):
            return limit
        wanted = params.get("payment") or {}
        if wanted and wanted.get("type") not in ("payment_intent", "payment_record"):
            return error(400, "Invalid payment[type]", param="payment[type]")
        found = [p for p in reversed(list(self.objects["invoice_payment"].values()))
                 if (not params.get("invoice") or p["invoice"] == params["invoice"])
                 and (not wanted.get("payment_intent") or p["payment"]["payment_intent"] == wanted["payment_intent"])]
        return ok(list_of(found[:limit], "/v1/invoice_payments", len(found) > limit))

    def _post_payment_intent(self, params: dict[str, Any]) -> Reply:
        try:
            amount = int(params.get("amount", ""))
        except ValueError:
            return error(400, "Missing required param: amount.", code="parameter_missing", param="amount")
        if amount < 50:
            return error(400, "Amount must be at least $0.50 usd", code="amount_too_small", param="amount")
        customer = self.objects["customer"].get(params.get("customer") or "")
        if customer is None:
            return missing("customer", params.get("customer") or "", "customer")
        method = params.get("payment_method") or customer["invoice_settings"]["default_payment_method"]
        if not method:
            return error(400, "You must provide a payment_method or set a default for this customer.",
                         code="parameter_missing", param="payment_method")
        if self.decline_off_session:
            self.decline_off_session = False
            return error(402, "Your card was declined.", kind="card_error", code="card_declined")
        confirm = params.get("confirm") == "true"
        pi = self._new_pi(amount=amount, currency=params.get("currency") or "usd", customer=customer["id"],
                          metadata=params.get("metadata") or {},
                          status="succeeded" if confirm else "requires_confirmation")
        if confirm:
            made = [self.record("charge.succeeded", self._charge(pi)), self.record("payment_intent.succeeded", pi)]
            for evt in made:
                self.deliver(evt)
        return ok(pi)

    def _get_event(self, params: dict[str, Any], id: str) -> Reply:
        found = next((e for e in self.events if e["id"] == id), None)
        return ok(found) if found else missing("event", id)

    def _list_events(self, params: dict[str, Any]) -> Reply:
        limit = _limit(params)
        if not isinstance(limit, int):
            return limit
        created = params.get("created")
        bounds = created if isinstance(created, dict) else ({"eq": created} if created else {})
        checks = {"gt": lambda t, v: t > v, "gte": lambda t, v: t >= v, "lt": lambda t, v: t < v,
                  "lte": lambda t, v: t <= v, "eq": lambda t, v: t == v}
        found = [e for e in reversed(list(self.events))
                 if all(checks[op](e["created"], int(v)) for op, v in bounds.items() if op in checks)
                 and (not params.get("type") or e["type"] == params["type"])]
        after = params.get("starting_after")
        if after:
            position = next((i for i, e in enumerate(found) if e["id"] == after), None)
            if position is None:
                return missing("event", after, "starting_after")
            found = found[position + 1:]
        return ok(list_of(found[:limit], "/v1/events", len(found) > limit))
