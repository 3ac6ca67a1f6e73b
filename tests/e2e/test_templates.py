"""Templates in Chromium against the real app: an editor makes an email template from the starter, types fast and
sees the preview follow, saves, breaks a link and sees the checklist fail then pass, compares two versions; a
viewer of the same team reads the library and the editor but has no Save, and the API refuses their save.

One test function: the e2e server build is slow, every step shares it.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import DESKTOP
from tests.e2e.helpers import COOKIE, Account, api_login, new_account, open_page, register

pytestmark = pytest.mark.e2e
ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "templates"
LONG_NAME = "Spring newsletter for the Harbour Studio customers who joined during the winter campaign"


def snap(page: Page, name: str) -> None:
    """A screenshot to look at as a designer would (tests/e2e/artifacts/templates/, not committed)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(400)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def team_with_viewer(base_url: str, owner: Account, viewer: Account) -> tuple[str, str, int]:
    """The owner's team workspace with the viewer in it; both sessions act there. (owner cookie, viewer cookie)"""
    for account in (owner, viewer):
        register(base_url, account)
    owner_cookie, viewer_cookie = api_login(base_url, owner), api_login(base_url, viewer)
    api = httpx.Client(base_url=f"{base_url}/api/v1", timeout=15, headers={"Origin": base_url})
    team = api.post("/workspaces", json={"name": "Harbour Studio"}, cookies={COOKIE: owner_cookie})
    assert team.status_code == 201, team.text
    team_id = team.json()["id"]
    sent = api.post(f"/workspaces/{team_id}/invitations", json={"email": viewer.email, "role": "viewer"},
                    cookies={COOKIE: owner_cookie})
    assert sent.status_code == 201, sent.text
    token = sent.json()["link"].rsplit("token=", 1)[-1]
    assert api.post(f"/invitations/{token}/accept", cookies={COOKIE: viewer_cookie}).status_code == 200
    for cookie in (owner_cookie, viewer_cookie):
        assert api.post(f"/workspaces/{team_id}/switch", cookies={COOKIE: cookie}).status_code == 200
    return owner_cookie, viewer_cookie, team_id


def library_picture(base_url: str, cookie: str, name: str, alt: str) -> int:
    """A ready picture in the team's library with its alt text (the worker makes its thumbnail)."""
    api = httpx.Client(base_url=f"{base_url}/api/v1", timeout=15, headers={"Origin": base_url},
                       cookies={COOKIE: cookie})
    from tests import images

    made = api.post("/assets", files=[("files", (name, images.jpeg(320, 200, seed=5), "image/jpeg"))])
    assert made.status_code == 201, made.text
    asset_id = made.json()["assets"][0]["id"]
    for _ in range(100):
        if api.get(f"/assets/{asset_id}").json()["status"] == "ready":
            break
        time.sleep(0.2)
    assert api.patch(f"/assets/{asset_id}", json={"alt_text": alt}).status_code == 200
    return asset_id


def browser_as(browser: Browser, base_url: str, cookie: str) -> Page:
    ctx = browser.new_context(base_url=base_url, viewport=DESKTOP, color_scheme="light")
    ctx.set_default_timeout(20_000)
    host = re.sub(r"^https?://", "", base_url).split(":")[0]
    ctx.add_cookies([{"name": COOKIE, "value": cookie, "domain": host, "path": "/", "httpOnly": True}])
    return ctx.new_page()


def preview(page: Page):
    return page.frame_locator("#template-preview")


def put_caret_after(page: Page, text: str) -> None:
    page.evaluate("""(text) => {
        const box = document.querySelector('#template-source');
        const at = box.value.indexOf(text) + text.length;
        box.focus(); box.setSelectionRange(at, at);
    }""", text)


def replace_in_source(page: Page, old: str, new: str) -> None:
    box = page.locator("#template-source")
    box.fill(box.input_value().replace(old, new))


def check_state(page: Page, key: str):
    return page.locator(f"#checklist .check-row[data-key='{key}']")


