"""Journeys through the asset library and the bulk renamer, in Chromium against the real app."""

import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests import images
from tests.e2e.helpers import new_account, open_page, shot, sign_up

pytestmark = pytest.mark.e2e
# Radix puts a class on the text field's wrapper or on the input itself, depending on version.
NAME_INPUT = "input.final-name, .final-name input"


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    paths = []
    for i in range(30):
        path = folder / f"IMG_{2000 + i}.jpg"
        path.write_bytes(images.jpeg(1600, 1067, seed=100 + i))
        paths.append(str(path))
    return paths


def drop(page: Page, paths: list[str]) -> None:
    page.locator("#assets input[type=file]").set_input_files(paths)


def ready_cards(page: Page) -> int:
    return page.locator(".asset-card[data-status=ready]").count()


def test_upload_thirty_watch_thumbnails_open_and_delete(page: Page, photos):
    sign_up(page, new_account("Dora"))
    open_page(page, "/assets")
    drop(page, photos)
    expect(page.get_by_text("Upload finished")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("30 stored", exact=True)).to_be_visible()
    # Thumbnails arrive from the workers while the page stays open: no reload.
    page.wait_for_function("document.querySelectorAll('.asset-card[data-status=ready]').length == 30",
                           timeout=120_000)
    assert page.locator("#asset-grid img").count() == 30
    shot(page, "assets")
    # A click selects (the library's bulk bar); a double click opens the picture's own page.
    page.locator(".asset-card").first.dblclick()
    page.wait_for_url(re.compile(r"/assets/\d+$"))
    expect(page.get_by_text("1600 × 1067")).to_be_visible(timeout=15_000)
    page.get_by_role("button", name="Delete").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    expect(page.get_by_text("Picture deleted.")).to_be_visible()
    expect(page.get_by_text("29 pictures").first).to_be_visible()
    page.wait_for_function("document.querySelectorAll('.asset-card[data-status=ready]').length == 29",
                           timeout=15_000)
    # The same files again are recognised by their bytes.
    drop(page, photos[:3])
    expect(page.get_by_text("3 duplicates", exact=True)).to_be_visible(timeout=60_000)


def test_a_refused_file_is_explained_and_the_rest_stored(page: Page, photos, tmp_path):
    sign_up(page, new_account("Emil"))
    open_page(page, "/assets")
    fake = tmp_path / "holiday.jpg"
    fake.write_bytes(b"<html><script>alert(1)</script></html>")
    drop(page, [*photos[:2], str(fake)])
    expect(page.get_by_text("1 refused", exact=True)).to_be_visible(timeout=60_000)
    expect(page.get_by_text("This is not an image type Atelier accepts").first).to_be_visible()
    expect(page.get_by_text("2 stored", exact=True)).to_be_visible()


def test_five_photos_all_named_image_jpg_are_five_assets(page: Page, tmp_path):
    """The drop zone once joined same-named files into one asset (issue 15)."""
    paths = []
    for i in range(5):
        folder = tmp_path / f"camera{i}"
        folder.mkdir()
        (folder / "image.jpg").write_bytes(images.jpeg(400, 300, seed=500 + i))
        paths.append(str(folder / "image.jpg"))
    sign_up(page, new_account("Gita"))
    open_page(page, "/assets")
    drop(page, paths)
    expect(page.get_by_text("5 stored", exact=True)).to_be_visible(timeout=60_000)
    expect(page.get_by_text("5 pictures", exact=True).first).to_be_visible()


def test_rename_twenty_edit_one_download_the_zip(page: Page, photos):
    sign_up(page, new_account("Fritz"))
    open_page(page, "/rename")
    expect(page.get_by_text("Your library is empty")).to_be_visible()
    # Dropped on the Rename page itself: the images are stored and chosen for the batch.
    drop(page, photos[:20])
    expect(page.get_by_role("button", name="Analyze 20 images")).to_be_enabled(timeout=60_000)
    page.wait_for_function("document.querySelectorAll('.library-tile img').length == 20", timeout=120_000)
    page.fill("#rename-keywords", "Atelier, Summer Sale")
    # The options flip from their words too, and carry them as their names (a click on the words did nothing).
    xmp = page.get_by_role("switch", name="Write title, alt text and keywords into the files (XMP/IPTC)")
    before = xmp.get_attribute("aria-checked")
    page.get_by_text("Write title, alt text and keywords into the files (XMP/IPTC)").click()
    expect(xmp).not_to_have_attribute("aria-checked", before)
    page.get_by_text("Write title, alt text and keywords into the files (XMP/IPTC)").click()
    expect(xmp).to_have_attribute("aria-checked", before)
    shot(page, "rename-setup")
    page.get_by_role("button", name="Analyze 20 images").click()
    page.wait_for_url("**/rename**batch=**")
    page.wait_for_function("document.querySelectorAll('.review-row').length == 20", timeout=30_000)
    # Live progress: every row ends up analysed without a reload.
    page.wait_for_function(f"[...document.querySelectorAll(\"{NAME_INPUT}\")].every(i => i.value.startsWith("
                           "'atelier-summer-sale'))", timeout=120_000)
    first = page.locator(NAME_INPUT).first
    first.fill("Été à Paris")
    first.press("Tab")
    # A typed name is kept as typed (letters, case, spaces), with the file's own extension.
    expect(page.locator(NAME_INPUT).first).to_have_value("Été à Paris.jpg", timeout=15_000)
    shot(page, "rename-review")
    # Noise pictures with camera names: the analyzer found no subject, so those rows say so.
    expect(page.locator(".needs-subject")).to_have_count(19)
    # "Every name" means every name, the one just edited included, and the toast says so.
    page.fill("#keyword", "acme")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_text("Added “acme” to 20 names, 1 of them names you edited.")).to_be_visible(timeout=15_000)
    expect(page.locator(NAME_INPUT).first).to_have_value("acme-Été à Paris.jpg", timeout=15_000)
    page.get_by_role("combobox").filter(has_text=re.compile(r"^all$")).click()
    page.get_by_role("option", name="needs a subject").click()
    expect(page.locator(".review-row")).to_have_count(19)
    page.get_by_role("combobox").filter(has_text="needs a subject").click()
    page.get_by_role("option", name="all", exact=True).click()
    expect(page.locator(".review-row")).to_have_count(20)
    # Regenerate one row: the grid follows it back to a named row without a reload.
    second = page.locator(".review-row").nth(1)
    second.get_by_role("button", name="Regenerate").click()
    expect(second.locator(".rt-Spinner")).to_be_visible(timeout=10_000)
    expect(second.get_by_text("10%")).to_be_visible(timeout=60_000)
    expect(page.locator(".review-row .rt-Spinner")).to_have_count(0)
    grid = [page.locator(NAME_INPUT).nth(i).input_value() for i in range(20)]
    assert len(set(grid)) == 20
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download ZIP").click()
    archive = zipfile.ZipFile(io.BytesIO(Path(download_info.value.path()).read_bytes()))
    names = archive.namelist()
    assert names[-2:] == ["manifest.csv", "manifest.json"]
    assert sorted(names[:-2]) == sorted(grid)
    manifest = json.loads(archive.read("manifest.json"))["files"]
    assert {row["new_name"] for row in manifest} == set(grid)
    assert all(row["original_name"].startswith("IMG_2") for row in manifest)
