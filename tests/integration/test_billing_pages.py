"""The Billing pages driven as the websocket drives them: /billing as an owner, an admin and an editor, buying
through the fake Stripe and coming back, the owner's budget form, and /admin/billing's plans editor and packs.
Real SQLite, real Redis, the real `stripe` library against the fake."""

from __future__ import annotations

import pytest
from sqlmodel import select

from app.db import session_scope
from app.models import Membership, OutboxEmail, PlanVersion
from app.services.billing import effects, plans
from state.admin_billing import AdminBillingState
from state.billing import BillingState
from tests.integration.billing_helpers import PACK_PRICE, configured_stripe
from tests.integration.test_workspace_pages import fake, run, signed_in
from tests.integration.test_workspaces_service import register, team


@pytest.fixture
def stripe_fake(env, monkeypatch):
    yield from configured_stripe(monkeypatch)


@pytest.fixture
def people(stripe_fake):
    admin = register("ada@example.com")  # the site admin
    owner = register("olga@example.com")
    with session_scope() as session:
        pack = plans.create_pack(session=session, name="Starter", credits=500, stripe_price_id=PACK_PRICE,
                                 amount_cents=1000)
    return admin, owner, pack.id


async def test_an_owner_sees_plan_credits_and_buys_a_pack_that_arrives_with_the_webhook(people, stripe_fake):
    _, owner, pack_id = people
    cookie, _ = signed_in(owner)
    page = fake(BillingState, cookie, path="/billing")
    assert not page.off  # before the load: nothing says "billing is off" on a server that sells
    await run(BillingState, "load_page", page)
    assert page.enabled and page.loaded and page.plan["name"] == "Free" and not page.off
    assert [p["name"] for p in page.packs] == ["Starter"] and page.packs[0]["price"] == "10.00 USD"
    assert page.budget["monthly_cap"] == "" and page.payments == []
    script = await run(BillingState, "buy_pack", page, str(pack_id))
    url = str(script)
    assert stripe_fake.origin + "/pay/cs_" in url
    session_id = url.split("/pay/")[1].split('"')[0].split("\\")[0]
    made = stripe_fake.get("checkout.session", session_id)
    assert made["success_url"].endswith("/billing?after=0&checkout=success")
    # Back from Checkout before the webhook: payment received, no credits claimed.
    back = fake(BillingState, cookie, path="/billing", params={"checkout": "success", "after": "0"})
    followed = await run(BillingState, "load_page", back)
    assert back.arrival == "waiting" and back.balance == 0 and followed is not None
    # The webhook's effect (A's apply_effect, as its route calls it) lands: the next reading shows it.
    with session_scope() as session:
        effects.apply_effect(session=session, business_key="pack:pi_test", kind="pack",
                             workspace_id=owner.workspace_id, credits=500, amount_cents=1000,
                             stripe_object_id="pi_test")
    again = fake(BillingState, cookie, path="/billing", params={"checkout": "success", "after": "0"})
    await run(BillingState, "load_page", again)
    assert again.arrival == "arrived" and again.balance == 500
    assert again.payments[0]["kind"] == "Credit pack" and again.payments[0]["credits"] == "+500"


async def test_the_owner_saves_a_budget_and_a_bad_one_keeps_the_old(people):
    _, owner, pack_id = people
    cookie, _ = signed_in(owner)
    page = fake(BillingState, cookie, path="/billing")
    await run(BillingState, "load_page", page)
    await run(BillingState, "save_budget", page, {"monthly_cap": "1,000", "member_cap": "", "thresholds": "20,100",
                                                  "topup_pack": str(pack_id), "topup_below": "50",
                                                  "topup_max": "1500"})
    assert page.budget_error == "" and page.budget["monthly_cap"] == "1000"
    assert page.budget["thresholds"] == "100, 20" and page.budget["topup_pack"] == str(pack_id)
    await run(BillingState, "save_budget", page, {"monthly_cap": "lots", "thresholds": ""})
    assert "whole number" in page.budget_error
    await run(BillingState, "save_budget", page, {"topup_pack": str(pack_id), "topup_below": "50", "topup_max": "10"})
    assert "ceiling" in page.budget_error
    assert page.budget["monthly_cap"] == "1000"


async def test_an_admin_of_a_team_buys_but_sets_no_budget_and_an_editor_sees_nothing(people, stripe_fake):
    _, owner, pack_id = people
    workspace_id = team(owner)
    admin_member, editor = register("al@example.com"), register("ed@example.com")
    with session_scope() as session:
        session.add(Membership(workspace_id=workspace_id, user_id=admin_member.id, role="admin"))
        session.add(Membership(workspace_id=workspace_id, user_id=editor.id, role="editor"))
    from app.models import AuthSession
    from app.services.secrets import token_digest

    def into_team(user):
        cookie, token = signed_in(user)
        with session_scope() as session:
            session.get(AuthSession, token_digest(token)).workspace_id = workspace_id
        return cookie

    page = fake(BillingState, into_team(admin_member), path="/billing")
    await run(BillingState, "load_page", page)
    assert page.loaded and page.budget == {}
    refused = await run(BillingState, "save_budget", page, {"monthly_cap": "5"})
    assert "does not allow" in str(refused)
    as_editor = fake(BillingState, into_team(editor), path="/billing")
    result = await run(BillingState, "load_page", as_editor)
    assert not as_editor.loaded and "/dashboard" in str(result)
    refused = await run(BillingState, "buy_pack", as_editor, str(pack_id))
    assert "does not allow" in str(refused) and stripe_fake.objects["checkout.session"] == {}
    assert "does not allow" in str(await run(BillingState, "open_portal", as_editor))


