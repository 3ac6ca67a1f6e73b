"""Template review in Chromium against the real app: an editor writes an email template, the checks pass, and
sends it for review under Copy (an approver) → Legal (a named member); each approver sees it in the bell and in
/reviews and approves; the version becomes active and the render API returns it for a bearer token; the author
has no Approve button and the API refuses their approval.

One test function: the e2e server build is slow, every step shares it.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.helpers import COOKIE, Account, api_login, new_account, open_page, register
from tests.e2e.test_templates import browser_as

pytestmark = pytest.mark.e2e
ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "template_review"


def snap(page: Page, name: str) -> None:
    """A screenshot to look at as a designer would (tests/e2e/artifacts/template_review/, not committed)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(400)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def team_of(base_url: str, owner: Account, members: list[tuple[Account, str]]) -> tuple[dict[str, str], int, dict]:
    """The owner's team with `members` in their roles; every session acts there. (cookies by email, team id, ids)"""
    for account in (owner, *[m for m, _ in members]):
        register(base_url, account)
    cookies = {a.email: api_login(base_url, a) for a in (owner, *[m for m, _ in members])}
    api = httpx.Client(base_url=f"{base_url}/api/v1", timeout=15, headers={"Origin": base_url})
    team = api.post("/workspaces", json={"name": "Harbour Studio"}, cookies={COOKIE: cookies[owner.email]})
    assert team.status_code == 201, team.text
    team_id = team.json()["id"]
    for account, role in members:
        sent = api.post(f"/workspaces/{team_id}/invitations", json={"email": account.email, "role": role},
                        cookies={COOKIE: cookies[owner.email]})
        assert sent.status_code == 201, sent.text
        token = sent.json()["link"].rsplit("token=", 1)[-1]
        assert api.post(f"/invitations/{token}/accept", cookies={COOKIE: cookies[account.email]}).status_code == 200
    for cookie in cookies.values():
        assert api.post(f"/workspaces/{team_id}/switch", cookies={COOKIE: cookie}).status_code == 200
    people = api.get(f"/workspaces/{team_id}/members", cookies={COOKIE: cookies[owner.email]}).json()["members"]
    return cookies, team_id, {p["email"]: p["user_id"] for p in people}


@pytest.mark.timeout(900)
def test_two_approvers_approve_in_two_stages_and_the_active_version_renders(browser: Browser, base_url: str,
                                                                          admin: Account):
    owner, editor = new_account("Olive"), new_account("Eddie")
    copy, legal = new_account("Ann"), new_account("Lee")
    cookies, team_id, ids = team_of(base_url, owner, [(editor, "editor"), (copy, "approver"), (legal, "approver")])
    api = httpx.Client(base_url=f"{base_url}/api/v1", timeout=15, headers={"Origin": base_url})

    # The owner sets Copy (any approver) → Legal (Lee by name) on the team page.
    page = browser_as(browser, base_url, cookies[owner.email])
    flow = api.put(f"/workspaces/{team_id}/approval-workflow", cookies={COOKIE: cookies[owner.email]}, json={
        "stages": [{"name": "Copy", "needed": 1, "roles": ["approver"]},
                   {"name": "Legal", "needed": 1, "members": [ids[legal.email]]}]})
    assert flow.status_code == 200, flow.text
    open_page(page, "/workspace")
    card = page.locator("#approval-workflow")
    expect(card.locator(".workflow-stage")).to_have_count(2)
    expect(card.locator("input.stage-name, .stage-name input").nth(1)).to_have_value("Legal")
    card.scroll_into_view_if_needed()
    snap(page, "01-workflow-settings")
    page.context.close()

    # The editor writes an email template; the checks pass; it goes to review.
    page = browser_as(browser, base_url, cookies[editor.email])
    open_page(page, "/templates")
    page.locator("#new-template").click()
    page.get_by_label("Template name").fill("Welcome email")
    page.locator("#create-template").click()
    page.wait_for_url(re.compile(r"/templates/\d+$"))
    template_id = int(page.url.rstrip("/").rsplit("/", 1)[-1])
    expect(page.locator(".failing-count")).to_have_count(0)
    panel = page.locator("#review-panel")
    expect(panel.locator("#review-status")).to_contain_text("v1 · Draft")
    expect(panel.locator("#approve-version")).to_have_count(0)
    snap(page, "02-editor-draft")
    panel.locator("#submit-review").click()
    expect(panel.locator("#review-status")).to_contain_text("In review")
    expect(panel.locator("#stage-progress")).to_have_text("Copy 0/1 → Legal")
    # The author cannot approve their own version: no button, and the API refuses.
    expect(panel.locator("#approve-version")).to_have_count(0)
    refused = api.post(f"/templates/{template_id}/reviews/1/approve", json={"revision": 0},
                       cookies={COOKIE: cookies[editor.email]})
    assert refused.status_code == 403, refused.text
    panel.locator("#comment-body").fill(f"@{copy.email} the subject line is new, please look.")
    panel.locator("#add-comment").click()
    expect(panel.locator(".template-comment")).to_have_count(1)
    snap(page, "03-in-review-author")
    page.context.close()

    # Ann (Copy): the bell and the inbox show it; she approves the Copy stage.
    for who, stage, after in ((copy, "Copy", "Copy 1/1 ✓ → Legal 0/1"), (legal, "Legal", "")):
        page = browser_as(browser, base_url, cookies[who.email])
        open_page(page, "/reviews")
        bell = page.locator("#notification-bell-side")
        expect(page.locator("#unread-count-side")).to_be_visible()
        row = page.locator(".inbox-row")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("Welcome email")
        expect(row).to_contain_text(stage)
        snap(page, f"04-inbox-{stage.lower()}")
        bell.click()
        notice = page.locator(".notice", has_text=f"Review “Welcome email” v1 ({stage})")
        expect(notice).to_have_count(1)
        snap(page, f"05-bell-{stage.lower()}")
        notice.click()
        page.wait_for_url(re.compile(rf"/templates/{template_id}"))
        panel = page.locator("#review-panel")
        panel.locator("#approve-version").click()
        if after:
            expect(panel.locator("#stage-progress")).to_have_text(after)
        else:
            expect(panel.locator("#review-status")).to_contain_text("Approved")
            expect(panel.locator("#active-version")).to_have_text("Active: v1")
        snap(page, f"06-approved-{stage.lower()}")
        page.context.close()

    # The render API returns the active version with the variables, for a bearer token.
    made = api.post("/tokens", cookies={COOKIE: cookies[editor.email]},
                    json={"name": "render", "scopes": ["read"], "workspace_id": team_id})
    assert made.status_code == 201, made.text
    rendered = httpx.post(f"{base_url}/api/v1/templates/{template_id}/render", timeout=15,
                          headers={"Authorization": f"Bearer {made.json()['token']}"},
                          json={"variables": {"first_name": "Ada"}})
    assert rendered.status_code == 200, rendered.text
    assert "Hello Ada," in rendered.json()["html"] and "Hello Ada," in rendered.json()["text"]
