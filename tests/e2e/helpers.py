"""What the end-to-end tests do again and again: accounts, signing in and out, screenshots."""

from __future__ import annotations

import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
from playwright.sync_api import BrowserContext, Locator, Page, expect

from tests.log_guard import register_secret

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
COOKIE = "atelier_session"
WRONG_PASSWORD = "That email and password do not match an active account."
SIGNED_OUT_URL = re.compile(r"/signin/?\?(.*&)?signed_out=1")
DASHBOARD_URL = "**/dashboard**"


@dataclass(frozen=True)
class Account:
    email: str
    password: str
    name: str

    def __post_init__(self):
        register_secret(self.password)  # never in the app server's log (tests/log_guard.py)


ADMIN = Account("ada@atelier-e2e.io", "analytical engine 1843", "Ada Lovelace")


def new_account(first_name: str) -> Account:
    """A unique account, so tests sharing one server never collide."""
    tag = uuid.uuid4().hex[:8]
    return Account(f"{first_name.lower()}-{tag}@atelier-e2e.io", f"{first_name} has {tag} keys",
                   f"{first_name} {tag}")


def register(base_url: str, account: Account) -> None:
    """Create an account over the REST API (quicker than the form when the form is not the point)."""
    answer = httpx.post(f"{base_url}/api/v1/auth/register", timeout=10,
                        json={"email": account.email, "password": account.password, "name": account.name})
    assert answer.status_code == 201, answer.text


def api_login(base_url: str, account: Account) -> str:
    """Sign in over the REST API and return the session cookie value."""
    answer = httpx.post(f"{base_url}/api/v1/auth/login", timeout=10,
                        json={"email": account.email, "password": account.password})
    assert answer.status_code == 200, answer.text
    return answer.cookies[COOKIE]


def me_status(base_url: str, *, cookie: str | None = None, bearer: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    cookies = {COOKIE: cookie} if cookie else {}
    return httpx.get(f"{base_url}/api/v1/me", headers=headers, cookies=cookies, timeout=10)


def wait_connected(page: Page) -> None:
    # Reflex stores the client token once the websocket is up; events sent earlier are lost.
    page.wait_for_function("!!sessionStorage.getItem('token')")


def open_page(page: Page, path: str) -> None:
    page.goto(path)
    wait_connected(page)


def shot(page: Page, name: str) -> None:
    """Save docs/screenshots/<name>.png (shown in the README)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # No focus ring left over from the last click, and enter animations (cards, toasts,
    # menus) settled, so the picture shows the page as people see it.
    page.wait_for_timeout(500)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.wait_for_timeout(100)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def expect_dashboard(page: Page, account: Account) -> None:
    page.wait_for_url(DASHBOARD_URL)
    expect(page.get_by_role("heading", name=f"Hello, {account.name}")).to_be_visible()


def sign_up(page: Page, account: Account, *, screenshot: str = "") -> None:
    open_page(page, "/signup")
    page.fill("#name", account.name)
    page.fill("#email", account.email)
    page.fill("#password", account.password)
    page.fill("#confirm", account.password)
    if screenshot:
        shot(page, screenshot)
    page.click("button[type=submit]")
    expect_dashboard(page, account)


def submit_sign_in(page: Page, email: str, password: str) -> None:
    open_page(page, "/signin")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")


def sign_in(page: Page, account: Account, *, password: str = "") -> None:
    submit_sign_in(page, account.email, password or account.password)
    expect_dashboard(page, account)


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Account menu").click()
    page.get_by_role("menuitem", name="Sign out").click()
    page.wait_for_url(SIGNED_OUT_URL)
    expect(page.get_by_text("You are signed out.")).to_be_visible()


def main_nav(page: Page) -> Locator:
    # By its label, not by role: the app's sidebar is not yet a <nav> landmark (see report).
    return page.locator("[aria-label='Main']")


def session_cookie(context: BrowserContext) -> dict | None:
    return next((c for c in context.cookies() if c["name"] == COOKIE), None)


def seed_web_dir(source: Path, web_dir: Path) -> None:
    """Start a Reflex web folder from a built one when it has its packages: skips a full `bun install`.
    Only the top level "build" (the compiled site) is left out: packages have "build" folders too."""
    if (source / "node_modules").is_dir():
        shutil.copytree(source, web_dir, symlinks=True,
                        ignore=lambda folder, names: ["build"] if Path(folder) == source else [])
