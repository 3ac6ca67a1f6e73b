"""Journey: sign in with the company's OpenID provider → the dashboard, in the team workspace, with the role
the provider's groups claim maps to. The provider is a real OIDC server on loopback (tests/fake_oidc.py)."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, text

from tests.e2e.conftest import SSO_TEAM_WORKSPACE_ID
from tests.e2e.helpers import open_page, shot, sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def team_workspace(server_data_dir, base_url, admin) -> int:
    """The team workspace the provider's groups map into, owned by the admin (made in the server's database:
    this branch has no page that creates team workspaces yet)."""
    engine = create_engine(f"sqlite:///{server_data_dir / 'atelier.db'}")
    with engine.begin() as conn:
        admin_id = conn.execute(text("SELECT id FROM user WHERE email = :e"), {"e": admin.email}).scalar_one()
        conn.execute(text("INSERT OR IGNORE INTO workspace (id, name, kind, created_by, created_at) "
                          "VALUES (:id, 'Studio Team', 'team', :owner, CURRENT_TIMESTAMP)"),
                     {"id": SSO_TEAM_WORKSPACE_ID, "owner": admin_id})
        conn.execute(text("INSERT OR IGNORE INTO membership (workspace_id, user_id, role, role_source, created_at) "
                          "VALUES (:id, :owner, 'owner', '', CURRENT_TIMESTAMP)"),
                     {"id": SSO_TEAM_WORKSPACE_ID, "owner": admin_id})
    engine.dispose()
    return SSO_TEAM_WORKSPACE_ID


def test_sign_in_with_the_provider_lands_in_the_team_with_the_mapped_role(page: Page, oidc_provider,
                                                                           team_workspace):
    tag = uuid.uuid4().hex[:8]
    oidc_provider.user = {"sub": f"grace-{tag}", "email": f"grace-{tag}@atelier-e2e.io", "email_verified": True,
                          "name": f"Grace {tag}", "groups": ["staff", "designers"]}
    open_page(page, "/signin")
    button = page.get_by_role("link", name="Continue with Acme SSO")
    expect(button).to_be_visible()
    shot(page, "signin-sso")
    button.click()

    expect(page).to_have_url(re.compile(r"/dashboard"))
    expect(page.get_by_role("heading", name=f"Hello, Grace {tag}")).to_be_visible()
    me = page.request.get("/api/v1/me").json()
    assert (me["workspace_id"], me["workspace_role"]) == (team_workspace, "editor")
    assert me["email"] == f"grace-{tag}@atelier-e2e.io"

    # Settings shows the linked provider; as her only way in (no password), it cannot be unlinked.
    open_page(page, "/settings")
    methods = page.get_by_role("heading", name="Sign-in methods")
    expect(methods).to_be_visible()
    expect(page.get_by_text("Your account has no password")).to_be_visible()
    methods.scroll_into_view_if_needed()
    shot(page, "settings-sso")
    page.get_by_role("button", name="Unlink").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Unlink").click()
    expect(page.get_by_text("This is your only way to sign in.")).to_be_visible()


def test_a_replayed_callback_shows_a_clear_error(page: Page, oidc_provider, base_url, admin):
    tag = uuid.uuid4().hex[:8]
    oidc_provider.user = {"sub": f"lin-{tag}", "email": f"lin-{tag}@atelier-e2e.io", "email_verified": True,
                          "name": f"Lin {tag}"}
    open_page(page, "/signin")
    callbacks: list[str] = []
    page.on("request", lambda r: callbacks.append(r.url) if "/callback?" in r.url else None)
    page.get_by_role("link", name="Continue with Acme SSO").click()
    page.wait_for_url("**/dashboard**")
    page.context.clear_cookies()
    page.goto(callbacks[0])  # the same code and state again, as a replayed link
    expect(page).to_have_url(re.compile(r"/signin/?\?sso_error=sso_state_invalid"))
    expect(page.get_by_text("That sign-in link is not valid or was already used.")).to_be_visible()
    assert page.request.get("/api/v1/me").status == 401


def test_admin_health_lists_each_provider(page: Page, admin, team_workspace):
    sign_in(page, admin)
    open_page(page, "/admin/health")
    expect(page.get_by_role("heading", name="Single sign-on")).to_be_visible()
    acme = page.get_by_role("row").filter(has_text="Acme SSO")
    expect(acme).to_contain_text("OpenID Connect")
    expect(acme).to_contain_text("up")
    expect(acme).to_contain_text("role claim 'groups' → Studio Team")
    expect(page.get_by_role("row").filter(has_text="GitHub (OAuth 2.0)")).to_contain_text("up")
    page.get_by_role("heading", name="Single sign-on").scroll_into_view_if_needed()
    shot(page, "admin-health-sso")
