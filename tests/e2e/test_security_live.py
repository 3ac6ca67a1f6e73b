"""Security properties checked over the real server: cookies, sessions, origins, headers."""

from __future__ import annotations

import uuid

import httpx
import pytest
import websocket
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.helpers import (
    COOKIE,
    Account,
    api_login,
    expect_dashboard,
    main_nav,
    me_status,
    open_page,
    session_cookie,
    sign_in,
    sign_out,
    submit_sign_in,
)

pytestmark = pytest.mark.e2e

EVIL = "http://evil.example"


def _cookie_attributes(set_cookie: str) -> tuple[str, set[str]]:
    """The value and the lower-cased attributes of our cookie in a Set-Cookie header."""
    line = next(part for part in set_cookie.split("\n") if part.startswith(f"{COOKIE}="))
    first, *attributes = [piece.strip() for piece in line.split(";")]
    return first.split("=", 1)[1], {a.lower().replace(" ", "") for a in attributes}


def test_session_cookie_flags(page: Page, context: BrowserContext, admin: Account):
    with page.expect_response(lambda r: "/api/v1/auth/complete" in r.url) as completed:
        submit_sign_in(page, admin.email, admin.password)
    expect_dashboard(page, admin)
    assert completed.value.status == 303
    value, attributes = _cookie_attributes(completed.value.header_value("set-cookie") or "")
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "path=/" in attributes
    assert "secure" not in attributes  # plain http: a Secure cookie would never be sent back
    assert not any(a.startswith("domain=") for a in attributes)

    stored = session_cookie(context)
    assert stored is not None and stored["value"] == value
    assert stored["httpOnly"] is True and stored["sameSite"] == "Lax"
    assert stored["secure"] is False and stored["path"] == "/"
    # HttpOnly in practice: page scripts cannot read it.
    assert COOKIE not in page.evaluate("document.cookie")


def test_sign_in_never_keeps_a_planted_session(page: Page, context: BrowserContext, admin: Account,
                                                base_url: str):
    planted = f"planted-{uuid.uuid4().hex}"
    context.add_cookies([{"name": COOKIE, "value": planted, "url": base_url}])
    sign_in(page, admin)
    after = session_cookie(context)["value"]
    assert after != planted
    assert me_status(base_url, cookie=after).status_code == 200
    assert me_status(base_url, cookie=planted).status_code == 401

    # A real session presented at sign-in is replaced and ended, not carried over.
    earlier = api_login(base_url, admin)
    # As a browser sends it: a write carrying a session cookie must say where it comes from (Origin).
    answer = httpx.post(f"{base_url}/api/v1/auth/login", cookies={COOKIE: earlier}, timeout=10,
                        headers={"Origin": base_url}, json={"email": admin.email, "password": admin.password})
    assert answer.status_code == 200
    assert answer.cookies[COOKIE] != earlier
    assert me_status(base_url, cookie=earlier).status_code == 401
    assert me_status(base_url, cookie=answer.cookies[COOKIE]).status_code == 200


def test_sign_out_revokes_the_cookie_on_the_server(page: Page, context: BrowserContext, admin: Account,
                                                   base_url: str):
    sign_in(page, admin)
    value = session_cookie(context)["value"]
    assert me_status(base_url, cookie=value).status_code == 200
    sign_out(page)
    # Someone who copied the cookie before sign-out cannot use it after.
    answer = me_status(base_url, cookie=value)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "auth_required"


def test_sign_out_reaches_tabs_that_are_still_open(context: BrowserContext, admin: Account):
    first = context.new_page()
    sign_in(first, admin)
    settings_tab = context.new_page()
    open_page(settings_tab, "/settings")
    expect(settings_tab.locator("#account-email")).to_have_value(admin.email)
    dashboard_tab = context.new_page()
    open_page(dashboard_tab, "/dashboard")
    expect_dashboard(dashboard_tab, admin)

    sign_out(first)

    # These tabs keep their websocket, which still carries the old cookie: the server must
    # notice that session is gone on the very next event.
    settings_tab.get_by_role("button", name="Save profile").click()
    settings_tab.wait_for_url("**/signin**")
    expect(settings_tab.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
    expect(settings_tab.locator("#account-email")).to_have_count(0)
    expect(settings_tab.get_by_text(admin.email)).to_have_count(0)
    expect(settings_tab.get_by_text("Profile saved.")).to_have_count(0)

    # Client-side navigation (no page load, same socket) is refused too.
    main_nav(dashboard_tab).get_by_role("link", name="Settings").click()
    dashboard_tab.wait_for_url("**/signin**")
    expect(dashboard_tab.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
    expect(dashboard_tab.get_by_text(admin.email)).to_have_count(0)
    expect(dashboard_tab.get_by_role("heading", name="API tokens")).to_have_count(0)


def _event_socket(base_url: str, origin: str) -> websocket.WebSocket:
    url = base_url.replace("http://", "ws://", 1) + "/_event/?EIO=4&transport=websocket"
    return websocket.create_connection(url, origin=origin, timeout=10)


def test_websocket_from_a_foreign_origin_is_refused(base_url: str):
    # Cookies ride along with a cross-site websocket: accepting it would hand another site a
    # socket that acts as the signed-in user.
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        _event_socket(base_url, EVIL)
    assert refused.value.status_code in (400, 403)

    # The same handshake from our own origin opens an engine.io session.
    sock = _event_socket(base_url, base_url)
    try:
        opening = sock.recv()
        assert opening.startswith("0{") and '"sid"' in opening
    finally:
        sock.close()


@pytest.mark.parametrize("path", ["/", "/signin", "/api/v1/me", "/health"])
def test_security_headers(base_url: str, path: str):
    answer = httpx.get(f"{base_url}{path}", timeout=10)
    assert answer.status_code < 500
    csp = answer.headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp, csp
    assert "default-src 'self'" in csp, csp
    assert answer.headers.get("x-content-type-options") == "nosniff"
    assert answer.headers.get("referrer-policy") in {"strict-origin-when-cross-origin", "no-referrer",
                                                      "same-origin", "strict-origin"}


def test_cookie_write_from_a_foreign_origin_is_refused(admin: Account, base_url: str):
    cookies = {COOKIE: api_login(base_url, admin)}
    name = f"csrf probe {uuid.uuid4().hex[:6]}"
    answer = httpx.post(f"{base_url}/api/v1/tokens", json={"name": name}, cookies=cookies,
                        headers={"Origin": EVIL}, timeout=10)
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "foreign_origin"
    assert answer.json()["error"]["message"]
    listed = httpx.get(f"{base_url}/api/v1/tokens", cookies=cookies, timeout=10).json()["tokens"]
    assert name not in [t["name"] for t in listed]

    # The same request from our own origin is fine: it is the origin that was refused.
    own = httpx.post(f"{base_url}/api/v1/tokens", json={"name": name}, cookies=cookies,
                     headers={"Origin": base_url}, timeout=10)
    assert own.status_code == 201, own.text
    gone = httpx.delete(f"{base_url}/api/v1/tokens/{own.json()['id']}", cookies=cookies,
                        headers={"Origin": base_url}, timeout=10)
    assert gone.status_code == 204
