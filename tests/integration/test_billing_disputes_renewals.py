"""Disputes that close (won: the credits come back once, debt first; lost: nothing more) and renewals that move
the Stripe subscription to the latest plan version's price — over the real route, the real stripe library and
the fake Stripe, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlmodel import select

from app.db import session_scope
from app.models import PlanVersion, StripeEvent, Subscription
from app.services import credits
from tests.fake_stripe_shapes import parse_form
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
    yield from configured_stripe(monkeypatch)


@pytest.fixture
def shop(fake, api):
    owner = register("owner@example.com")
    return owner.workspace_id, catalogue()


def _spend(ws: int, amount: int, job: str) -> None:
    with session_scope() as session:
        credits.reserve(session=session, workspace_id=ws, amount=amount, job_id=job)
    with session_scope() as session:
        credits.settle(session=session, job_id=job, success=True)


def _paid_charge(api, fake, ws, ids) -> str:
    for evt in fake.pay(checkout(fake, ws, ids)):
        assert post_event(api, fake, evt).status_code == 200
    return next(e for e in fake.events if e["type"] == "charge.succeeded")["data"]["object"]["id"]


def test_a_won_dispute_gives_back_what_it_took_once_and_pays_the_debt_first(shop, fake, api):
    ws, ids = shop
    charge = _paid_charge(api, fake, ws, ids)
    _spend(ws, 70, "job-1")
    opened = fake.dispute(charge)
    assert post_event(api, fake, opened).status_code == 200
    assert account(ws) == (0, 0, 70)  # 30 taken from the balance, 70 owed
    dispute = opened["data"]["object"]["id"]
    won = fake.close_dispute(dispute, won=True)
    assert post_event(api, fake, won).json()["outcome"] == "applied"
    assert account(ws) == (30, 0, 0)  # the 100 back: the 70 owed first, 30 to the balance
    assert ledger(ws)[f"stripe:dispute_won:{dispute}"] == 30
    back = next(e for e in effects(ws) if e.kind == "dispute_won")
    assert (back.credits, back.applied_credits, back.shortfall) == (100, 30, -70)
    # A replay of the event, and another event for the same dispute, change nothing.
    assert post_event(api, fake, won).json()["outcome"] == "duplicate"
    again = fake.record("charge.dispute.closed", won["data"]["object"])
    answer = post_event(api, fake, again).json()
    assert answer["outcome"] == "applied"
    assert account(ws) == (30, 0, 0) and len(ledger(ws)) == 3


def test_a_lost_dispute_takes_nothing_more(shop, fake, api):
    ws, ids = shop
    charge = _paid_charge(api, fake, ws, ids)
    opened = fake.dispute(charge)
    post_event(api, fake, opened)
    assert account(ws) == (0, 0, 0)
    lost = fake.close_dispute(opened["data"]["object"]["id"], won=False)
    assert post_event(api, fake, lost).json()["outcome"] == "applied"
    assert account(ws) == (0, 0, 0) and sorted(ledger(ws).values()) == [-100, 100]
    with session_scope() as session:
        assert "lost" in session.get(StripeEvent, lost["id"]).detail


def test_a_won_dispute_that_arrives_first_waits_and_refunds_meanwhile_keep_their_share(shop, fake, api):
    ws, ids = shop
    charge = _paid_charge(api, fake, ws, ids)
    fake.hold_deliveries = True
    first_refund = fake.refund(charge, 300)  # 30 credits, before the dispute
    opened = fake.dispute(charge)
    during = fake.refund(charge, 200)  # while the dispute is open: nothing left to take
    won = fake.close_dispute(opened["data"]["object"]["id"], won=True)
    early = post_event(api, fake, won)
    assert (early.status_code, early.json()["error"]["code"]) == (503, "retry_later")
    for evt in (first_refund, opened, during):
        assert post_event(api, fake, evt).status_code == 200
    assert account(ws) == (0, 0, 0)
    assert post_event(api, fake, won).status_code == 200
    # Won: the payment keeps only what its refunds (500 of 1000 cents) take back, whatever came when.
    assert account(ws) == (50, 0, 0)


def test_renewal_moves_the_stripe_price_to_the_latest_version(shop, fake, api):
    ws, ids = shop
    fake.hold_deliveries = True
    for evt in fake.pay(checkout(fake, ws, ids, mode="subscription")):
        assert post_event(api, fake, evt).status_code == 200
    sub_id = next(e for e in fake.events if e["type"] == "customer.subscription.created")["data"]["object"]["id"]
    with session_scope() as session:
        version = PlanVersion(plan_id=ids["plan_id"], version=2, stripe_price_id="price_studio_v2",
                              amount_cents=3900, monthly_credits=800)
        session.add(version)
        session.flush()
        v2 = version.id
    fake.clock_offset = 30
    invoice = fake.renew(sub_id)
    stale_update, _, paid = fake.events[-3:]
    # The new price is not in Stripe (yet): nothing is applied, Stripe must deliver the invoice again.
    refused = post_event(api, fake, paid)
    assert (refused.status_code, refused.json()["error"]["code"]) == (503, "retry_later")
    assert account(ws) == (500, 0, 0)
    fake.add_price("price_studio_v2", 3900, interval="month")
    assert post_event(api, fake, paid).json()["outcome"] == "applied"
    assert account(ws) == (1300, 0, 0) and ledger(ws)[f"stripe:invoice:{invoice['id']}"] == 800
    # Stripe's subscription now sells at the new price, changed once, without proration.
    assert fake.get("subscription", sub_id)["items"]["data"][0]["price"]["id"] == "price_studio_v2"
    moves = [r for r in fake.sent("POST", f"/v1/subscriptions/{sub_id}")
             if parse_form(r.raw).get("items", [{}])[0].get("price") == "price_studio_v2"]
    assert {r.headers.get("idempotency-key") for r in moves} == {f"atelier-renewal-{sub_id}-version-{v2}"}
    assert {parse_form(r.raw)["proration_behavior"] for r in moves} == {"none"}
    moved = fake.events[-1]
    assert moved["type"] == "customer.subscription.updated"
    # The change's own event, a late one from before the renewal, and a replay of the invoice change nothing.
    for evt in (moved, stale_update):
        assert post_event(api, fake, evt).status_code == 200
    assert post_event(api, fake, paid).json()["outcome"] == "duplicate"
    with session_scope() as session:
        row = session.exec(select(Subscription).where(Subscription.stripe_subscription_id == sub_id)).one()
        assert row.plan_version_id == v2
    # The next renewal is on the same version: Stripe is not asked again.
    before = len(fake.sent("POST", f"/v1/subscriptions/{sub_id}"))
    fake.clock_offset = 60
    fake.renew(sub_id)
    assert post_event(api, fake, fake.events[-1]).json()["outcome"] == "applied"
    assert len(fake.sent("POST", f"/v1/subscriptions/{sub_id}")) == before
    assert account(ws) == (2100, 0, 0)
