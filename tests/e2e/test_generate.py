"""Image generation in Chromium against the real app: prompt → live progress → gallery → download."""

import io
import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.e2e.helpers import new_account, open_page, shot, sign_up

pytestmark = pytest.mark.e2e


def test_prompt_progress_gallery_download(page: Page):
    sign_up(page, new_account("Gene"))
    open_page(page, "/generate")
    expect(page.get_by_role("heading", name="Generate")).to_be_visible()
    page.get_by_label("Prompt", exact=True).fill('poster for a jazz night "Blue Notes", neon, midnight blue')
    page.get_by_role("combobox", name="Style", exact=True).click()
    page.get_by_role("option", name="Poster").click()
    page.get_by_label("Number of images").get_by_role("radio", name="2").click()
    page.get_by_label("Seed", exact=True).fill("1234")
    expect(page.locator("#generate-cost")).to_contain_text("Free on this provider")
    shot(page, "generate-form")
    page.get_by_role("button", name="Generate").click()
    status = page.locator("#generation-status")
    expect(status).to_be_visible()
    expect(status).to_contain_text("seed 1234")
    # The worker makes both images; the page follows the job without a reload.
    expect(status).to_have_attribute("data-status", "succeeded", timeout=90_000)
    expect(page.locator("#current-results .result-tile")).to_have_count(2)
    expect(page.locator("#generate-status")).to_have_text("2 images, kept in your library and the gallery")
    expect(page.locator("#gallery-grid .gallery-card")).to_have_count(2, timeout=30_000)
    page.wait_for_function("[...document.querySelectorAll('#gallery-grid img')].every(i => i.complete && "
                           "i.naturalWidth > 0)")
    shot(page, "generate")

    page.locator("#gallery-grid .gallery-card").first.click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("1234").or_(dialog.get_by_text("1235"))).to_be_visible()
    expect(dialog.get_by_text("poster", exact=True)).to_be_visible()
    shot(page, "generate-detail")
    dialog.get_by_role("button", name="Download").click()
    with page.expect_download() as download_info:
        page.get_by_role("menuitem", name="WebP").click()
    data = Path(download_info.value.path()).read_bytes()
    assert Image.open(io.BytesIO(data)).format == "WEBP"
    assert download_info.value.suggested_filename.endswith(".webp")

    # "Use these settings" fills the form again, seed included.
    page.get_by_role("dialog").get_by_role("button", name="Use these settings").click()
    # The card opened is one of the two images: seed 1234 or 1235 (image i uses seed + i).
    expect(page.get_by_label("Seed", exact=True)).to_have_value(re.compile(r"^123[45]$"))
    prompt = 'poster for a jazz night "Blue Notes", neon, midnight blue'
    expect(page.get_by_label("Prompt", exact=True)).to_have_value(prompt)


def test_a_double_click_starts_one_generation(page: Page):
    sign_up(page, new_account("Dora"))
    open_page(page, "/generate")
    page.get_by_label("Prompt", exact=True).fill("a quiet harbour at dawn, watercolour")
    # Both events of the double click leave before the page hears back: they carry the same key.
    page.get_by_role("button", name="Generate").dblclick()
    expect(page.locator("#generation-status")).to_have_attribute("data-status", "succeeded", timeout=90_000)
    expect(page.locator("#gallery-grid .gallery-card")).to_have_count(1, timeout=30_000)
    page.wait_for_timeout(3000)  # a second job, had one started, would have finished and shown by now
    expect(page.locator("#gallery-grid .gallery-card")).to_have_count(1)
    # The key was re-armed: the next click is a new request.
    page.get_by_role("button", name="Generate").click()
    expect(page.locator("#gallery-grid .gallery-card")).to_have_count(2, timeout=90_000)


def test_refused_prompt_shows_the_reason(page: Page):
    sign_up(page, new_account("Mona"))
    open_page(page, "/generate")
    page.get_by_label("Prompt", exact=True).fill("n4ked w0man on a beach")
    page.get_by_role("button", name="Generate").click()
    error = page.locator("#generate-error")
    expect(error).to_be_visible()
    expect(error).not_to_contain_text("n4ked")
    expect(page.locator("#generation-status")).to_have_count(0)


