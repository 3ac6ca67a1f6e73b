"""Budgets on SQLite and PostgreSQL: monthly caps inside credits.reserve, low-balance warnings once per crossing,
automatic top-up through the fake Stripe (once per crossing, never past the month's ceiling)."""

from __future__ import annotations

import uuid

import pytest
from rq import SimpleWorker
from sqlmodel import func, select

from app.db import session_scope
from app.models import BillingEffect, Job, OutboxEmail, User
from app.queue import QUEUES, get_queue
from app.redis_client import get_redis
from app.services import credits
from app.services.billing import budgets, checkout, plans
from app.services.billing.budgets import BudgetExceeded, BudgetForm, warning_for
from app.services.workspaces.service import acting
from tests.integration.billing_helpers import PACK_PRICE, account, configured_stripe
from tests.integration.test_workspaces_service import accept, invite, register, team


@pytest.fixture
def stripe_fake(any_db, monkeypatch):
    yield from configured_stripe(monkeypatch)


def grant(workspace_id, amount):
    with session_scope() as session:
        credits.adjust(session=session, actor_id=None, workspace_id=workspace_id, amount=amount, reason="test",
                       reference=f"test:{uuid.uuid4()}")


def spend(workspace_id, amount, user_id=None) -> str:
    """A job started by `user_id` reserving `amount` (the Job row records who started it)."""
    job_id = str(uuid.uuid4())
    with session_scope() as session:
        session.add(Job(id=job_id, kind="generate.images", workspace_id=workspace_id, user_id=user_id, params={},
                        queue="default", rq_id=job_id))
        session.flush()
        credits.reserve(session=session, workspace_id=workspace_id, amount=amount, job_id=job_id, user_id=user_id)
    return job_id


def save(actor, workspace_id, **form):
    with session_scope() as session:
        budgets.save_budget(session=session, actor=actor, workspace_id=workspace_id, form=BudgetForm(**form))


def warnings_sent() -> list[str]:
    with session_scope() as session:
        return list(session.exec(select(OutboxEmail.subject).order_by(OutboxEmail.id)).all())


def run_jobs():
    SimpleWorker([get_queue(n) for n in QUEUES], connection=get_redis()).work(burst=True)


def test_warning_is_once_per_crossing_and_rearmed_above():
    assert warning_for([100, 20], 150, 120, None) == (None, None)
    assert warning_for([100, 20], 120, 90, None) == (100, 100)
    assert warning_for([100, 20], 90, 80, 100) == (100, None)  # still under: no second email
    assert warning_for([100, 20], 80, 10, 100) == (20, 20)  # a lower mark
    assert warning_for([100, 20], 130, 90, 20) == (100, 100)  # the balance was back above: re-armed
    assert warning_for([100, 20], 120, 10, None) == (20, 20)  # both at once: one email, the lowest


def test_workspace_and_member_caps_refuse_with_their_codes(stripe_fake):
    owner, ed = register("olga@example.com"), register("ed@example.com")
    workspace_id = team(owner)
    _, token = invite(owner, workspace_id, "ed@example.com")
    accept(token, ed)
    grant(workspace_id, 1000)
    with session_scope() as session:
        as_owner = acting(session=session, user=session.get(User, owner.id), workspace_id=workspace_id)
    save(as_owner, workspace_id, monthly_cap=100, member_cap=30, member_caps={owner.id: 90})
    spend(workspace_id, 25, ed.id)
    with pytest.raises(BudgetExceeded) as member:
        spend(workspace_id, 6, ed.id)
    assert member.value.code == "budget_member_cap" and member.value.status == 402
    first = spend(workspace_id, 60, owner.id)
    with pytest.raises(BudgetExceeded) as whole:
        spend(workspace_id, 20, owner.id)  # 85 + 20 > 100 though the owner's own cap allows it
    assert whole.value.code == "budget_workspace_cap"
    assert account(workspace_id)[:2] == (1000 - 85, 85)  # refusals held nothing
    with session_scope() as session:
        credits.settle(session=session, job_id=first, success=False)  # a failed job gives its credits back
    spend(workspace_id, 20, owner.id)
    with session_scope() as session:
        assert budgets.spent_this_month(session=session, workspace_id=workspace_id) == 45
        assert budgets.spent_this_month(session=session, workspace_id=workspace_id, user_id=ed.id) == 25
    # An editor cannot set budgets; only the owner.
    from app.errors import Forbidden

    with session_scope() as session:
        as_editor = acting(session=session, user=session.get(User, ed.id), workspace_id=workspace_id)
    with pytest.raises(Forbidden):
        save(as_editor, workspace_id, monthly_cap=None)


