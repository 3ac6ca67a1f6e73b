"""Plans and packs as data, on SQLite and PostgreSQL: versions, the free plan's quota, member and storage limits."""

from __future__ import annotations

import pytest
from sqlmodel import select

from app.db import session_scope
from app.errors import Conflict, ValidationFailed
from app.models import PlanVersion, Subscription
from app.services.assets.ingest import ingest
from app.services.billing import plans
from tests import images
from tests.integration.test_workspaces_service import accept, invite, register, team


def edit_free(**terms) -> PlanVersion:
    with session_scope() as session:
        free = plans.free_plan(session=session)
        latest = plans.latest_version(session=session, plan_id=free.id)
        base = {k: getattr(latest, k) for k in plans.Terms.__dataclass_fields__}
        _, version = plans.edit_plan(session=session, actor_id=None, plan_id=free.id,
                                     terms=plans.Terms(**{**base, **terms}))
        session.flush()
        return version


def studio(**terms) -> tuple[int, int]:
    with session_scope() as session:
        plan, version = plans.create_plan(session=session, actor_id=None, key="studio", name="Studio",
                                          terms=plans.Terms(stripe_price_id="price_studio1", amount_cents=2900,
                                                            monthly_credits=1000, monthly_rename_quota=20000,
                                                            **terms))
        return plan.id, version.id


def current(workspace_id):
    with session_scope() as session:
        plan, version = plans.current_plan(session=session, workspace_id=workspace_id)
        return plan.key, version.version, version.monthly_rename_quota


def test_an_edit_is_a_new_version_that_reaches_new_subscriptions_and_renewals_only(any_db):
    owner = register("olga@example.com")
    plan_id, v1 = studio()
    with session_scope() as session:
        session.add(Subscription(workspace_id=owner.workspace_id, stripe_subscription_id="sub_1", plan_id=plan_id,
                                 plan_version_id=v1, status="active"))
    assert current(owner.workspace_id) == ("studio", 1, 20000)
    with session_scope() as session:
        plans.edit_plan(session=session, actor_id=owner.id, plan_id=plan_id, name="Studio+",
                        terms=plans.Terms(stripe_price_id="price_studio2", amount_cents=3900, monthly_credits=1500,
                                          monthly_rename_quota=30000))
    # The running subscription keeps the terms it was sold on…
    assert current(owner.workspace_id) == ("studio", 1, 20000)
    with session_scope() as session:
        first = session.get(PlanVersion, v1)
        assert (first.stripe_price_id, first.monthly_credits) == ("price_studio1", 1000)  # never edited in place
        assert [v.version for v in plans.versions(session=session, plan_id=plan_id)] == [2, 1]
        # …a new subscription (checkout) takes the latest…
        assert plans.latest_version(session=session, plan_id=plan_id).stripe_price_id == "price_studio2"
        # …and the running one moves at renewal.
        sub = session.exec(select(Subscription)).one()
        assert plans.renew(session=session, subscription=sub).version == 2
    assert current(owner.workspace_id) == ("studio", 2, 30000)
    # A canceled subscription leaves the workspace on the free plan.
    with session_scope() as session:
        session.exec(select(Subscription)).one().status = "canceled"
    assert current(owner.workspace_id)[0] == "free"


def test_the_setting_seeds_the_free_quota_once_then_the_plan_rules(any_db, monkeypatch):
    from tests.conftest import clear_caches

    owner = register("olga@example.com")
    monkeypatch.setenv("RENAME_MONTHLY_IMAGES", "40")
    clear_caches()
    with session_scope() as session:
        assert plans.rename_quota(session=session, workspace_id=owner.workspace_id) == 40  # not seeded: the setting
    assert plans.seed_free_plan() is True
    assert plans.seed_free_plan() is False
    monkeypatch.setenv("RENAME_MONTHLY_IMAGES", "7")
    clear_caches()
    with session_scope() as session:
        assert plans.rename_quota(session=session, workspace_id=owner.workspace_id) == 40  # seeded: the plan
    edit_free(monthly_rename_quota=12)
    with session_scope() as session:
        assert plans.rename_quota(session=session, workspace_id=owner.workspace_id) == 12


def test_an_admin_edit_of_the_free_plan_rules_even_unseeded(any_db):
    owner = register("olga@example.com")
    edit_free(monthly_rename_quota=3)
    with session_scope() as session:
        assert plans.rename_quota(session=session, workspace_id=owner.workspace_id) == 3


