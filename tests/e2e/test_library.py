"""A designer's library journey in Chromium against the real app: upload a shoot and a poster, search,
select every match, collect them, rename them, and find one again with its new name, alt text and tags."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests import images, photos
from tests.e2e.helpers import new_account, open_page, shot, sign_up

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def shoot(tmp_path_factory):
    """Seven camera scenes and five more frames under camera names, plus a 9:16 poster."""
    folder = tmp_path_factory.mktemp("shoot")
    paths = []
    for name in photos.SCENES:
        (folder / name).write_bytes(photos.scene_bytes(name))
        paths.append(str(folder / name))
    for i in range(5):
        path = folder / f"DSC_{1001 + i}.jpg"
        path.write_bytes(images.jpeg(1200, 800, seed=40 + i))
        paths.append(str(path))
    poster = folder / "summer-sale-poster.png"
    poster.write_bytes(images.encode(images.photo(900, 1600, seed=7), "PNG"))
    return [*paths, str(poster)]


def top_of_library(page: Page) -> None:
    """Scroll so the search bar is at the top: the screenshot shows the library, not the drop zone."""
    page.evaluate("document.getElementById('library-search').closest('.rt-Flex, div').scrollIntoView()")
    page.evaluate("window.scrollBy(0, -16)")


def cards(page: Page):
    return page.locator("#asset-grid .asset-card")


def test_search_select_all_collect_rename_and_find_again(page: Page, shoot):
    sign_up(page, new_account("Lena"))
    open_page(page, "/assets")
    expect(page.get_by_text("No pictures yet")).to_be_visible()
    page.locator("#assets input[type=file]").set_input_files(shoot)
    expect(page.get_by_text("13 stored", exact=True)).to_be_visible(timeout=90_000)
    page.wait_for_function("document.querySelectorAll('.asset-card[data-status=ready]').length == 13",
                           timeout=120_000)

    # The poster keeps its shape: the whole picture on a neutral square tile, not cropped to it.
    poster = page.locator(".asset-card[data-orientation=portrait] img").first
    # Ready cards come before their thumbnails have loaded (lazy images): wait for this one's pixels.
    page.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=poster.element_handle(), timeout=30_000)
    assert poster.evaluate("el => getComputedStyle(el).objectFit") == "contain"
    assert poster.evaluate("el => el.naturalHeight > el.naturalWidth * 1.5")

    page.get_by_role("button", name="Close the upload list").click()

    # Search: the URL follows (a link to share), the grid narrows to the camera's frames.
    page.get_by_label("Search the library").fill("DSC")
    expect(page).to_have_url(re.compile(r"/assets\?.*q=DSC"), timeout=10_000)
    expect(cards(page)).to_have_count(7, timeout=10_000)
    expect(page.get_by_text("7 pictures match")).to_be_visible()
    # A shared link opened cold: the head script (components/library/prefetch.py) fetched the very thumbnails the
    # grid then shows, before the page's live connection was up.
    page.reload()
    expect(cards(page)).to_have_count(7, timeout=15_000)
    page.wait_for_function("(window.__firstThumbnails || []).length === 7", timeout=10_000)
    assert page.evaluate("window.__firstThumbnails.map(i => i.src)") == page.evaluate(
        "Array.from(document.querySelectorAll('#asset-grid img')).map(i => i.src)")
    top_of_library(page)
    shot(page, "library-search")

    # Keyboard: Space selects the focused tile, arrows move; a click toggles; then every match.
    cards(page).first.focus()
    page.keyboard.press("Space")
    expect(cards(page).first).to_have_attribute("aria-checked", "true")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Space")
    expect(page.get_by_text("2 pictures selected")).to_be_visible()
    page.get_by_role("button", name="Select all 7 matching").click()
    expect(page.get_by_text("7 pictures selected")).to_be_visible()
    top_of_library(page)
    shot(page, "library-bulk")

    page.get_by_role("button", name="Add to collection").click()
    page.get_by_label("New collection name").fill("Client shoot")
    page.get_by_role("button", name="Create and add").click()
    expect(page.get_by_text("Added 7 pictures to “Client shoot”.")).to_be_visible(timeout=10_000)
    expect(page.locator(".collection-row", has_text="Client shoot")).to_contain_text("7")

    # A shared link opens the same search.
    url = page.url
    open_page(page, url)
    expect(page.get_by_label("Search the library")).to_have_value("DSC")
    expect(cards(page)).to_have_count(7, timeout=10_000)

    # Send to Rename: the batch starts from the selection.
    cards(page).first.click()
    page.get_by_role("button", name="Select all 7 matching").click()
    page.get_by_role("button", name="Send to Rename").click()
    page.wait_for_url(re.compile(r"/rename"))
    analyze = page.get_by_role("button", name="Analyze 7 images")
    expect(analyze).to_be_enabled(timeout=30_000)
    # The offline analyzer cannot name noise frames by their subject: the client's words lead each name.
    page.fill("#rename-keywords", "Client Shoot")
    analyze.click()
    page.wait_for_function("document.querySelectorAll('.review-row').length == 7", timeout=90_000)
    expect(page.locator(".review-row .rt-Spinner")).to_have_count(0, timeout=90_000)
    page.get_by_role("button", name="Apply to library").click()
    expect(page.get_by_text("7 assets renamed in your library.")).to_be_visible(timeout=15_000)

    # Find one again from its collection; Enter opens the focused tile.
    open_page(page, "/assets")
    page.locator(".collection-row", has_text="Client shoot").get_by_role("button").first.click()
    expect(page).to_have_url(re.compile(r"collection=\d+"), timeout=10_000)
    expect(cards(page)).to_have_count(7, timeout=10_000)
    # The scenes the analyzer could name carry their new names (plain noise frames keep theirs).
    renamed = page.locator("#asset-grid .asset-card[aria-label^=client-shoot]")
    assert renamed.count() >= 1
    renamed.first.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/assets/\d+$"))
    name = page.get_by_label("File name")
    expect(name).to_have_value(re.compile(r"^client-shoot"), timeout=15_000)
    expect(page.get_by_text(re.compile(r"Rename batch #\d+"))).to_be_visible()
    # The rename's keywords became the picture's tags; its collection links back to the grid.
    expect(page.get_by_label("Tags")).to_have_value(re.compile("client shoot"))
    expect(page.get_by_role("link", name="Client shoot", exact=True)).to_be_visible()
    shot(page, "asset-detail")

    # The offline analyzer wrote no alt text for these frames: the designer adds it and a tag, saved
    # through the library service and shown again.
    page.get_by_label("Alt text").fill("Frame from the client shoot, colour test")
    page.get_by_label("Tags").fill("client x, street")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible(timeout=10_000)
    page.reload()
    expect(page.get_by_label("Alt text")).to_have_value("Frame from the client shoot, colour test", timeout=15_000)
    expect(page.get_by_label("Tags")).to_have_value(re.compile("client x"))
    expect(page.get_by_role("link", name="client x", exact=True)).to_be_visible()
