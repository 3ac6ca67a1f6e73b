"""Starting payments through the real `stripe` library against a fake Stripe on loopback: Checkout Sessions for
packs and plans carry what the webhook needs, the customer is made once, and every refusal is clear."""

from __future__ import annotations

import pytest
from sqlmodel import select

from app.db import session_scope
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.models import BillingCustomer, Subscription
from app.services.billing import checkout, plans
from tests.integration.billing_helpers import PACK_PRICE, PLAN_PRICE, configured_stripe
from tests.integration.test_api_auth import ORIGIN, assert_error, login
from tests.integration.test_api_auth import register as api_register
from tests.integration.test_workspaces_service import accept, invite, register, team


@pytest.fixture
def stripe_fake(any_db, monkeypatch):
    yield from configured_stripe(monkeypatch)


def make_pack(active=True) -> int:
    with session_scope() as session:
        pack = plans.create_pack(session=session, name="Starter", credits=100, stripe_price_id=PACK_PRICE,
                                 amount_cents=1000)
        pack.active = active
        return pack.id


def make_plan() -> tuple[int, int]:
    with session_scope() as session:
        plan, version = plans.create_plan(session=session, actor_id=None, key="studio", name="Studio",
                                          terms=plans.Terms(stripe_price_id=PLAN_PRICE, amount_cents=2900,
                                                            monthly_credits=1000, monthly_rename_quota=9000))
        return plan.id, version.id


def session_of(fake, url: str) -> dict:
    assert url.startswith(fake.origin + "/pay/"), url
    return fake.get("checkout.session", url.rsplit("/", 1)[1])


def test_a_pack_checkout_names_the_workspace_and_pack_and_reuses_the_customer(stripe_fake):
    owner = register("olga@example.com")
    pack_id = make_pack()
    with session_scope() as session:
        url = checkout.start_pack_checkout(session=session, user=owner, workspace_id=owner.workspace_id,
                                           pack_id=pack_id, return_url="/billing")
    made = session_of(stripe_fake, url)
    assert made["mode"] == "payment" and made["client_reference_id"] == str(owner.workspace_id)
    assert made["metadata"] == {"workspace_id": str(owner.workspace_id), "kind": "pack", "pack_id": str(pack_id)}
    assert stripe_fake._extra(made["id"])["payment_intent_data_metadata"] == made["metadata"]
    assert made["success_url"] == "http://localhost:3000/billing?checkout=success"
    with session_scope() as session:
        again = checkout.start_pack_checkout(session=session, user=owner, workspace_id=owner.workspace_id,
                                             pack_id=pack_id)
        customers = session.exec(select(BillingCustomer)).all()
    assert len(customers) == 1 and session_of(stripe_fake, again)["customer"] == made["customer"]
    assert list(stripe_fake.objects["customer"]) == [customers[0].stripe_customer_id]


def test_a_plan_checkout_takes_the_latest_version_and_a_subscription_goes_through_the_portal(stripe_fake):
    owner = register("olga@example.com")
    plan_id, v1 = make_plan()
    with session_scope() as session:
        _, v2 = plans.edit_plan(session=session, actor_id=None, plan_id=plan_id,
                                terms=plans.Terms(stripe_price_id=PLAN_PRICE, monthly_credits=1200))
        v2 = v2.id
        url = checkout.start_plan_checkout(session=session, user=owner, workspace_id=owner.workspace_id,
                                           plan_id=plan_id)
    made = session_of(stripe_fake, url)
    expected = {"workspace_id": str(owner.workspace_id), "kind": "plan", "plan_id": str(plan_id),
                "plan_version_id": str(v2)}
    assert made["mode"] == "subscription" and made["metadata"] == expected
    assert stripe_fake._extra(made["id"])["subscription_data_metadata"] == expected
    with session_scope() as session:
        session.add(Subscription(workspace_id=owner.workspace_id, stripe_subscription_id="sub_x", plan_id=plan_id,
                                 plan_version_id=v1, status="active"))
    with session_scope() as session, pytest.raises(Conflict) as exists:
        checkout.start_plan_checkout(session=session, user=owner, workspace_id=owner.workspace_id, plan_id=plan_id)
    assert exists.value.code == "subscription_exists"
    with session_scope() as session:
        portal = checkout.portal_url(session=session, user=owner, workspace_id=owner.workspace_id)
    made = stripe_fake.get("billing_portal.session", portal.rsplit("/", 1)[1])
    assert made["return_url"] == "http://localhost:3000/billing"


