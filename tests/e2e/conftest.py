"""End-to-end fixtures: the real app started the way `make run` starts it, and Chromium.

The server is `scripts/run.py` on a free port with a fresh data folder, no REDIS_URL (so the
embedded Redis path runs) and no DATABASE_URL (so the default SQLite under DATA_DIR is used).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests import log_guard
from tests.e2e.helpers import ADMIN, Account, main_nav, seed_web_dir, shot, sign_up
from tests.fake_oidc import FakeOIDC
from tests.fake_stripe import FakeStripe

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
READY_TIMEOUT = 240
DESKTOP = {"width": 1280, "height": 800}
# The team workspace the test provider's groups claim maps into (tests/e2e/test_sso.py makes it).
SSO_TEAM_WORKSPACE_ID = 9000
SSO_ROLE_MAP = '{"designers": "editor", "studio-leads": "admin"}'


E2E_METRICS_TOKEN = "e2e-metrics-token-0123456789abcdef"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path: Path, lines: int = 80) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _server_env(port: int, data_dir: Path, web_dir: Path, sso: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    # Unset so run.py takes its own defaults: embedded Redis, SQLite in DATA_DIR, localhost origin.
    for name in ("REDIS_URL", "DATABASE_URL", "PUBLIC_URL", "ALLOWED_ORIGINS", "SMTP_HOST",
                 "REFLEX_REDIS_URL"):
        env.pop(name, None)
    env.update({
        "PORT": str(port), "DATA_DIR": str(data_dir), "APP_ENV": "test",
        # Reflex compiles the frontend with this port baked in. A private web folder keeps this
        # build from overwriting (or being overwritten by) a `make run` from the same checkout.
        "REFLEX_WEB_WORKDIR": str(web_dir),
        # All journeys sign in from 127.0.0.1 within a few minutes: loosen the throttles so
        # the suite measures behaviour, not its own speed. Unit tests cover the limits.
        "SIGNIN_LIMIT_PER_ACCOUNT": "30/minute", "SIGNIN_LIMIT_PER_ACCOUNT_IP": "30/minute",
        "SIGNIN_LIMIT_PER_IP": "200/minute",
        "REGISTER_LIMIT_PER_IP": "100/hour", "RESET_LIMIT_PER_IP": "100/hour",
        # The tests' own HTTP client stands in for a proxy: its X-Forwarded-For makes distinct clients
        # (test_limits_live.py); the browser sends none, so it stays 127.0.0.1.
        "TRUSTED_PROXIES": "127.0.0.1, ::1",
        # Operations (tests/e2e/test_operations.py): /metrics with a token, JSON logs in server.log.
        "METRICS_TOKEN": E2E_METRICS_TOKEN, "LOG_FORMAT": "json",
    })
    env.update(sso or {})
    return env


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # run.py stops its own children on SIGTERM
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[FakeOIDC]:
    """A real OpenID provider on loopback, configured in the app server as "Acme SSO" (started first: the
    server reads its settings once). Its groups claim maps into workspace SSO_TEAM_WORKSPACE_ID."""
    with FakeOIDC() as fake:
        yield fake


# The Stripe prices the fake sells (tests/e2e/test_billing.py seeds a pack on the first).
E2E_PACK_PRICE = "price_e2e_pack"


@pytest.fixture(scope="session")
def stripe_provider() -> Iterator[FakeStripe]:
    """A fake Stripe on loopback configured as the app server's Stripe (billing on for every journey: nothing
    about payments may show to members who are not owners or admins). Its webhook URL is set once the
    server's port is known."""
    fake = FakeStripe().start()
    fake.add_price(E2E_PACK_PRICE, 900)
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture(scope="session")
def server_data_dir(tmp_path_factory) -> Path:
    """The app server's DATA_DIR (its SQLite database is atelier.db there)."""
    return tmp_path_factory.mktemp("atelier-data")


@pytest.fixture(scope="session")
def server_web_dir(tmp_path_factory) -> Path:
    """The app server's Reflex web folder (REFLEX_WEB_WORKDIR); once the server ran, its packages are there
    for other journeys that start the app (tests/e2e/test_run_lifecycle.py) to seed from."""
    return tmp_path_factory.mktemp("atelier-web") / "web"


@pytest.fixture(scope="session")
def base_url(tmp_path_factory, oidc_provider, stripe_provider, server_data_dir, server_web_dir) -> Iterator[str]:
    """The running app's URL, e.g. http://localhost:41234 (ready: db, redis, storage, worker)."""
    port = _free_port()
    data_dir = server_data_dir
    sso = oidc_provider.env("acme", LABEL="Acme SSO", ROLE_CLAIM="groups", ROLE_MAP=SSO_ROLE_MAP,
                            WORKSPACE_ID=str(SSO_TEAM_WORKSPACE_ID))
    # A second provider (GitHub's OAuth 2.0 flavour, from the same fake): several buttons at once.
    sso.update(oidc_provider.github_env(), SSO_PROVIDERS="acme,github")
    sso.update(stripe_provider.env())
    stripe_provider.webhook_url = f"http://localhost:{port}/api/v1/billing/webhook"
    web_dir = server_web_dir
    seed_web_dir(ROOT / ".web", web_dir)  # the checkout's, after a `make run`
    log_path = data_dir / "server.log"
    url = f"http://localhost:{port}"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "run.py")], cwd=ROOT,
                                env=_server_env(port, data_dir, web_dir, sso), stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        last = "no answer yet"
        while True:
            if proc.poll() is not None:
                pytest.fail(f"scripts/run.py exited with {proc.returncode}:\n{_tail(log_path)}")
            try:
                answer = httpx.get(f"{url}/health/ready", timeout=5)
                if answer.status_code == 200:
                    break
                last = f"{answer.status_code} {answer.text[:300]}"
            except httpx.HTTPError as exc:
                last = repr(exc)
            if time.monotonic() > deadline:
                pytest.fail(f"not ready after {READY_TIMEOUT}s (last: {last}):\n{_tail(log_path)}")
            time.sleep(1)
        yield url
    finally:
        _stop(proc)
        log_guard.register_secret(E2E_METRICS_TOKEN)
        log_guard.also_scan(log_path)  # the app's and workers' own lines: no secret there either


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser: Browser, base_url: str, admin: Account) -> Iterator[BrowserContext]:
    # Depending on `admin` makes the first account (the admin) exist before any test signs
    # anyone else up, whichever test file runs first.
    ctx = browser.new_context(base_url=base_url, viewport=DESKTOP, color_scheme="light")
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture(scope="session")
def admin(browser: Browser, base_url: str) -> Account:
    """The first account, created through the sign-up page: it must come out as admin."""
    ctx = browser.new_context(base_url=base_url, viewport=DESKTOP, color_scheme="light")
    ctx.set_default_timeout(15_000)
    try:
        page = ctx.new_page()
        sign_up(page, ADMIN, screenshot="signup")
        # The admin section of the sidebar is only rendered for admins.
        nav = main_nav(page)
        nav.get_by_role("link", name="Users").wait_for()
        shot(page, "dashboard")
    finally:
        ctx.close()
    return ADMIN


@pytest.fixture
def second_page(browser: Browser, base_url: str, admin: Account) -> Iterator[Page]:
    """A page in another browser context: another person, with cookies of their own."""
    ctx = browser.new_context(base_url=base_url, viewport=DESKTOP, color_scheme="light")
    ctx.set_default_timeout(15_000)
    yield ctx.new_page()
    ctx.close()