@pytest.mark.timeout(900)
def test_editor_writes_an_email_template_and_a_viewer_cannot_edit(browser: Browser, base_url: str, admin: Account):
    owner, viewer = new_account("Edith"), new_account("Vera")
    owner_cookie, viewer_cookie, _ = team_with_viewer(base_url, owner, viewer)
    page = browser_as(browser, base_url, owner_cookie)

    # An empty library, then a new email template from the starter.
    open_page(page, "/templates")
    expect(page.locator("#templates-empty")).to_contain_text("No templates yet.")
    snap(page, "01-library-empty")
    page.locator("#new-template").click()
    page.get_by_label("Template name").fill(LONG_NAME)
    snap(page, "02-new-template-dialog")
    page.locator("#create-template").click()
    page.wait_for_url(re.compile(r"/templates/\d+$"))
    template_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    expect(page.locator("#template-name")).to_have_text(LONG_NAME)
    expect(preview(page).get_by_text("Hello there,")).to_be_visible()
    expect(page.locator("#template-status")).to_contain_text("v1 draft")

    # Typing fast: every key lands, and the preview follows.
    put_caret_after(page, "Thanks for joining us.")
    typed = " Fresh news from the studio every Friday."
    page.locator("#template-source").press_sequentially(typed, delay=15)
    expect(preview(page).get_by_text("Fresh news from the studio every Friday.")).to_be_visible()
    expect(page.locator("#template-source")).to_have_value(re.compile(re.escape("Thanks for joining us." + typed)))
    expect(page.locator("#dirty-note")).to_be_visible()
    # Sample data changes the preview too.
    page.locator(".sample-field[data-field='first_name'] input").fill("Ada")
    expect(preview(page).get_by_text("Hello Ada,")).to_be_visible()
    snap(page, "03-editor-desktop")
    page.get_by_role("radio", name="Phone").click()
    expect(page.locator("#preview-frame")).to_have_attribute("data-width", "phone")
    snap(page, "04-editor-phone")

    # A library picture: Insert picture offers the team's pictures; the tag carries the library's alt text, and
    # the preview shows the picture (its member-only address, inside the app).
    asset_id = library_picture(base_url, owner_cookie, "harbour-boats.jpg", "Boats moored in the harbour")
    page.locator("#insert-picture").click()
    page.get_by_role("button", name="Insert harbour-boats.jpg").click()
    tag = f'<mj-image src="/api/v1/assets/{asset_id}/download" alt="Boats moored in the harbour" />'
    expect(page.locator("#template-source")).to_have_value(re.compile(re.escape(tag)))
    shown = preview(page).locator(f"img[src='/api/v1/assets/{asset_id}/download']")
    expect(shown).to_have_attribute("alt", "Boats moored in the harbour")
    shown.evaluate("img => img.complete ? true : new Promise(done => img.addEventListener('load', done))")
    assert shown.evaluate("img => img.naturalWidth") == 320
    snap(page, "03b-picture-inserted")

    # Save with a note: version 2.
    page.locator("#change-note").fill("Weekly news line")
    page.locator("#save-version").click()
    expect(page.get_by_text("Saved as version 2.")).to_be_visible()
    expect(page.locator("#template-status")).to_contain_text("v2 draft")

    # The checklist: a link to a private address fails, the fix passes.
    page.get_by_role("tab", name=re.compile("Checklist")).click()
    expect(check_state(page, "links")).to_have_attribute("data-ok", "yes")
    replace_in_source(page, "https://example.com/unsubscribe", "http://intranet/unsubscribe")
    expect(check_state(page, "links")).to_have_attribute("data-ok", "")
    expect(check_state(page, "links")).to_contain_text("http://intranet/unsubscribe")
    expect(page.locator(".failing-count").first).to_have_text("1")
    page.locator("#checklist").scroll_into_view_if_needed()
    snap(page, "05-checklist-failing")
    replace_in_source(page, "http://intranet/unsubscribe", "https://example.com/unsubscribe?list=news")
    expect(check_state(page, "links")).to_have_attribute("data-ok", "yes")
    expect(page.locator(".failing-count")).to_have_count(0)

    # A broken tag names its line; the save refuses it and the text stays in the box.
    replace_in_source(page, "</mj-button>", "")
    expect(page.locator("#editor-error")).to_contain_text("Line ")
    page.locator("#save-version").click()
    expect(page.locator("#template-status")).to_contain_text("v2 draft")
    expect(page.locator("#template-source")).not_to_have_value(re.compile("</mj-button>"))
    snap(page, "06-error-names-the-line")
    replace_in_source(page, ">Get started\n", ">Get started</mj-button>\n")
    expect(page.locator("#editor-error")).to_have_count(0)
    page.locator("#change-note").fill("Unsubscribe link per list")
    page.locator("#save-version").click()
    expect(page.get_by_text("Saved as version 3.")).to_be_visible()

    # Versions and compare: the source diff and the two renders side by side.
    page.get_by_role("tab", name=re.compile("Versions")).click()
    expect(page.locator(".version-row")).to_have_count(3)
    expect(page.locator(".version-row[data-number='2']")).to_contain_text("Weekly news line")
    page.locator("#versions").scroll_into_view_if_needed()
    snap(page, "07-versions")
    page.locator(".version-row[data-number='1'] .compare-version").click()
    expect(page.locator("#diff-summary")).to_contain_text("added")
    expect(page.locator("#source-diff .diff-add").first).to_be_visible()
    expect(page.frame_locator("#compare-b").get_by_text("Fresh news from the studio every Friday.")).to_be_visible()
    expect(page.frame_locator("#compare-a").get_by_text("Fresh news from the studio")).to_have_count(0)
    snap(page, "08-compare")
    page.keyboard.press("Escape")

    # The library shows the card with its long name, kind and status.
    open_page(page, "/templates")
    card = page.locator(".template-card").first
    expect(card).to_contain_text("Email")
    expect(card.locator(".template-status")).to_have_text("v3 draft")
    page.locator("#template-search").fill("harbour studio customers")
    expect(page).to_have_url(re.compile(r"/templates\?q=harbour"))
    expect(page.locator(".template-card")).to_have_count(1)
    snap(page, "09-library")

    # An image style: its prompt and settings; "Use in Generate" waits for an approved version.
    page.locator("#new-template").click()
    page.locator(".kind-choice[data-kind='image_style']").click()
    page.get_by_label("Template name").fill("Soft morning light")
    page.locator("#create-template").click()
    page.wait_for_url(re.compile(r"/templates/\d+$"))
    expect(page.locator("#style-prompt")).to_have_value(re.compile(r"\{\{ subject \}\}"))
    expect(page.locator("#use-in-generate")).to_be_disabled()
    page.locator("#style-prompt").fill("A {{ subject }} on linen, window light, muted colors")
    expect(page.locator("#prompt-preview")).to_have_text("A ceramic vase on linen, window light, muted colors")
    page.locator("#save-version").click()
    expect(page.get_by_text("Saved as version 2.")).to_be_visible()
    expect(page.locator("#dirty-note")).to_have_count(0)  # Save right after typing saved what the box showed
    snap(page, "10-image-style")
    open_page(page, "/templates?kind=image_style")
    expect(page.locator(".template-card")).to_have_count(1)

    # The viewer: the library and the editor, read only; the API refuses a save.
    reader = browser_as(browser, base_url, viewer_cookie)
    open_page(reader, "/templates")
    expect(reader.locator(".template-card")).to_have_count(2)
    expect(reader.locator("#new-template")).to_have_count(0)
    expect(reader.locator(".duplicate-template")).to_have_count(0)
    expect(reader.locator(".archive-template")).to_have_count(0)
    open_page(reader, f"/templates/{template_id}")
    expect(reader.locator("#read-only-note")).to_be_visible()
    expect(preview(reader).get_by_text("Fresh news from the studio every Friday.")).to_be_visible()
    expect(reader.locator("#save-version")).to_have_count(0)
    expect(reader.locator("#insert-picture")).to_have_count(0)
    expect(reader.locator("#template-source")).to_have_attribute("readonly", "")
    snap(reader, "11-viewer-editor")
    refused = httpx.post(f"{base_url}/api/v1/templates/{template_id}/versions", cookies={COOKIE: viewer_cookie},
                         headers={"Origin": base_url},
                         json={"content": {"source": "<mjml></mjml>", "schema": {}}, "note": "x", "base_number": 3},
                         timeout=10)
    assert refused.status_code == 403, refused.text
    reader.context.close()
    page.context.close()
