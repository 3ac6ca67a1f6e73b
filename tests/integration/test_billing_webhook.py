"""POST /api/v1/billing/webhook over the real route, the real stripe library and the fake Stripe: signatures,
timestamps both ways, replays, duplicates, reordering, refunds and disputes, unknown events and workspaces."""

from __future__ import annotations

import pytest
from sqlmodel import select

from app.db import session_scope
from app.errors import InsufficientCredits
from app.models import BillingIssue, OutboxEmail, PlanVersion, StripeEvent, Subscription
from app.services import credits
from tests.integration.billing_helpers import (
    account,
    catalogue,
    checkout,
    configured_stripe,
    effects,
    ledger,
    post_event,
)
from tests.integration.test_accounts import register


@pytest.fixture
def fake(any_db, monkeypatch):
    yield from configured_stripe(monkeypatch)  # no webhook_url: each test delivers through `api` itself


@pytest.fixture
def shop(fake, api):
    owner = register("owner@example.com")
    return owner.workspace_id, catalogue()


def deliver_all(api, fake, events) -> list[int]:
    return [post_event(api, fake, e).status_code for e in events]


def outcome(event_id: str) -> str | None:
    with session_scope() as session:
        row = session.get(StripeEvent, event_id)
        return row.outcome if row else None


def test_a_pack_bought_through_checkout_credits_once_and_sends_a_receipt(shop, fake, api):
    ws, ids = shop
    events = fake.pay(checkout(fake, ws, ids))
    assert deliver_all(api, fake, events) == [200, 200, 200]
    completed = events[-1]
    assert account(ws) == (100, 0, 0)
    pi = completed["data"]["object"]["payment_intent"]
    assert ledger(ws) == {f"stripe:pack:{pi}": 100}
    assert [(e.kind, e.credits, e.amount_cents, e.event_id) for e in effects(ws)] == [
        ("pack", 100, 1000, completed["id"])]
    # A replay (the same event, signed again now) and a duplicate (a new event id for the same payment).
    assert post_event(api, fake, completed).json()["outcome"] == "duplicate"
    again = fake.record("checkout.session.completed", completed["data"]["object"])
    assert post_event(api, fake, again).json()["outcome"] == "applied"
    assert account(ws) == (100, 0, 0) and len(ledger(ws)) == 1
    assert (outcome(events[0]["id"]), outcome(events[1]["id"])) == ("ignored", "ignored")
    with session_scope() as session:
        assert [m.subject for m in session.exec(select(OutboxEmail))] == ["Receipt: 10.00 USD for a credit pack"]


def test_signatures_and_timestamps_are_checked_both_ways(shop, fake, api):
    ws, ids = shop
    evt = fake.pay(checkout(fake, ws, ids))[-1]
    refused = {
        "wrong secret": post_event(api, fake, evt, secret="whsec_someone_else"),
        "six minutes old": post_event(api, fake, evt, timestamp=fake.now() - 360),
        "six minutes ahead": post_event(api, fake, evt, timestamp=fake.now() + 360),
        "not JSON": post_event(api, fake, evt, body="not json at all"),
        "not an event": post_event(api, fake, evt, body='{"id": "evt_1"}'),
    }
    codes = {why: (r.status_code, r.json()["error"]["code"]) for why, r in refused.items()}
    assert codes == {"wrong secret": (400, "bad_signature"), "six minutes old": (400, "timestamp_out_of_range"),
                     "six minutes ahead": (400, "timestamp_out_of_range"), "not JSON": (400, "bad_payload"),
                     "not an event": (400, "bad_payload")}
    unsigned = api.post("/api/v1/billing/webhook", content=b"{}", headers={"Content-Type": "application/json"})
    assert (unsigned.status_code, unsigned.json()["error"]["code"]) == (400, "missing_signature")
    # A body changed after signing fails even with a fresh, valid header for the original.
    import json

    from tests.fake_stripe_shapes import sign

    payload = json.dumps(evt)
    tampered = api.post("/api/v1/billing/webhook", content=payload.replace("100", "900").encode(),
                        headers={"Stripe-Signature": sign(payload, fake.webhook_secret, fake.now())})
    assert tampered.status_code == 400
    assert account(ws) == (0, 0, 0) and outcome(evt["id"]) is None
    # Within the tolerance, either way, it goes through.
    assert post_event(api, fake, evt, timestamp=fake.now() + 240).status_code == 200
    assert account(ws) == (100, 0, 0)


