"""The real `stripe` library (app/services/billing/client.py) against the fake Stripe: the shapes and rules
the billing code relies on, and webhooks the library itself verifies."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.error import HTTPError
from urllib.request import HTTPRedirectHandler, Request, build_opener, urlopen

import pytest
import stripe

from app.services.billing import client as billing_client
from tests.integration.billing_helpers import PACK_PRICE, PLAN_PRICE, configured_stripe


class Receiver:
    """A webhook endpoint on loopback that keeps each raw body and its Stripe-Signature header."""

    def __init__(self) -> None:
        self.got: list[tuple[bytes, str]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver.got.append((self.rfile.read(int(self.headers["Content-Length"])),
                                     self.headers["Stripe-Signature"]))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


class NoRedirect(HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.server.shutdown()


@pytest.fixture
def fake(env, monkeypatch, receiver):
    yield from configured_stripe(monkeypatch, webhook_url=receiver.url)


def test_billing_is_off_without_a_key_and_needs_the_webhook_secret_with_one(env, monkeypatch):
    from app.settings import Settings
    from tests.conftest import clear_caches

    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    clear_caches()
    assert not billing_client.enabled()
    with pytest.raises(RuntimeError, match="Billing is off"):
        billing_client.stripe_client()
    monkeypatch.setenv("STRIPE_SECRET_KEY", "  ")  # an empty line in .env is no key
    assert not Settings().billing_enabled
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_x")
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET", raising=False)
    with pytest.raises(ValueError, match="STRIPE_WEBHOOK_SECRET"):
        Settings()
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_x")
    assert Settings().billing_enabled and "sk_test_x" not in repr(Settings())  # never in logs or reprs


def test_the_client_is_built_once_per_settings_and_talks_to_the_fake(fake, monkeypatch):
    from tests.conftest import clear_caches

    one = billing_client.stripe_client()
    assert billing_client.enabled() and billing_client.stripe_client() is one
    customer = one.v1.customers.create({"email": "pay@example.com", "metadata": {"workspace_id": "7"}})
    assert customer.id.startswith("cus_") and customer.metadata["workspace_id"] == "7"
    assert one.v1.customers.retrieve(customer.id).email == "pay@example.com"
    assert [c.id for c in one.v1.customers.list({"email": "pay@example.com"}).data] == [customer.id]
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_wrong")
    clear_caches()
    other = billing_client.stripe_client()
    assert other is not one
    with pytest.raises(stripe.AuthenticationError, match="Invalid API Key"):
        other.v1.customers.create({"email": "x@example.com"})


def test_pack_checkout_pays_through_the_hosted_page_and_sends_signed_events(fake, receiver):
    api = billing_client.stripe_client()
    session = api.v1.checkout.sessions.create({
        "mode": "payment", "line_items": [{"price": PACK_PRICE, "quantity": 1}], "client_reference_id": "3",
        "metadata": {"workspace_id": "3", "kind": "pack", "pack_id": "1"},
        "success_url": "http://app.test/billing?paid={CHECKOUT_SESSION_ID}", "cancel_url": "http://app.test/billing"})
    assert session.url == f"{fake.origin}/pay/{session.id}" and session.status == "open"
    page = urlopen(session.url).read().decode()
    assert "Pay 10.00 USD" in page and ">Pay</button>" in page
    # The Pay button posts the form; the redirect goes to the app (not reachable here: just read Location).
    with pytest.raises(HTTPError) as moved:
        build_opener(NoRedirect).open(Request(session.url, data=b"", method="POST"))
    assert moved.value.code == 303
    assert moved.value.headers["Location"] == f"http://app.test/billing?paid={session.id}"
    done = api.v1.checkout.sessions.retrieve(session.id)
    assert (done.status, done.payment_status) == ("complete", "paid") and done.payment_intent.startswith("pi_")
    kinds = [json.loads(body)["type"] for body, _ in receiver.got]
    assert kinds == ["charge.succeeded", "payment_intent.succeeded", "checkout.session.completed"]
    body, header = receiver.got[-1]
    evt = stripe.Webhook.construct_event(body, header, fake.webhook_secret)  # the library accepts our scheme
    assert evt.type == "checkout.session.completed" and evt.data.object.client_reference_id == "3"
    assert evt.livemode is False and evt.api_version
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, header, "whsec_other")


def test_subscription_checkout_renewal_and_cancel(fake, receiver):
    api = billing_client.stripe_client()
    session = api.v1.checkout.sessions.create({
        "mode": "subscription", "line_items": [{"price": PLAN_PRICE, "quantity": 1}], "client_reference_id": "3",
        "subscription_data": {"metadata": {"workspace_id": "3", "kind": "plan", "plan_id": "2",
                                           "plan_version_id": "5"}},
        "success_url": "http://app.test/ok", "cancel_url": "http://app.test/no"})
    fake.pay(session.id)
    done = api.v1.checkout.sessions.retrieve(session.id)
    sub = api.v1.subscriptions.retrieve(done.subscription)
    assert sub.status == "active" and sub.metadata["plan_version_id"] == "5"
    assert sub["items"].data[0].price.id == PLAN_PRICE
    invoice = fake.renew(sub.id)
    assert invoice["billing_reason"] == "subscription_cycle"
    assert invoice["parent"]["subscription_details"]["metadata"]["workspace_id"] == "3"
    fake.cancel_subscription(sub.id)
    assert api.v1.subscriptions.retrieve(sub.id).status == "canceled"
    kinds = [json.loads(body)["type"] for body, _ in receiver.got]
    assert kinds.count("invoice.paid") == 2 and kinds[-1] == "customer.subscription.deleted"
    portal = api.v1.billing_portal.sessions.create({"customer": sub.customer, "return_url": "http://app.test/b"})
    assert "http://app.test/b" in urlopen(portal.url).read().decode()


def test_events_list_pages_newest_first_with_created_filters(fake):
    api = billing_client.stripe_client()
    for n in range(7):
        fake.record("customer.created", {"id": f"cus_{n}", "object": "customer"}, created=1_000 + n)
    first = api.v1.events.list({"limit": 3, "created": {"gt": 1_001}})
    assert [e.data.object.id for e in first.data] == ["cus_6", "cus_5", "cus_4"] and first.has_more
    rest = api.v1.events.list({"limit": 3, "created": {"gt": 1_001}, "starting_after": first.data[-1].id})
    assert [e.data.object.id for e in rest.data] == ["cus_3", "cus_2"] and not rest.has_more
    with pytest.raises(stripe.InvalidRequestError, match="between 1 and 100"):
        api.v1.events.list({"limit": 500})


def test_off_session_topup_and_refunds_and_disputes(fake, receiver):
    api = billing_client.stripe_client()
    customer = api.v1.customers.create({"email": "pay@example.com"})
    with pytest.raises(stripe.InvalidRequestError, match="payment_method"):  # no card saved yet
        api.v1.payment_intents.create({"amount": 1000, "currency": "usd", "customer": customer.id,
                                       "off_session": True, "confirm": True})
    fake.get("customer", customer.id)["invoice_settings"]["default_payment_method"] = "pm_card"
    fake.decline_off_session = True
    with pytest.raises(stripe.CardError, match="declined"):
        api.v1.payment_intents.create({"amount": 1000, "currency": "usd", "customer": customer.id,
                                       "off_session": True, "confirm": True, "metadata": {"kind": "topup"}})
    pi = api.v1.payment_intents.create({"amount": 1000, "currency": "usd", "customer": customer.id,
                                        "off_session": True, "confirm": True,
                                        "metadata": {"kind": "topup", "workspace_id": "3", "pack_id": "1"}})
    assert pi.status == "succeeded" and pi.metadata["kind"] == "topup"
    charge = pi.latest_charge
    fake.refund(charge, 300)
    fake.refund(charge, 200)
    refunds = api.v1.refunds.list({"charge": charge})
    assert sorted(r.amount for r in refunds.data) == [200, 300]
    assert api.v1.charges.retrieve(charge).amount_refunded == 500
    dispute = fake.dispute(charge)
    assert dispute["data"]["object"]["amount"] == 500
    with pytest.raises(stripe.InvalidRequestError, match="No such price"):
        api.v1.checkout.sessions.create({"mode": "payment", "line_items": [{"price": "price_nope"}],
                                         "success_url": "http://app.test/ok"})
    with pytest.raises(stripe.InvalidRequestError, match="recurring"):
        api.v1.checkout.sessions.create({"mode": "subscription", "line_items": [{"price": PACK_PRICE}],
                                         "success_url": "http://app.test/ok"})