def test_low_balance_emails_go_to_owners_and_admins_once_per_crossing(stripe_fake):
    owner = register("olga@example.com")
    grant(owner.workspace_id, 100)
    save(owner, owner.workspace_id, low_balance_thresholds="50, 20")
    spend(owner.workspace_id, 30)
    assert warnings_sent() == []
    spend(owner.workspace_id, 25)  # 45: under 50
    spend(owner.workspace_id, 5)  # 40: still under, no second email
    assert len(warnings_sent()) == 1 and "below 50" in warnings_sent()[0]
    spend(owner.workspace_id, 25)  # 15: under 20
    spend(owner.workspace_id, 1)
    assert len(warnings_sent()) == 2 and "below 20" in warnings_sent()[1]
    grant(owner.workspace_id, 100)  # 114: above both again
    spend(owner.workspace_id, 70)  # 44: a new crossing of 50
    assert len(warnings_sent()) == 3 and "below 50" in warnings_sent()[2]
    with session_scope() as session:
        mail = session.exec(select(OutboxEmail)).all()
    assert {m.to_address for m in mail} == {"olga@example.com"}


def test_automatic_top_up_once_per_crossing_and_never_past_the_ceiling(stripe_fake):
    owner = register("olga@example.com")
    with session_scope() as session:
        pack = plans.create_pack(session=session, name="Hundred", credits=100, stripe_price_id=PACK_PRICE,
                                 amount_cents=1000)
        customer = checkout.customer_for(session=session, workspace_id=owner.workspace_id, email=owner.email)
    stripe_fake.objects["customer"][customer]["invoice_settings"]["default_payment_method"] = "pm_card_visa"
    grant(owner.workspace_id, 60)
    save(owner, owner.workspace_id, auto_topup_pack_id=pack.id, auto_topup_below=50, auto_topup_monthly_max=150)
    spend(owner.workspace_id, 5)  # 55: above the mark
    run_jobs()
    assert account(owner.workspace_id)[0] == 55
    spend(owner.workspace_id, 15)  # 40: crosses 50 → one top-up
    spend(owner.workspace_id, 5)  # 35: same crossing, nothing more
    run_jobs()
    assert account(owner.workspace_id)[0] == 135
    with session_scope() as session:
        topups = session.exec(select(BillingEffect).where(BillingEffect.kind == "topup")).all()
    assert len(topups) == 1 and topups[0].business_key.startswith("topup:pi_")
    intent = stripe_fake.get("payment_intent", topups[0].stripe_object_id)
    assert intent["metadata"] == {"workspace_id": str(owner.workspace_id), "kind": "topup", "pack_id": str(pack.id)}
    spend(owner.workspace_id, 90)  # 45: a new crossing, but 100 more would pass the 150 ceiling
    run_jobs()
    assert account(owner.workspace_id)[0] == 45
    assert len(stripe_fake.objects["payment_intent"]) == 1
    with session_scope() as session:
        assert budgets.topped_up_this_month(session=session, workspace_id=owner.workspace_id) == 100
        assert session.exec(select(func.count()).select_from(BillingEffect)).one() == 1


def test_a_declined_top_up_adds_nothing_and_the_next_crossing_tries_again(stripe_fake):
    owner = register("olga@example.com")
    with session_scope() as session:
        pack = plans.create_pack(session=session, name="Hundred", credits=100, stripe_price_id=PACK_PRICE,
                                 amount_cents=1000)
        customer = checkout.customer_for(session=session, workspace_id=owner.workspace_id, email=owner.email)
    stripe_fake.objects["customer"][customer]["invoice_settings"]["default_payment_method"] = "pm_card_visa"
    grant(owner.workspace_id, 60)
    save(owner, owner.workspace_id, auto_topup_pack_id=pack.id, auto_topup_below=50, auto_topup_monthly_max=500)
    stripe_fake.decline_off_session = True
    spend(owner.workspace_id, 20)
    run_jobs()
    assert account(owner.workspace_id)[0] == 40
    grant(owner.workspace_id, 20)
    spend(owner.workspace_id, 20)  # 60 → 40: crossing again, the card works now
    run_jobs()
    assert account(owner.workspace_id)[0] == 140


def test_budget_form_checks(stripe_fake):
    from app.errors import ValidationFailed

    owner = register("olga@example.com")
    with session_scope() as session:
        pack = plans.create_pack(session=session, name="Hundred", credits=100, stripe_price_id=PACK_PRICE)
    for form, code in (({"low_balance_thresholds": "10, x"}, "invalid_thresholds"),
                       ({"monthly_cap": -1}, "invalid_budget"),
                       ({"auto_topup_pack_id": pack.id, "auto_topup_below": 10, "auto_topup_monthly_max": 50},
                        "invalid_topup")):
        with pytest.raises(ValidationFailed) as bad:
            save(owner, owner.workspace_id, **form)
        assert bad.value.code == code


def test_a_top_up_claim_left_by_a_dead_job_expires(stripe_fake):
    from datetime import timedelta

    from app.models import BillingState, utcnow

    owner = register("olga@example.com")
    with session_scope() as session:
        assert budgets._claim_topup(session, owner.workspace_id)
        assert not budgets._claim_topup(session, owner.workspace_id)  # one at a time
        row = session.get(BillingState, budgets.TOPUP_PENDING.format(owner.workspace_id))
        row.updated_at = utcnow() - budgets.TOPUP_STALE - timedelta(seconds=1)
        session.add(row)
        session.flush()
        assert budgets._claim_topup(session, owner.workspace_id)  # stale: claimed again
