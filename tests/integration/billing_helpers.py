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
