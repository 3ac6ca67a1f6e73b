"""Shared set-up for the billing tests: a fake Stripe configured as the app's Stripe, and small readers."""

from __future__ import annotations

from collections.abc import Iterator

from sqlmodel import col, select

from app.db import session_scope
from app.models import BillingEffect, CreditAccount, CreditEntry
from tests.fake_stripe import FakeStripe

PACK_PRICE = "price_pack_100"
PLAN_PRICE = "price_studio_month"


def configured_stripe(monkeypatch, *, webhook_url: str = "") -> Iterator[FakeStripe]:
    """A started FakeStripe whose key, webhook secret and address are the app's settings."""
    from tests.conftest import clear_caches

    fake = FakeStripe(webhook_url=webhook_url).start()
    fake.add_price(PACK_PRICE, 1000)
    fake.add_price(PLAN_PRICE, 2900, interval="month")
    for name, value in fake.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MONTHLY_FREE_CREDITS", "0")
    clear_caches()
    try:
        yield fake
    finally:
        fake.stop()
        clear_caches()


def account(workspace_id: int) -> tuple[int, int, int]:
    """(balance, held, debt) read afresh."""
    with session_scope() as session:
        row = session.get(CreditAccount, workspace_id)
        return (row.balance, row.held, row.debt) if row else (0, 0, 0)


def ledger(workspace_id: int) -> dict[str, int]:
    """The workspace's billing ledger rows, reference → amount."""
    with session_scope() as session:
        rows = session.exec(select(CreditEntry).where(CreditEntry.workspace_id == workspace_id,
                                                      col(CreditEntry.reference).startswith("stripe:"))).all()
        return {r.reference: r.amount for r in rows}


def effects(workspace_id: int) -> list[BillingEffect]:
    with session_scope() as session:
        rows = session.exec(select(BillingEffect).where(BillingEffect.workspace_id == workspace_id)
                            .order_by(col(BillingEffect.id))).all()
        for row in rows:
            session.expunge(row)
        return list(rows)


def catalogue(*, pack_credits: int = 100, plan_credits: int = 500) -> dict[str, int]:
    """A credit pack and a paid plan (version 1) selling at the fake's prices; their ids."""
    from app.models import CreditPack, Plan, PlanVersion

    with session_scope() as session:
        pack = CreditPack(name="100 credits", credits=pack_credits, stripe_price_id=PACK_PRICE, amount_cents=1000)
        plan = Plan(key="studio", name="Studio")
        session.add_all([pack, plan])
        session.flush()
        version = PlanVersion(plan_id=plan.id, version=1, stripe_price_id=PLAN_PRICE, amount_cents=2900,
                              monthly_credits=plan_credits, monthly_rename_quota=20000)
        session.add(version)
        session.flush()
        return {"pack_id": pack.id, "plan_id": plan.id, "plan_version_id": version.id}


def post_event(api, fake: FakeStripe, evt: dict, *, timestamp: int | None = None, secret: str | None = None,
               body: str | None = None):
    """Deliver one of the fake's events through the app's webhook route, signed as Stripe signs."""
    import json

    from tests.fake_stripe_shapes import sign

    payload = body if body is not None else json.dumps(evt, indent=2)
    header = sign(payload, secret or fake.webhook_secret, fake.now() if timestamp is None else timestamp)
    return api.post("/api/v1/billing/webhook", content=payload.encode(),
                    headers={"Stripe-Signature": header, "Content-Type": "application/json"})


def checkout(fake: FakeStripe, workspace_id: int, ids: dict[str, int], *, mode: str = "payment") -> str:
    """A Checkout Session made with the real library as the Billing page makes it (the contract); its id."""
    from app.services.billing.client import stripe_client

    if mode == "payment":
        metadata = {"workspace_id": str(workspace_id), "kind": "pack", "pack_id": str(ids["pack_id"])}
        params = {"mode": "payment", "line_items": [{"price": PACK_PRICE, "quantity": 1}], "metadata": metadata}
    else:
        metadata = {"workspace_id": str(workspace_id), "kind": "plan", "plan_id": str(ids["plan_id"]),
                    "plan_version_id": str(ids["plan_version_id"])}
        params = {"mode": "subscription", "line_items": [{"price": PLAN_PRICE, "quantity": 1}],
                  "metadata": metadata, "subscription_data": {"metadata": metadata}}
    session = stripe_client().v1.checkout.sessions.create({
        **params, "client_reference_id": str(workspace_id), "success_url": "http://localhost:3000/billing?ok=1",
        "cancel_url": "http://localhost:3000/billing"})
    return session.id
