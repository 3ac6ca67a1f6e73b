"""Money's effects on credits (app/services/billing/effects.py): once per business key, debt first, never below
zero, debt refuses new jobs, receipts to the owner — on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlmodel import select

from app.db import session_scope
from app.errors import InsufficientCredits, ValidationFailed
from app.models import OutboxEmail
from app.services import credits
from app.services.billing import effects
from tests.integration.billing_helpers import account, ledger
from tests.integration.test_accounts import register


@pytest.fixture
def owner(any_db, monkeypatch):
    from tests.conftest import clear_caches

    monkeypatch.setenv("MONTHLY_FREE_CREDITS", "0")
    clear_caches()
    return register("owner@example.com")


def apply(workspace_id: int, key: str, kind: str, amount: int, cents: int = 0):
    with session_scope() as session:
        applied = effects.apply_effect(session=session, business_key=key, kind=kind, workspace_id=workspace_id,
                                       credits=amount, amount_cents=cents, stripe_object_id=key.split(":")[-1])
        return None if applied is None else (applied.credits, applied.applied_credits, applied.shortfall)


def spend(workspace_id: int, amount: int, job_id: str) -> None:
    with session_scope() as session:
        credits.reserve(session=session, workspace_id=workspace_id, amount=amount, job_id=job_id)
    with session_scope() as session:
        credits.settle(session=session, job_id=job_id, success=True)


def test_a_business_key_counts_once(owner):
    ws = owner.workspace_id
    assert apply(ws, "pack:pi_1", "pack", 100, 1000) == (100, 100, 0)
    assert apply(ws, "pack:pi_1", "pack", 100, 1000) is None
    assert apply(ws, "pack:pi_1", "purchase", 500, 1000) is None  # same key, whatever else the caller says
    assert account(ws) == (100, 0, 0)
    assert ledger(ws) == {"stripe:pack:pi_1": 100}


def test_take_back_stops_at_zero_and_the_rest_is_debt_that_refuses_jobs(owner):
    ws = owner.workspace_id
    apply(ws, "pack:pi_1", "pack", 100, 1000)
    spend(ws, 70, "job-1")
    assert apply(ws, "dispute:dp_1", "dispute", -100) == (-100, -30, 70)
    assert account(ws) == (0, 0, 70)
    with pytest.raises(InsufficientCredits) as refused, session_scope() as session:
        credits.reserve(session=session, workspace_id=ws, amount=1, job_id="job-2")
    assert refused.value.code == "billing_debt" and "70" in refused.value.message
    assert refused.value.details == {"debt": 70}
    # A later payment pays the debt first; the rest reaches the balance and jobs run again.
    assert apply(ws, "pack:pi_2", "pack", 100, 1000) == (100, 30, -70)
    assert account(ws) == (30, 0, 0)
    spend(ws, 5, "job-3")
    assert account(ws) == (25, 0, 0)
    assert ledger(ws) == {"stripe:pack:pi_1": 100, "stripe:dispute:dp_1": -30, "stripe:pack:pi_2": 30}


def test_receipts_go_to_the_owner_for_payments_only(owner):
    ws = owner.workspace_id
    apply(ws, "pack:pi_1", "pack", 100, 1000)
    apply(ws, "invoice:in_1", "plan_credits", 500, 2900)
    apply(ws, "refund:re_1", "refund", -10, 100)
    apply(ws, "pack:pi_1", "pack", 100, 1000)  # a replay sends nothing
    with session_scope() as session:
        mails = session.exec(select(OutboxEmail).order_by(OutboxEmail.id)).all()
        assert [(m.to_address, m.subject) for m in mails] == [
            ("owner@example.com", "Receipt: 10.00 USD for a credit pack"),
            ("owner@example.com", "Receipt: 29.00 USD for your plan")]
        assert "Credits added: 500" in mails[1].body_text


def test_a_receipt_for_smtp_is_handed_over_for_the_mail_queue_and_a_replay_hands_over_none(owner, monkeypatch):
    from tests.conftest import clear_caches

    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")  # mail goes out: a receipt waits as pending for the queue
    clear_caches()
    ws = owner.workspace_id
    handed = []
    for _ in range(2):
        with session_scope() as session:
            effects.apply_effect(session=session, business_key="pack:pi_1", kind="pack", workspace_id=ws,
                                 credits=100, amount_cents=1000, stripe_object_id="pi_1")
            handed.append(effects.take_receipts(session))
    with session_scope() as session:
        mails = session.exec(select(OutboxEmail)).all()
    assert handed == [[mails[0].id], []] and len(mails) == 1
    assert (mails[0].status, mails[0].to_address) == ("pending", "owner@example.com")
    assert "Reference: pi_1" in mails[0].body_text


def test_bad_effects_are_refused_and_change_nothing(owner):
    ws = owner.workspace_id
    for key, kind, workspace in (("", "pack", ws), ("pack:x", "gift", ws), ("x" * 130, "pack", ws),
                                 ("pack:pi_9", "pack", 999_999)):
        with pytest.raises(ValidationFailed):
            apply(workspace, key, kind, 10)
    assert account(ws) == (0, 0, 0) and ledger(ws) == {}


def test_parallel_deliveries_count_once_and_take_backs_never_overdraw(owner):
    from concurrent.futures import ThreadPoolExecutor

    ws = owner.workspace_id
    with ThreadPoolExecutor(8) as pool:  # the same payment from 8 deliveries at once, plus 4 other payments
        done = list(pool.map(lambda n: apply(ws, f"pack:pi_{n % 5}", "pack", 100, 1000), range(40)))
    assert sum(1 for d in done if d is not None) == 5
    assert account(ws) == (500, 0, 0)
    with ThreadPoolExecutor(8) as pool:  # take-backs racing each other: 7 × 100 from 500
        list(pool.map(lambda n: apply(ws, f"dispute:dp_{n}", "dispute", -100), range(7)))
    assert account(ws) == (0, 0, 200)
    assert sum(ledger(ws).values()) == 0
