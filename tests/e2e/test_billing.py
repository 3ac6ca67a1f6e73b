"""Buying credits in Chromium against the real app and a fake Stripe on loopback: an owner opens Billing, buys a
pack on the fake hosted Checkout page, comes back to "Payment received", and the credits (applied by the signed
webhook, not by the page) show on the dashboard. The admin's /admin/billing shows the payment."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import E2E_PACK_PRICE
from tests.e2e.helpers import ADMIN, COOKIE, api_login, main_nav, new_account, open_page, shot, sign_in, sign_up

pytestmark = pytest.mark.e2e
PACK = "Studio pack"


def seed_pack(base_url: str) -> None:
    """The admin puts a pack on sale through the REST API (once per server)."""
    cookies = {COOKIE: api_login(base_url, ADMIN)}
    answer = httpx.post(f"{base_url}/api/v1/admin/billing/packs", cookies=cookies, timeout=10,
                        headers={"Origin": base_url},
                        json={"name": PACK, "credits": 500, "stripe_price_id": E2E_PACK_PRICE, "amount_cents": 900})
    assert answer.status_code in (201, 409), answer.text


def test_an_owner_buys_a_pack_and_the_credits_reach_the_dashboard(page: Page, base_url: str, admin):
    seed_pack(base_url)
    owner = new_account("Bea")
    sign_up(page, owner)
    balance = page.get_by_role("link", name=re.compile("Credits"))
    expect(balance).to_contain_text("100")  # the personal workspace's free monthly allowance
    main_nav(page).get_by_role("link", name="Billing").click()
    page.wait_for_url("**/billing**")
    expect(page.get_by_role("heading", name="Your plan")).to_be_visible()
    expect(page.get_by_text("Free", exact=True).first).to_be_visible()
    shot(page, "billing")
    page.get_by_role("button", name=f"Buy {PACK}").click()
    # Stripe's hosted page (the fake's): pay there.
    page.wait_for_url(re.compile(r"/pay/cs_"))
    expect(page.get_by_role("heading", name="Pay 9.00 USD")).to_be_visible()
    page.get_by_role("button", name="Pay", exact=True).click()
    page.wait_for_url(re.compile(r"/billing/?\?(.*&)?checkout=success"))
    expect(page.get_by_role("status").filter(has_text="Payment received")).to_be_visible()
    expect(page.locator("#billing-credits")).to_contain_text("600", timeout=30_000)
    expect(page.get_by_role("cell", name="Credit pack")).to_be_visible()
    shot(page, "billing-paid")
    open_page(page, "/dashboard")
    expect(page.get_by_role("link", name=re.compile("Credits"))).to_contain_text("600")
    # The site admin sees the payment on /admin/billing.
    page.context.clear_cookies()
    sign_in(page, ADMIN)
    open_page(page, "/admin/billing")
    expect(page.get_by_role("heading", name="Payments", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name="pack", exact=True).first).to_be_visible()
    shot(page, "admin-billing")