def test_admin_edits_a_style_and_sees_refusals_in_the_moderation_log(page: Page, admin):
    from tests.e2e.helpers import sign_in

    sign_in(page, admin)
    open_page(page, "/generate")
    page.get_by_label("Prompt", exact=True).fill("a nak3d w0man, photo")
    page.get_by_role("button", name="Generate").click()
    expect(page.locator("#generate-error")).to_be_visible()

    open_page(page, "/admin/moderation")
    log = page.locator("#moderation-log")
    expect(log.get_by_text("a nak3d w0man, photo")).to_be_visible()
    expect(log.get_by_text("refused").first).to_be_visible()
    page.get_by_label("Term", exact=True).fill("glitterbomb")
    page.get_by_label("Category").fill("other")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_text("Added to the denylist.")).to_be_visible()
    # The picture for the README shows the admin's own term, not the starter list's slurs.
    page.get_by_label("Search terms").fill("glitter")
    expect(page.get_by_text("glitterbomb", exact=True)).to_be_visible()
    expect(page.get_by_text("85 terms")).to_have_count(0)
    shot(page, "admin-moderation")

    open_page(page, "/admin/styles")
    page.get_by_role("row").filter(has_text="Watercolor").get_by_role("button", name="Edit").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("Watercolour")
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Style “Watercolour” saved.")).to_be_visible()
    shot(page, "admin-styles")


def test_what_is_sent_is_what_the_box_shows_at_the_click(page: Page):
    """Typing fast (40 ms a key) and clicking at once sends the new text, not the debounced old one."""
    sign_up(page, new_account("Quick"))
    open_page(page, "/generate")
    box = page.get_by_label("Prompt", exact=True)
    box.fill("a quiet harbour at dawn")
    page.get_by_role("button", name="Generate").click()
    status = page.locator("#generation-status")
    expect(status).to_have_attribute("data-status", "succeeded", timeout=90_000)
    expect(page.locator("#generation-prompt")).to_have_text("a quiet harbour at dawn")

    box.fill("")
    box.press_sequentially("a lighthouse in a storm", delay=40)
    page.get_by_role("button", name="Generate").click()
    expect(page.locator("#generation-prompt")).to_have_text("a lighthouse in a storm")
    expect(status).to_have_attribute("data-status", "succeeded", timeout=90_000)

    # A refused prompt typed just as fast is refused, not swapped for the last accepted one.
    box.fill("")
    box.press_sequentially("n4ked w0man on a beach", delay=40)
    page.get_by_role("button", name="Generate").click()
    expect(page.locator("#generate-error")).to_be_visible()
    expect(page.locator("#generation-prompt")).to_have_text("a lighthouse in a storm")

    # Ctrl+Enter in the box submits what the box shows too.
    box.fill("")
    box.press_sequentially("a paper boat on a pond", delay=40)
    box.press("Control+Enter")
    expect(page.locator("#generation-prompt")).to_have_text("a paper boat on a pond")
    expect(page.locator("#generate-error")).to_have_count(0)
    expect(status).to_have_attribute("data-status", "succeeded", timeout=90_000)
    shot(page, "generate-fast-typing")

    # A keyboard user sees where they are on the image tiles (a plain box had no focus ring).
    tile = page.locator("#current-results .result-tile").first
    tile.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    assert tile.evaluate("e => e.matches(':focus-visible') ? getComputedStyle(e).outlineStyle : 'not focused'") \
        == "solid"


def test_admin_jobs_show_each_jobs_progress_as_a_number(page: Page, admin):
    """The bars were fed text ("100"): a prop-type error per row and every bar drawn half full."""
    from tests.e2e.helpers import sign_in

    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    sign_in(page, admin)
    open_page(page, "/generate")
    page.get_by_label("Prompt", exact=True).fill("a lighthouse at night")
    page.get_by_role("button", name="Generate").click()
    expect(page.locator("#generation-status")).to_have_attribute("data-status", "succeeded", timeout=90_000)
    open_page(page, "/admin/jobs")
    done = page.locator("tr", has_text="succeeded").first.get_by_role("progressbar")
    expect(done).to_have_attribute("data-state", "complete")
    assert not [e for e in errors if "progress" in e.lower() or "prop type" in e.lower()], errors