def test_subscription_status_only_moves_forward_and_invoices_credit_the_plan(shop, fake, api):
    ws, ids = shop
    events = fake.pay(checkout(fake, ws, ids, mode="subscription"))
    assert deliver_all(api, fake, events) == [200] * len(events)
    sub_id = events[0]["data"]["object"]["id"]
    assert account(ws) == (500, 0, 0)
    fake.clock_offset = 10
    late = fake.update_subscription(sub_id, status="past_due")
    fake.clock_offset = 20
    later = fake.update_subscription(sub_id, status="active", cancel_at_period_end=True)
    assert post_event(api, fake, later).json()["outcome"] == "applied"
    assert post_event(api, fake, late).json()["outcome"] == "ignored"  # older: delivered late, changes nothing
    with session_scope() as session:
        row = session.exec(select(Subscription).where(Subscription.stripe_subscription_id == sub_id)).one()
        assert (row.status, row.cancel_at_period_end) == ("active", True)
        # The plan changes; the running subscription moves to the new terms at renewal, not before.
        session.add(PlanVersion(plan_id=ids["plan_id"], version=2, stripe_price_id="price_studio_month",
                                monthly_credits=800))
    fake.clock_offset = 30
    invoice = fake.renew(sub_id)
    assert deliver_all(api, fake, fake.events[-3:]) == [200, 200, 200]
    assert account(ws) == (1300, 0, 0)
    assert ledger(ws)[f"stripe:invoice:{invoice['id']}"] == 800
    fake.clock_offset = 40
    post_event(api, fake, fake.cancel_subscription(sub_id))
    post_event(api, fake, later)  # a replay of an old update cannot revive it
    with session_scope() as session:
        row = session.exec(select(Subscription).where(Subscription.stripe_subscription_id == sub_id)).one()
        assert row.status == "canceled" and row.plan_version_id != ids["plan_version_id"]


def test_refund_after_dispute_never_goes_below_zero_and_debt_blocks_jobs(shop, fake, api):
    ws, ids = shop
    deliver_all(api, fake, fake.pay(checkout(fake, ws, ids)))
    charge = fake.events[0]["data"]["object"]["id"]
    with session_scope() as session:
        credits.reserve(session=session, workspace_id=ws, amount=70, job_id="job-1")
        credits.settle(session=session, job_id="job-1", success=True)
    assert post_event(api, fake, fake.dispute(charge)).status_code == 200
    assert account(ws) == (0, 0, 70)
    fake.hold_deliveries = True
    fake.refund(charge, 400)
    assert deliver_all(api, fake, fake.events[-2:]) == [200, 200]  # refund.created (ignored), charge.refunded
    assert account(ws) == (0, 0, 70)  # the dispute already took all 100: nothing left to take
    assert sorted(ledger(ws).values()) == [-30, 0, 100]
    with pytest.raises(InsufficientCredits) as refused, session_scope() as session:
        credits.reserve(session=session, workspace_id=ws, amount=1, job_id="job-2")
    assert refused.value.code == "billing_debt"


def test_partial_refunds_take_credits_back_pro_rata_and_early_ones_wait(shop, fake, api):
    ws, ids = shop
    fake.hold_deliveries = True
    paid = fake.pay(checkout(fake, ws, ids))
    charge = paid[0]["data"]["object"]["id"]
    first = fake.refund(charge, 333)
    early = post_event(api, fake, first)  # its payment has not arrived yet: Stripe must retry
    assert (early.status_code, early.json()["error"]["code"]) == (503, "retry_later")
    assert outcome(first["id"]) is None
    deliver_all(api, fake, paid)
    assert post_event(api, fake, first).status_code == 200
    assert account(ws) == (67, 0, 0)  # floor(100 × 333/1000) = 33 taken
    last = fake.refund(charge)  # the remaining 667 cents: exactly the rest of the credits
    assert post_event(api, fake, last).status_code == 200
    assert account(ws) == (0, 0, 0) and sorted(ledger(ws).values()) == [-67, -33, 100]


def test_async_payment_waits_then_credits_and_a_failed_one_never_does(shop, fake, api):
    ws, ids = shop
    fake.hold_deliveries = True
    waiting = fake.pay(checkout(fake, ws, ids), async_payment=True)
    assert deliver_all(api, fake, waiting) == [200]
    assert account(ws) == (0, 0, 0)
    succeeded = fake.settle_async(waiting[-1]["data"]["object"]["id"])
    assert post_event(api, fake, succeeded).status_code == 200
    assert account(ws) == (100, 0, 0)
    other = fake.pay(checkout(fake, ws, ids), async_payment=True)
    failed = fake.settle_async(other[-1]["data"]["object"]["id"], succeeded=False)
    assert deliver_all(api, fake, [*other, failed]) == [200, 200]
    assert account(ws) == (100, 0, 0)


def test_unknown_events_are_acknowledged_and_unknown_workspaces_recorded(shop, fake, api):
    _, ids = shop
    odd = fake.record("customer.tax_id.created", {"id": "txi_1", "object": "tax_id"})
    assert post_event(api, fake, odd).json()["outcome"] == "ignored"
    fake.hold_deliveries = True
    ids_elsewhere = dict(ids)
    evt = fake.pay(checkout(fake, 999_999, ids_elsewhere))[-1]
    answer = post_event(api, fake, evt)
    assert answer.status_code == 200 and answer.json()["outcome"] == "failed"
    with session_scope() as session:
        issue = session.exec(select(BillingIssue)).one()
        assert issue.kind == "unknown_workspace" and "999999" in issue.detail
    assert post_event(api, fake, evt).json()["outcome"] == "duplicate"  # not retried forever


