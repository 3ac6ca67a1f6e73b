"""The credits ledger on SQLite and PostgreSQL, including parallel spends."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from app.db import session_scope
from app.errors import InsufficientCredits, ValidationFailed
from app.models import CreditEntry
from app.services import credits
from tests.integration.test_accounts import register


@pytest.fixture
def user(any_db, monkeypatch):
    from tests.conftest import clear_caches

    monkeypatch.setenv("MONTHLY_FREE_CREDITS", "10")
    monkeypatch.setenv("PROVIDER_PRICES", '{"local": 0, "openai": 4}')
    clear_caches()
    return register("ada@example.com")


def balance(workspace_id):
    with session_scope() as session:
        return credits.balance(session=session, workspace_id=workspace_id)


def reserve(workspace_id, amount, job_id):
    with session_scope() as session:
        credits.reserve(session=session, workspace_id=workspace_id, amount=amount, job_id=job_id)


def settle(job_id, success):
    with session_scope() as session:
        credits.settle(session=session, job_id=job_id, success=success)


def test_monthly_allowance_counts_once_per_month(user):
    assert balance(user.workspace_id) == (10, 0)
    assert balance(user.workspace_id) == (10, 0)
    with session_scope() as session:
        assert credits.grant_monthly_allowance(session=session, workspace_id=user.workspace_id,
                                               now=datetime(2031, 1, 5, tzinfo=UTC))
        assert not credits.grant_monthly_allowance(session=session, workspace_id=user.workspace_id,
                                                   now=datetime(2031, 1, 28, tzinfo=UTC))
    assert balance(user.workspace_id) == (20, 0)


def test_reserve_then_capture(user):
    reserve(user.workspace_id, 4, "job-a")
    assert balance(user.workspace_id) == (6, 4)
    settle("job-a", True)
    settle("job-a", True)  # a retried job cannot capture twice
    settle("job-a", False)  # nor release after capture
    assert balance(user.workspace_id) == (6, 0)


def test_reserve_then_release(user):
    reserve(user.workspace_id, 4, "job-b")
    settle("job-b", False)
    settle("job-b", False)
    assert balance(user.workspace_id) == (10, 0)
    with session_scope() as session:
        kinds = [e.kind for e in session.exec(select(CreditEntry).order_by(CreditEntry.id)).all()]
    assert kinds == ["allowance", "reserve", "release"]


def test_replayed_reserve_counts_once(user):
    reserve(user.workspace_id, 3, "job-c")
    reserve(user.workspace_id, 3, "job-c")
    assert balance(user.workspace_id) == (7, 3)


def test_insufficient_credits_leave_nothing_behind(user):
    with pytest.raises(InsufficientCredits):
        reserve(user.workspace_id, 11, "job-d")
    assert balance(user.workspace_id) == (10, 0)
    with session_scope() as session:
        assert session.exec(select(CreditEntry).where(CreditEntry.job_id == "job-d")).all() == []


def test_prices_per_provider(user):
    assert credits.price_for("local", 10) == 0
    assert credits.price_for("openai", 3) == 12
    assert credits.price_for("unknown-provider", 1) == 4  # priced like the dearest


def test_admin_adjustments(user):
    with session_scope() as session:
        credits.adjust(session=session, actor_id=user.id, workspace_id=user.workspace_id, amount=50, reason="Welcome",
                       reference="grant-1")
        credits.adjust(session=session, actor_id=user.id, workspace_id=user.workspace_id, amount=50, reason="Welcome",
                       reference="grant-1")
    assert balance(user.workspace_id) == (60, 0)
    with pytest.raises(ValidationFailed), session_scope() as session:
        credits.adjust(session=session, actor_id=user.id, workspace_id=user.workspace_id, amount=-61, reason="Oops",
                       reference="fix-1")
    with pytest.raises(ValidationFailed), session_scope() as session:
        credits.adjust(session=session, actor_id=user.id, workspace_id=user.workspace_id, amount=5, reason=" ",
                       reference="r")
    assert balance(user.workspace_id) == (60, 0)


def test_parallel_spends_never_go_below_zero(user):
    """Twenty concurrent 1-credit spends on a balance of 10: exactly ten succeed."""
    balance(user.workspace_id)

    def spend(i):
        try:
            reserve(user.workspace_id, 1, f"parallel-{i}")
            return True
        except InsufficientCredits:
            return False

    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = list(pool.map(spend, range(20)))
    assert outcomes.count(True) == 10
    assert balance(user.workspace_id) == (0, 10)


def test_balances_for_many_users_read_without_writing(user):
    other = register("grace@example.com")
    reserve(user.workspace_id, 4, "job-m")
    with session_scope() as session:
        before = len(session.exec(select(CreditEntry)).all())
        ids = [user.workspace_id, other.workspace_id]
        assert credits.balances(session=session, workspace_ids=ids) == {user.workspace_id: 6, other.workspace_id: 10}
        assert len(session.exec(select(CreditEntry)).all()) == before
    assert balance(other.workspace_id) == (10, 0)