def test_refusals_are_clear_and_start_nothing(stripe_fake):
    owner, ed = register("olga@example.com"), register("ed@example.com")
    workspace_id = team(owner)
    _, token = invite(owner, workspace_id, "ed@example.com")
    accept(token, ed)
    from app.models import User
    from app.services.workspaces.service import acting

    with session_scope() as session:
        as_owner = acting(session=session, user=session.get(User, owner.id), workspace_id=workspace_id)
        as_editor = acting(session=session, user=session.get(User, ed.id), workspace_id=workspace_id)
    off = make_pack(active=False)
    with session_scope() as session:
        with pytest.raises(Conflict) as inactive:
            checkout.start_pack_checkout(session=session, user=as_owner, workspace_id=workspace_id, pack_id=off)
        assert inactive.value.code == "pack_inactive"
        with pytest.raises(Forbidden):
            checkout.start_pack_checkout(session=session, user=as_editor, workspace_id=workspace_id, pack_id=off)
        on = plans.create_pack(session=session, name="Other", credits=5, stripe_price_id="price_other").id
        with pytest.raises(ValidationFailed) as foreign:
            checkout.start_pack_checkout(session=session, user=as_owner, workspace_id=workspace_id, pack_id=on,
                                         return_url="https://evil.example/steal")
        assert foreign.value.code == "invalid_return_url"
        with pytest.raises(ValidationFailed):
            checkout.safe_return_url("//evil.example/x")
        with pytest.raises(NotFound) as free:
            checkout.start_plan_checkout(session=session, user=as_owner, workspace_id=workspace_id, plan_id=999)
        assert free.value.code == "plan_not_found"
    assert stripe_fake.objects["checkout.session"] == {} and stripe_fake.objects["customer"] == {}


def test_rest_billing_with_stripe_on(stripe_fake, api):
    api_register(api)
    login(api)
    pack_id = make_pack()
    body = api.get("/api/v1/billing").json()
    assert body["plan"]["key"] == "free" and [p["id"] for p in body["packs"]] == [pack_id]
    assert body["balance"] == 0 and body["debt"] == 0 and body["payments"] == []
    started = api.post("/api/v1/billing/checkout", headers=ORIGIN, json={"pack_id": pack_id})
    assert started.status_code == 200, started.text
    assert session_of(stripe_fake, started.json()["url"])["metadata"]["pack_id"] == str(pack_id)
    assert_error(api.post("/api/v1/billing/checkout", headers=ORIGIN, json={}), 422, "validation_failed")
    assert_error(api.post("/api/v1/billing/checkout", headers=ORIGIN,
                          json={"pack_id": pack_id, "return_url": "https://evil.example/"}), 422,
                 "invalid_return_url")
    portal = api.post("/api/v1/billing/portal", headers=ORIGIN, json={})
    assert portal.status_code == 200 and "/portal/" in portal.json()["url"]
    saved = api.put("/api/v1/billing/budget", headers=ORIGIN, json={"monthly_cap": 500,
                                                                    "low_balance_thresholds": "20, 100"})
    assert saved.status_code == 200 and saved.json()["low_balance_thresholds"] == "100,20"
    assert api.get("/api/v1/billing/budget").json()["monthly_cap"] == 500
    assert_error(api.put("/api/v1/billing/budget", headers=ORIGIN, json={"low_balance_thresholds": "a lot"}), 422,
                 "invalid_thresholds")
    # The first account is the site admin: packs and plans are edited through the admin routes.
    made = api.post("/api/v1/admin/billing/packs", headers=ORIGIN, json={
        "name": "Big", "credits": 5000, "stripe_price_id": "price_big", "amount_cents": 4000})
    assert made.status_code == 201, made.text
    assert_error(api.post("/api/v1/admin/billing/packs", headers=ORIGIN, json={
        "name": "Bad", "credits": 0, "stripe_price_id": "price_bad"}), 422, "invalid_credits")
    overview = api.get("/api/v1/admin/billing").json()
    assert overview["workspaces"][0]["plan"] == "Free" and overview["issues"] == []


def test_rest_billing_off_answers_404_but_plans_stay_editable(env, api):
    api_register(api)
    login(api)
    for method, path in (("GET", "/billing"), ("POST", "/billing/portal"), ("GET", "/billing/budget"),
                         ("GET", "/admin/billing"), ("GET", "/admin/billing/packs")):
        assert_error(api.request(method, "/api/v1" + path, headers=ORIGIN, json={}), 404, "billing_off")
    plans_ = api.get("/api/v1/admin/billing/plans").json()["plans"]
    assert [p["key"] for p in plans_] == ["free"]
    free = plans_[0]
    edited = api.post(f"/api/v1/admin/billing/plans/{free['plan_id']}/versions", headers=ORIGIN,
                      json={"monthly_rename_quota": 250, "member_limit": 3})
    assert edited.status_code == 201, edited.text
    assert [v["version"] for v in edited.json()["versions"]] == [2, 1]
    assert edited.json()["monthly_rename_quota"] == 250
    assert_error(api.post("/api/v1/admin/billing/plans", headers=ORIGIN,
                          json={"key": "pro", "name": "Pro", "stripe_price_id": "nope"}), 422, "invalid_price_id")