def test_the_webhook_is_404_while_billing_is_off(env, api, monkeypatch):
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    answer = api.post("/api/v1/billing/webhook", content=b"{}", headers={"Stripe-Signature": "t=1,v1=00"})
    assert (answer.status_code, answer.json()["error"]["code"]) == (404, "billing_off")


def test_an_automatic_topup_credits_its_pack_once(shop, fake, api):
    from app.models import BillingCustomer
    from app.services.billing.client import stripe_client

    ws, ids = shop
    deliver_all(api, fake, fake.pay(checkout(fake, ws, ids)))  # the first purchase saves the card
    with session_scope() as session:
        customer = session.get(BillingCustomer, ws).stripe_customer_id
    pi = stripe_client().v1.payment_intents.create({
        "amount": 1000, "currency": "usd", "customer": customer, "off_session": True, "confirm": True,
        "metadata": {"workspace_id": str(ws), "kind": "topup", "pack_id": str(ids["pack_id"])}})
    succeeded = next(e for e in fake.events if e["type"] == "payment_intent.succeeded"
                     and e["data"]["object"]["id"] == pi.id)
    assert post_event(api, fake, succeeded).json()["outcome"] == "applied"
    assert post_event(api, fake, succeeded).json()["outcome"] == "duplicate"
    assert account(ws) == (200, 0, 0) and ledger(ws)[f"stripe:topup:{pi.id}"] == 100
    with session_scope() as session:
        subjects = [m.subject for m in session.exec(select(OutboxEmail).order_by(OutboxEmail.id))]
    assert subjects[-1] == "Receipt: 10.00 USD for an automatic top-up"


def test_a_refunded_plan_invoice_is_found_through_its_invoice_payment(shop, fake, api):
    ws, ids = shop
    fake.hold_deliveries = True
    events = fake.pay(checkout(fake, ws, ids, mode="subscription"))
    for evt in events:
        # As Stripe sends it: an invoice's payments are not in the webhook (an includable field).
        evt["data"]["object"].pop("payments", None)
        assert post_event(api, fake, evt).status_code == 200
    assert account(ws) == (500, 0, 0)
    charge = next(e for e in events if e["type"] == "charge.succeeded")["data"]["object"]["id"]
    assert post_event(api, fake, fake.refund(charge, 1450)).status_code == 200  # half of 29.00
    assert account(ws) == (250, 0, 0)


def test_a_refund_of_a_payment_atelier_never_saw_is_recorded_after_stripes_retry_window(shop, fake, api):
    assert shop
    fake.hold_deliveries = True
    customer = fake.create_customer({"email": "x@example.com"})
    pi = fake._new_pi(amount=500, currency="usd", customer=customer["id"], metadata={})
    charge = fake._charge(pi)
    recent = fake.refund(charge["id"], 100)
    assert post_event(api, fake, recent).status_code == 503  # it may still be on its way
    charge["created"] -= 4 * 86400
    old = fake.record("charge.refunded", charge)
    answer = post_event(api, fake, old)
    assert answer.status_code == 200 and answer.json()["outcome"] == "failed"
    with session_scope() as session:
        assert session.exec(select(BillingIssue)).one().kind == "unknown_payment"


def test_two_deliveries_of_one_event_at_once_apply_it_once(shop, fake, api):
    """The second delivery waits for the first's transaction (SQLite: the write lock; PostgreSQL: the unique
    keys it inserts) and then finds the event stored: `duplicate`, its own writes rolled back."""
    import threading
    import time

    from app.services.billing import webhooks

    ws, ids = shop
    fake.hold_deliveries = True
    evt = fake.pay(checkout(fake, ws, ids))[-1]
    answers: list[int] = []
    with session_scope() as session:
        assert webhooks.process_event(session=session, event=evt) == "applied"
        other = threading.Thread(target=lambda: answers.append(post_event(api, fake, evt)))
        other.start()
        time.sleep(2)  # long enough on a loaded machine for the other delivery to be waiting on this one
        assert answers == []
    other.join(timeout=60)
    assert [a.json()["outcome"] for a in answers] == ["duplicate"]
    assert account(ws) == (100, 0, 0) and len(ledger(ws)) == 1
    with session_scope() as session:
        assert len(session.exec(select(OutboxEmail)).all()) == 1  # one receipt


def test_deliveries_in_flight_at_once_each_apply_once(shop, fake, api):
    """Stripe delivers a busy account's events concurrently: on SQLite they take turns on one process lock
    (db.write_turn) instead of SQLite's sleeping busy handler, on PostgreSQL on the account's row; all apply."""
    from concurrent.futures import ThreadPoolExecutor

    ws, ids = shop
    paid = [fake.pay(checkout(fake, ws, ids))[-1] for _ in range(8)]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda evt: post_event(api, fake, evt), paid + paid))  # and each one again
    assert sorted(a.json()["outcome"] for a in answers) == ["applied"] * 8 + ["duplicate"] * 8
    assert account(ws) == (800, 0, 0) and len(ledger(ws)) == 8
    with session_scope() as session:
        assert len(session.exec(select(OutboxEmail)).all()) == 8
