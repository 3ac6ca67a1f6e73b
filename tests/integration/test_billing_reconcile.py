"""Reconciliation against the fake Stripe's events list: a delivery that never came is applied once and
reported, a tampered or orphaned ledger row is found, each issue is emailed to the admins once."""

from __future__ import annotations

import pytest
from rq import SimpleWorker
from sqlmodel import select

from app.db import session_scope
from app.models import BillingIssue, BillingState, CreditEntry, OutboxEmail
from app.queue import get_queue
from app.redis_client import get_redis
from app.services.billing import reconcile
from tests.integration.billing_helpers import (
    account,
    catalogue,
    checkout,
    configured_stripe,
    ledger,
    post_event,
)
from tests.integration.test_accounts import register


@pytest.fixture
def fake(any_db, monkeypatch):
    yield from configured_stripe(monkeypatch)


@pytest.fixture
def shop(fake, api):
    admin = register("admin@example.com")  # the first account: the site admin
    owner = register("owner@example.com")
    return admin, owner.workspace_id, catalogue()


def issues() -> list[tuple[str, str, bool]]:
    with session_scope() as session:
        return [(i.kind, i.business_key, i.resolved_at is not None)
                for i in session.exec(select(BillingIssue).order_by(BillingIssue.id))]


def admin_mail() -> list[str]:
    with session_scope() as session:
        return [m.body_text for m in session.exec(select(OutboxEmail).where(
            OutboxEmail.to_address == "admin@example.com").order_by(OutboxEmail.id))]


def test_a_missed_delivery_is_applied_once_and_reported(shop, fake, api):
    _, ws, ids = shop
    delivered = fake.pay(checkout(fake, ws, ids))
    assert [post_event(api, fake, e).status_code for e in delivered] == [200, 200, 200]
    missed = fake.pay(checkout(fake, ws, ids))  # the webhook endpoint was down: never delivered
    missed_pi = missed[-1]["data"]["object"]["payment_intent"]
    assert account(ws) == (100, 0, 0)
    done = reconcile.reconcile()
    assert done["applied"] == [missed[-1]["id"]] and done["events"] == 6
    assert account(ws) == (200, 0, 0) and f"stripe:pack:{missed_pi}" in ledger(ws)
    assert issues() == [("missing_delivery", missed[-1]["id"], True)]
    assert len(admin_mail()) == 1 and missed[-1]["id"] in admin_mail()[0]
    # The late webhook, and the next pass, change nothing and email nobody again.
    assert post_event(api, fake, missed[-1]).json()["outcome"] == "duplicate"
    assert reconcile.reconcile()["issues"] == []
    assert account(ws) == (200, 0, 0) and len(admin_mail()) == 1
    with session_scope() as session:
        assert int(session.get(BillingState, reconcile.CURSOR_KEY).value) == missed[-1]["created"]
        rows = reconcile.payments(session, limit=10)
        assert [(r.kind, r.credits, r.amount_cents, r.workspace_id) for r in rows] == [("pack", 100, 1000, ws)] * 2
        assert reconcile.payments_count(session) == 2
        assert [i.kind for i in reconcile.list_issues(session, 10)] == ["missing_delivery"]


def test_a_tampered_and_an_orphaned_ledger_row_are_found(shop, fake, api):
    _, ws, ids = shop
    events = fake.pay(checkout(fake, ws, ids))
    for evt in events:
        post_event(api, fake, evt)
    pi = events[-1]["data"]["object"]["payment_intent"]
    assert reconcile.reconcile()["issues"] == []
    with session_scope() as session:
        row = session.exec(select(CreditEntry).where(CreditEntry.reference == f"stripe:pack:{pi}")).one()
        row.amount = 1000  # someone edited the ledger by hand
        session.add(CreditEntry(workspace_id=ws, kind="pack", amount=100, reference="stripe:pack:pi_forged"))
    found = reconcile.reconcile()["issues"]
    assert sorted(found) == sorted([f"amount_mismatch pack:{pi}", "duplicate_effect stripe:pack:pi_forged"])
    assert sorted(issues()) == sorted([("amount_mismatch", f"pack:{pi}", False),
                                       ("duplicate_effect", "pack:pi_forged", False)])
    assert len(admin_mail()) == 1 and "pi_forged" in admin_mail()[0]
    assert reconcile.reconcile()["issues"] == []  # still open: not reported twice
    assert len(admin_mail()) == 1


def test_the_periodic_task_queues_one_pass_that_a_worker_runs(shop, fake, api):
    from jobs import periodic

    _, ws, ids = shop
    fake.pay(checkout(fake, ws, ids))
    task = next(t for t in periodic.PERIODIC if t.name == "billing-reconcile")
    assert periodic.run_due((task,)) == {"billing-reconcile": "queued"}
    assert periodic.run_due((task,)) == {}  # once per interval across the fleet
    SimpleWorker([get_queue("default")], connection=get_redis()).work(burst=True)
    assert account(ws) == (100, 0, 0)