def test_member_limit_refuses_invitations_and_acceptances(any_db):
    owner, ed, viv = register("olga@example.com"), register("ed@example.com"), register("viv@example.com")
    workspace_id = team(owner)
    _, ed_token = invite(owner, workspace_id, "ed@example.com")
    _, viv_token = invite(owner, workspace_id, "viv@example.com")
    edit_free(member_limit=2)
    assert accept(ed_token, ed) == "editor"
    with pytest.raises(Conflict) as full:
        accept(viv_token, viv)  # sent before the limit: still refused when it would pass it
    assert full.value.code == "plan_member_limit"
    with pytest.raises(Conflict) as refused:
        invite(owner, workspace_id, "third@example.com")
    assert refused.value.code == "plan_member_limit" and "2 members" in refused.value.message
    edit_free(member_limit=None)
    assert accept(viv_token, viv) == "editor"  # the refusal used nothing up


def test_storage_limit_refuses_the_file_that_passes_it_and_keeps_the_rest(any_db):
    owner = register("olga@example.com")
    edit_free(storage_limit_mb=1)
    big = [images.jpeg(1800, 1400, seed=i) for i in range(4)]
    assert all(300_000 < len(b) < 1_000_000 for b in big), [len(b) for b in big]
    result = ingest(workspace_id=owner.workspace_id, files=[(f"p{i}.jpg", b) for i, b in enumerate(big)])
    stored = sum(len(b) for b in big[:len(result.assets)])
    assert 1 <= len(result.assets) < 4 and stored <= 1024 * 1024
    assert {e.code for e in result.errors} == {"plan_storage_limit"}
    assert "1 MB" in result.errors[0].message


@pytest.mark.parametrize(("field", "value", "code"), [
    ("stripe_price_id", "prod_123", "invalid_price_id"), ("stripe_price_id", "price_ bad", "invalid_price_id"),
    ("credits", 0, "invalid_credits"), ("credits", 1_000_001, "invalid_credits"),
    ("currency", "us", "invalid_currency"), ("currency", "usd1", "invalid_currency"), ("name", "  ", "invalid_name"),
    ("amount_cents", -1, "invalid_amount_cents"),
])
def test_every_pack_field_is_checked(env, field, value, code):
    fields = {"name": "Starter", "credits": 500, "stripe_price_id": "price_starter", "amount_cents": 900,
              "currency": "usd", field: value}
    with session_scope() as session, pytest.raises(ValidationFailed) as bad:
        plans.create_pack(session=session, **fields)
    assert bad.value.code == code


def test_packs_are_created_edited_and_taken_off_sale(env):
    with session_scope() as session:
        pack = plans.create_pack(session=session, name="Starter", credits=500, stripe_price_id="price_a",
                                 amount_cents=900, currency="EUR")
        assert pack.currency == "eur"
        other = plans.create_pack(session=session, name="Big", credits=5000, stripe_price_id="price_b")
        with pytest.raises(Conflict):
            plans.edit_pack(session=session, pack_id=other.id, name="Big", credits=5000, stripe_price_id="price_a",
                            amount_cents=0, currency="usd", active=True)
    with session_scope() as session:
        plans.edit_pack(session=session, pack_id=pack.id, name="Starter", credits=600, stripe_price_id="price_a",
                        amount_cents=900, currency="eur", active=False)
        assert [p.name for p in plans.list_packs(session=session, active_only=True)] == ["Big"]


def test_plan_terms_are_checked(env):
    with session_scope() as session:
        with pytest.raises(ValidationFailed) as no_price:
            plans.create_plan(session=session, actor_id=None, key="pro", name="Pro", terms=plans.Terms())
        assert no_price.value.code == "invalid_price_id"
        with pytest.raises(ValidationFailed) as key:
            plans.create_plan(session=session, actor_id=None, key="Pro Plan", name="Pro",
                              terms=plans.Terms(stripe_price_id="price_x"))
        assert key.value.code == "invalid_key"
        free = plans.free_plan(session=session)
        with pytest.raises(Conflict):
            plans.edit_plan(session=session, actor_id=None, plan_id=free.id, terms=plans.Terms(), active=False)
        with pytest.raises(ValidationFailed):
            plans.edit_plan(session=session, actor_id=None, plan_id=free.id,
                            terms=plans.Terms(stripe_price_id="price_x"))


