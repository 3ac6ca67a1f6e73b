"""A team in Chromium against the real app: the owner makes a team workspace and puts a picture in it,
invites an editor and a viewer by email; the editor signs up from the link and sees the shared library,
the viewer signs in from theirs and cannot delete (no Delete control, and the API says 403)."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from app.services.workspaces.permissions import ROLE_HELP
from tests import images
from tests.e2e.conftest import DESKTOP
from tests.e2e.helpers import (
    COOKIE,
    Account,
    expect_dashboard,
    main_nav,
    new_account,
    open_page,
    register,
    session_cookie,
    shot,
    sign_in,
    sign_up,
)

pytestmark = pytest.mark.e2e
TEAM = "Harbour Studio"


def new_page(browser: Browser, base_url: str) -> Page:
    ctx = browser.new_context(base_url=base_url, viewport=DESKTOP, color_scheme="light")
    ctx.set_default_timeout(15_000)
    return ctx.new_page()


def switcher(page: Page):
    return page.get_by_role("button", name="Switch workspace").first


def invite(page: Page, email: str, role_label: str) -> None:
    page.get_by_label("Email to invite").fill(email)
    page.get_by_role("combobox", name="Role for the invitation").click()
    page.get_by_role("option", name=role_label, exact=True).click()
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_label("Pending invitations", exact=True).get_by_text(email)).to_be_visible()


def invitation_link(admin_page: Page, email: str, base_url: str) -> str:
    """The link in the invitation email, read in the outbox (no SMTP in the tests) as the site admin."""
    open_page(admin_page, "/admin/outbox")
    admin_page.get_by_role("button").filter(has_text=f"→ {email}").first.click()
    body = admin_page.locator("pre").filter(has_text="/invite?token=").first
    expect(body).to_be_visible()
    match = re.search(r"(https?://\S+/invite\?token=[\w\-]+)", body.inner_text())
    assert match, body.inner_text()
    assert match.group(1).startswith(f"{base_url}/invite?token=")
    return match.group(1)


def expect_acting_in(page: Page, name: str, role_label: str) -> None:
    expect(switcher(page)).to_contain_text(name)
    expect(switcher(page)).to_contain_text(role_label)


# Four people in four browsers, and when this file runs alone the app server's first build counts too.
@pytest.mark.timeout(600)
def test_owner_invites_an_editor_who_sees_the_library_and_a_viewer_who_cannot_delete(
        page: Page, browser: Browser, base_url: str, admin: Account, tmp_path):
    owner, editor, viewer = new_account("Grace"), new_account("Edith"), new_account("Vera")
    approver_email = new_account("Ines").email  # invited last, never answers: the pending list

    # The owner makes a team from the switcher and lands on its page.
    sign_up(page, owner)
    expect_acting_in(page, "Personal", "Owner")
    switcher(page).click()
    page.get_by_role("menuitem", name="Create team workspace").click()
    page.locator("#team-name").fill(TEAM)
    page.get_by_role("button", name="Create workspace").click()
    page.wait_for_url(re.compile(r"/workspace/?$"))
    expect(page.get_by_role("heading", name=TEAM)).to_be_visible()
    expect_acting_in(page, TEAM, "Owner")

    # A picture in the team's library.
    picture = tmp_path / "harbour-at-dawn.jpg"
    picture.write_bytes(images.jpeg(1200, 800, seed=11))
    open_page(page, "/assets")
    page.locator("#assets input[type=file]").set_input_files(str(picture))
    page.wait_for_function("document.querySelectorAll('.asset-card[data-status=ready]').length == 1",
                           timeout=120_000)

    # Two invitations, each role with what it means beside the select.
    open_page(page, "/workspace")
    invite(page, editor.email, "Editor")
    page.get_by_label("Email to invite").fill(viewer.email)
    page.get_by_role("combobox", name="Role for the invitation").click()
    page.get_by_role("option", name="Viewer", exact=True).click()
    expect(page.get_by_text(ROLE_HELP["viewer"])).to_be_visible()
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_label("Pending invitations", exact=True).get_by_text(viewer.email)).to_be_visible()

    admin_page = new_page(browser, base_url)
    sign_in(admin_page, admin)
    editor_link = invitation_link(admin_page, editor.email, base_url)
    viewer_link = invitation_link(admin_page, viewer.email, base_url)

    # The editor has no account: the link shows the invitation, "Create an account" comes back to it.
    editor_page = new_page(browser, base_url)
    open_page(editor_page, editor_link)
    expect(editor_page.get_by_text(TEAM)).to_be_visible()
    expect(editor_page.get_by_role("button", name="Sign in to accept")).to_be_visible()
    shot(editor_page, "invite-accept")
    editor_page.get_by_role("button", name="Create an account").click()
    editor_page.wait_for_url("**/signup**")
    expect(editor_page.get_by_text(f"You are joining {TEAM} as Editor")).to_be_visible()
    expect(editor_page.locator("#email")).to_have_value(editor.email)
    editor_page.fill("#name", editor.name)
    editor_page.fill("#password", editor.password)
    editor_page.fill("#confirm", editor.password)
    editor_page.click("button[type=submit]")
    expect_dashboard(editor_page, editor)
    expect_acting_in(editor_page, TEAM, "Editor")
    # Billing is on for the e2e server: nothing about payments shows to a member who is not owner or admin.
    expect(main_nav(editor_page).get_by_role("link", name="Assets")).to_be_visible()
    expect(main_nav(editor_page).get_by_role("link", name="Billing")).to_have_count(0)
    open_page(editor_page, "/assets")
    expect(editor_page.locator("#asset-grid .asset-card")).to_have_count(1)
    expect(editor_page.get_by_text("harbour-at-dawn")).to_be_visible()

    # The viewer has an account: sign in from the link, back to it, join.
    register(base_url, viewer)
    viewer_page = new_page(browser, base_url)
    open_page(viewer_page, viewer_link)
    viewer_page.get_by_role("button", name="Sign in to accept").click()
    viewer_page.wait_for_url("**/signin**")
    viewer_page.fill("#email", viewer.email)
    viewer_page.fill("#password", viewer.password)
    viewer_page.click("button[type=submit]")
    viewer_page.wait_for_url(re.compile(r"/invite/?\?token="))
    viewer_page.get_by_role("button", name=f"Join {TEAM} as Viewer").click()
    expect_dashboard(viewer_page, viewer)
    expect_acting_in(viewer_page, TEAM, "Viewer")

    # The viewer sees the picture and may download it, but there is no Delete, and the API refuses.
    open_page(viewer_page, "/assets")
    card = viewer_page.locator("#asset-grid .asset-card").first
    expect(card).to_be_visible()
    expect(viewer_page.locator("#role-notice")).to_contain_text("not upload or change pictures")
    href = card.locator("a.open-asset").get_attribute("href")
    asset_id = href.rstrip("/").rsplit("/", 1)[-1]
    open_page(viewer_page, href)
    expect(viewer_page.get_by_role("button", name="Download")).to_be_visible()
    expect(viewer_page.get_by_role("button", name="Delete")).to_have_count(0)

    # Pages that make things say why their start button is off, before a click meets a refusal.
    open_page(viewer_page, "/generate")
    expect(viewer_page.locator("#role-notice")).to_contain_text(f"Your role in {TEAM} (Viewer) lets you look")
    expect(viewer_page.get_by_role("button", name="Generate", exact=True)).to_be_disabled()
    open_page(viewer_page, "/workflows")
    expect(viewer_page.locator("#role-notice")).to_contain_text("not run workflows")
    open_page(viewer_page, "/rename")
    expect(viewer_page.locator("#role-notice")).to_contain_text("not rename pictures")
    open_page(viewer_page, "/slides")
    expect(viewer_page.get_by_role("button", name="Create outline")).to_be_disabled()

    # The viewer's team page: members listed, nothing to manage.
    open_page(viewer_page, "/workspace")
    expect(viewer_page.get_by_label("Members", exact=True).get_by_text(owner.email)).to_be_visible()
    expect(viewer_page.get_by_label("Email to invite")).to_have_count(0)
    expect(viewer_page.get_by_role("button", name="Remove")).to_have_count(0)
    expect(viewer_page.get_by_role("button", name="Leave")).to_be_visible()

    # Back with the owner: three members now, and the switcher lists both workspaces.
    open_page(page, "/workspace")
    members = page.get_by_label("Members", exact=True)
    expect(members.get_by_text(editor.email)).to_be_visible()
    expect(members.get_by_text(viewer.email)).to_be_visible()
    expect(page.get_by_label("Pending invitations", exact=True)).to_have_count(0)
    invite(page, approver_email, "Approver")
    page.mouse.move(640, 20)  # a toast under the pointer stays: let it go before the picture
    expect(page.get_by_text("Invitation sent to")).to_have_count(0, timeout=15_000)
    page.set_viewport_size({"width": 1280, "height": 1500})
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "workspace-team")
    page.set_viewport_size(DESKTOP)
    switcher(page).click()
    expect(page.get_by_role("menuitem").filter(has_text="Personal")).to_be_visible()
    shot(page, "workspace-switcher")
    page.keyboard.press("Escape")

    # The switch goes both ways: to Personal, whose library is empty, and back.
    switcher(page).click()
    page.get_by_role("menuitem").filter(has_text="Personal").click()
    expect_acting_in(page, "Personal", "Owner")
    open_page(page, "/assets")
    expect(page.get_by_text("No pictures yet")).to_be_visible()
    open_page(page, "/generate")
    expect(page.get_by_role("button", name="Generate", exact=True)).to_be_enabled()
    expect(page.locator("#role-notice")).to_have_count(0)
    open_page(page, "/billing")  # billing is on in the journeys: the page never says it is off, not even at first
    expect(page.get_by_role("heading", name="Your plan")).to_be_visible()
    expect(page.locator("#billing-off")).to_have_count(0)

    # The site admin sees the team with its three members.
    open_page(admin_page, "/admin/workspaces")
    expect(admin_page.get_by_role("row").filter(has_text=TEAM).first).to_be_visible()
    shot(admin_page, "admin-workspaces")
    admin_page.get_by_label("Search workspaces").fill("Harbour")
    row = admin_page.get_by_role("row").filter(has_text=TEAM).filter(has_text=owner.email)
    expect(row).to_have_count(1)
    expect(row.get_by_role("cell").nth(3)).to_have_text("3")

    # A used link says so, and nothing breaks.
    open_page(viewer_page, viewer_link)
    expect(viewer_page.get_by_role("alert")).to_contain_text("already used")
    open_page(viewer_page, "/invite?token=not-a-real-token")
    expect(viewer_page.get_by_role("alert")).to_contain_text("not valid")

    # The server is the authority: the viewer's own session, sent as the browser would, is refused.
    cookie = {COOKIE: session_cookie(viewer_page.context)["value"]}
    refused = httpx.delete(f"{base_url}/api/v1/assets/{asset_id}", cookies=cookie, headers={"Origin": base_url},
                           timeout=10)
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "role_forbidden"
    still = httpx.get(f"{base_url}/api/v1/assets/{asset_id}", cookies=cookie, timeout=10)
    assert still.status_code == 200, still.text