async def test_billing_off_the_page_says_so_and_sells_nothing(env):
    register("ada@example.com")
    owner = register("olga@example.com")
    cookie, _ = signed_in(owner)
    page = fake(BillingState, cookie, path="/billing")
    await run(BillingState, "load_page", page)
    assert not page.enabled and not page.loaded and page.off


async def test_admin_plans_editor_saves_versions_and_packs(people):
    admin, owner, pack_id = people
    cookie, _ = signed_in(admin)
    page = fake(AdminBillingState, cookie, path="/admin/billing")
    await run(AdminBillingState, "load_page", page)
    assert page.enabled and [p["key"] for p in page.plans] == ["free"] and len(page.packs) == 1
    free_id = page.plans[0]["id"]
    await run(AdminBillingState, "set_editing", page, free_id)
    await run(AdminBillingState, "save_plan", page, {"name": "Free", "amount_cents": "0", "currency": "usd",
                                                     "monthly_credits": "0", "monthly_rename_quota": "300",
                                                     "member_limit": "3", "storage_limit_mb": "", "active": "on"})
    assert page.form_error == "" and page.editing == ""
    assert [v["version"] for v in page.history[free_id]] == ["v2", "v1"] and page.plans[0]["member_limit"] == "3"
    await run(AdminBillingState, "set_editing", page, "new")
    await run(AdminBillingState, "save_plan", page, {"key": "studio", "name": "Studio", "stripe_price_id": "nope"})
    assert "price" in page.form_error and page.editing == "new"
    await run(AdminBillingState, "save_pack", page, {"pack_id": str(pack_id), "name": "Starter", "credits": "600",
                                                     "stripe_price_id": PACK_PRICE, "amount_cents": "1000",
                                                     "currency": "usd"})
    assert page.pack_error == "" and page.packs[0]["credits"] == "600" and page.packs[0]["active"] == ""
    with session_scope() as session:
        assert len(session.exec(select(PlanVersion)).all()) == 2
    # A member calling the admin handlers over the socket is refused and changes nothing.
    member = fake(AdminBillingState, signed_in(owner)[0], path="/admin/billing")
    refused = await run(AdminBillingState, "save_pack", member, {"name": "Free money", "credits": "999999",
                                                                 "stripe_price_id": "price_free"})
    assert "/dashboard" in str(refused)
    with session_scope() as session:
        assert len(plans.list_packs(session=session)) == 1
        assert session.exec(select(OutboxEmail)).all() == []


async def test_the_owner_sets_and_clears_a_members_own_cap(people):
    _, owner, _ = people
    workspace_id = team(owner)
    editor = register("ed@example.com")
    with session_scope() as session:
        session.add(Membership(workspace_id=workspace_id, user_id=editor.id, role="editor"))
    from app.models import AuthSession, MemberBudget
    from app.services.secrets import token_digest

    cookie, token = signed_in(owner)
    with session_scope() as session:
        session.get(AuthSession, token_digest(token)).workspace_id = workspace_id
    page = fake(BillingState, cookie, path="/billing")
    await run(BillingState, "load_page", page)
    assert [m["who"] for m in page.member_caps] == ["olga@example.com", "ed@example.com"]
    await run(BillingState, "save_budget", page, {"member_cap": "50", f"cap_{editor.id}": "200",
                                                  f"cap_{owner.id}": ""})
    assert page.budget_error == "" and page.member_caps[1]["cap"] == "200" and page.member_caps[0]["cap"] == ""
    with session_scope() as session:
        assert session.get(MemberBudget, (workspace_id, editor.id)).monthly_cap == 200
    await run(BillingState, "save_budget", page, {"member_cap": "50", f"cap_{editor.id}": ""})
    with session_scope() as session:
        assert session.get(MemberBudget, (workspace_id, editor.id)) is None
    await run(BillingState, "save_budget", page, {f"cap_{editor.id}": "many"})
    assert "whole number" in page.budget_error


class _Locking:
    """`async with state:` for a page state driven outside Reflex (background events take the lock)."""

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return False


async def test_coming_back_early_follows_the_balance_until_the_webhook_applies_it(people, monkeypatch):
    import asyncio

    import state.billing as billing_state
    from tests.integration.test_state_guards import FakeState

    _, owner, _ = people
    monkeypatch.setattr(billing_state, "POLL_SECONDS", 0.05)
    cookie, _ = signed_in(owner)
    back = fake(BillingState, cookie, path="/billing", params={"checkout": "success", "after": "0"})
    back.__class__ = type("Following", (_Locking, FakeState), {})
    await run(BillingState, "load_page", back)
    assert back.arrival == "waiting"
    follower = asyncio.create_task(BillingState.event_handlers["follow_balance"].fn(back, 0))
    await asyncio.sleep(0.3)
    assert back.arrival == "waiting" and back.balance == 0 and back.following  # nothing claimed early
    with session_scope() as session:
        effects.apply_effect(session=session, business_key="pack:pi_late", kind="pack",
                             workspace_id=owner.workspace_id, credits=500, amount_cents=1000,
                             stripe_object_id="pi_late")
    await asyncio.wait_for(follower, timeout=10)
    assert back.arrival == "arrived" and back.balance == 500 and not back.following
