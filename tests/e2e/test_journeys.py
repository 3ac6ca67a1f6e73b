"""What people do in Atelier, in Chromium, against the app started like `make run`."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import DESKTOP
from tests.e2e.helpers import (
    WRONG_PASSWORD,
    Account,
    api_login,
    expect_dashboard,
    main_nav,
    me_status,
    new_account,
    open_page,
    register,
    session_cookie,
    shot,
    sign_in,
    sign_out,
    sign_up,
    submit_sign_in,
)

pytestmark = pytest.mark.e2e


def test_first_account_signs_out_and_back_in(page: Page, context: BrowserContext, admin: Account):
    # The `admin` fixture signed up through the form and checked the admin links appeared.
    sign_in(page, admin)
    assert session_cookie(context) is not None

    sign_out(page)
    assert session_cookie(context) is None
    # Signed out, a private page sends you to sign in and greets nobody.
    page.goto("/dashboard")
    page.wait_for_url("**/signin**")
    expect(page.get_by_role("heading", name=re.compile("Hello"))).to_have_count(0)

    sign_in(page, admin)
    expect(main_nav(page).get_by_role("link", name="Users")).to_be_visible()


def test_wrong_password_shows_a_clear_message(page: Page, context: BrowserContext, admin: Account):
    open_page(page, "/signin")
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
    shot(page, "signin")

    submit_sign_in(page, admin.email, "not the password at all")
    expect(page.get_by_role("alert")).to_have_text(WRONG_PASSWORD)
    assert "/signin" in page.url
    assert session_cookie(context) is None
    shot(page, "wrong-password")


def test_member_is_kept_out_of_admin_pages(page: Page, context: BrowserContext, admin: Account,
                                           base_url: str):
    member = new_account("Grace")
    sign_up(page, member)  # not the first account, so a member
    nav = main_nav(page)
    expect(nav.get_by_role("link", name="Settings")).to_be_visible()
    expect(nav.get_by_role("link", name="Users")).to_have_count(0)

    visited: list[str] = []
    page.on("framenavigated", lambda frame: frame == page.main_frame and visited.append(frame.url))
    page.goto("/admin/users")
    page.wait_for_url("**/dashboard**")
    expect(page.get_by_text("That page is for admins only.")).to_be_visible()
    expect_dashboard(page, member)
    # Nothing of the admin page: not its header, not other people's accounts.
    expect(page.get_by_text("Everyone with an account")).to_have_count(0)
    expect(page.get_by_text(admin.email)).to_have_count(0)
    # The API agrees with the UI.
    cookie = session_cookie(context)["value"]
    assert httpx.get(f"{base_url}/api/v1/admin/users", cookies={"atelier_session": cookie}).status_code == 403

    # One clear message, and no detour through the sign-in page of someone already signed in.
    expect(page.get_by_text("That needs an admin account.")).to_have_count(0)
    assert not [url for url in visited if "/signin" in url], visited


def test_admin_sees_and_disables_a_member(page: Page, second_page: Page, admin: Account, base_url: str):
    member = new_account("Linus")
    register(base_url, member)
    member_cookie = api_login(base_url, member)

    sign_in(page, admin)
    open_page(page, "/admin/users")
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    row = page.get_by_role("row").filter(has_text=member.email)
    expect(row).to_be_visible()
    expect(row).to_contain_text("member")
    expect(row).to_contain_text("active")
    shot(page, "admin-users")

    # Grant credits: the dialog's fields are labelled and laid out, and the balance moves.
    row.get_by_role("button", name="Grant credits").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(member.email)
    dialog.get_by_label("Credits").fill("25")
    dialog.get_by_label("Reason").fill("Welcome bonus")
    shot(page, "admin-grant-credits")
    dialog.get_by_role("button", name="Record").click()
    expect(page.get_by_text("+25 credits recorded.")).to_be_visible()
    expect(dialog).to_have_count(0)

    row.get_by_role("button", name="Disable").click()
    expect(page.get_by_text("Account disabled.")).to_be_visible()
    expect(row).to_contain_text("disabled")
    expect(row.get_by_role("button", name="Enable")).to_be_visible()

    # Disabled means out: the open session stops working and signing in is refused.
    assert me_status(base_url, cookie=member_cookie).status_code == 401
    submit_sign_in(second_page, member.email, member.password)
    expect(second_page.get_by_role("alert")).to_have_text(WRONG_PASSWORD)


def test_password_reset_through_the_outbox(page: Page, second_page: Page, admin: Account, base_url: str):
    member = new_account("Hedy")
    register(base_url, member)
    new_password = "frequency hopping 1942"

    open_page(page, "/reset")
    page.fill("#email", member.email)
    page.click("button[type=submit]")
    expect(page.get_by_role("status")).to_contain_text("If an account exists for that address")

    # Without SMTP the email stays in the outbox, where the admin can read it.
    admin_page = second_page
    sign_in(admin_page, admin)
    open_page(admin_page, "/admin/outbox")
    admin_page.get_by_role("button").filter(has_text=f"→ {member.email}").first.click()
    body = admin_page.locator("pre").filter(has_text="/reset/confirm?token=").first
    expect(body).to_be_visible()
    shot(admin_page, "admin-outbox")
    match = re.search(r"(https?://\S+/reset/confirm\?token=[\w\-]+)", body.inner_text())
    assert match, body.inner_text()
    link = match.group(1)
    assert link.startswith(f"{base_url}/reset/confirm?token=")

    open_page(page, link)
    page.fill("#password", new_password)
    page.fill("#confirm", new_password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/signin/?\?(.*&)?reset=1"))
    expect(page.get_by_text("Your password was changed. Sign in with the new one.")).to_be_visible()

    submit_sign_in(page, member.email, member.password)
    expect(page.get_by_role("alert")).to_have_text(WRONG_PASSWORD)
    sign_in(page, member, password=new_password)

    # The link works once.
    sign_out(admin_page)
    open_page(admin_page, link)
    admin_page.fill("#password", "another fresh secret 7")
    admin_page.fill("#confirm", "another fresh secret 7")
    admin_page.click("button[type=submit]")
    expect(admin_page.get_by_role("alert")).to_contain_text("invalid or has expired")


def test_api_token_is_shown_once_works_and_can_be_revoked(page: Page, admin: Account, base_url: str):
    sign_in(page, admin)
    open_page(page, "/settings")
    expect(page.get_by_role("heading", name="API tokens")).to_be_visible()
    # Changing the password revokes API tokens unless this is unticked.
    expect(page.get_by_role("checkbox", name="Also revoke my API tokens")).to_be_checked()
    page.fill("#token_name", "CI uploader")
    page.click("form:has(#token_name) button[type=submit]")
    secret_box = page.locator("#new-token-secret")
    expect(secret_box).to_be_visible()
    secret = secret_box.inner_text().strip()
    assert secret.startswith("atl_") and len(secret) > 30
    row = page.get_by_role("row").filter(has_text="CI uploader")
    expect(row).to_be_visible()
    expect(row).to_contain_text(secret[:10])

    answer = me_status(base_url, bearer=secret)
    assert answer.status_code == 200, answer.text
    assert answer.json()["email"] == admin.email

    page.get_by_role("button", name="Done").click()
    expect(secret_box).to_have_count(0)
    # Shown once: a fresh load of the page has the prefix only, never the secret.
    open_page(page, "/settings")
    expect(row).to_be_visible()
    expect(secret_box).to_have_count(0)
    assert secret not in page.content()
    # The call above counts as a use.
    expect(row.get_by_role("cell").nth(3)).not_to_have_text("never")
    # A taller window shows all three sections (a full-page shot would cut the fixed sidebar).
    page.set_viewport_size({"width": DESKTOP["width"], "height": 1080})
    shot(page, "settings")

    row.get_by_role("button", name="Revoke").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("Token revoked.")).to_be_visible()
    expect(row).to_have_count(0)
    answer = me_status(base_url, bearer=secret)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "invalid_token"


def test_admin_health_shows_every_part_up(page: Page, admin: Account):
    sign_in(page, admin)
    open_page(page, "/admin/health")
    expect(page.get_by_text("Everything is up.")).to_be_visible()
    for part in ("database", "redis", "storage", "workers"):
        row = page.get_by_role("row").filter(has=page.get_by_text(part, exact=True))
        expect(row).to_contain_text("up")
    shot(page, "admin-health")


def test_sidebar_marks_the_page_you_are_on(page: Page, admin: Account):
    # Both after the sign-in redirect and after a full load of another page (the server adds
    # a trailing slash to page URLs on full loads).
    sign_in(page, admin)
    expect(main_nav(page).get_by_role("link", name="Dashboard")).to_have_attribute("aria-current", "page")
    open_page(page, "/settings")
    expect(main_nav(page).get_by_role("link", name="Settings")).to_have_attribute("aria-current", "page")
    expect(main_nav(page).get_by_role("link", name="Dashboard")).not_to_have_attribute("aria-current", "page")


def test_dashboard_on_a_phone(browser: Browser, base_url: str, admin: Account):
    ctx = browser.new_context(base_url=base_url, viewport={"width": 390, "height": 844},
                              color_scheme="light", has_touch=True, is_mobile=True)
    try:
        page = ctx.new_page()
        sign_in(page, admin)
        # The sidebar gives way to a top bar whose menu opens the same navigation.
        menu_button = page.get_by_role("button", name="Open menu")
        expect(menu_button).to_be_visible()
        expect(page.get_by_role("button", name="Account menu")).to_be_hidden()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways ({width}px wide)"
        shot(page, "dashboard-mobile")
        menu_button.click()
        expect(page.get_by_role("dialog").get_by_role("link", name="Settings")).to_be_visible()
    finally:
        ctx.close()


def test_dark_theme_from_the_user_menu(page: Page, admin: Account):
    sign_in(page, admin)
    page.get_by_role("button", name="Account menu").click()
    page.get_by_role("menuitem", name="Dark theme").click()
    expect(page.locator("html")).to_have_class(re.compile(r"\bdark\b"))
    page.mouse.move(DESKTOP["width"] - 10, 10)  # no hover highlight in the picture
    shot(page, "dashboard-dark")
    page.get_by_role("button", name="Account menu").click()
    expect(page.get_by_role("menuitem", name="Light theme")).to_be_visible()
    page.keyboard.press("Escape")
