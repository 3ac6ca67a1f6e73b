"""Image workflows in Chromium against the real app: Instagram story for 5 images → live progress → ZIP."""

import io
import zipfile

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests import images
from tests.e2e.helpers import new_account, open_page, shot, sign_up

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("workflow-photos")
    paths = []
    for i in range(5):
        path = folder / f"beach-{i}.jpg"
        path.write_bytes(images.jpeg(1800, 1200, seed=300 + i))
        paths.append(str(path))
    return paths


def test_instagram_story_for_five_images(page: Page, photos):
    sign_up(page, new_account("Wally"))
    open_page(page, "/assets")
    page.locator("#assets input[type=file]").set_input_files(photos)
    page.wait_for_function("document.querySelectorAll('.asset-card[data-status=ready]').length == 5",
                           timeout=120_000)

    open_page(page, "/workflows")
    page.locator(".operation[data-op=social_preset]").click()
    form = page.locator("#operation-form")
    expect(form.get_by_role("heading", name="Social media size")).to_be_visible()
    form.get_by_role("combobox", name="Preset").click()
    page.get_by_role("option", name="Instagram story").click()
    expect(page.locator(".pick-tile")).to_have_count(5)
    page.get_by_role("button", name="All", exact=True).click()
    shot(page, "workflows")
    page.get_by_role("button", name="Run on 5 images").click()

    run = page.locator("#workflow-run")
    expect(run).to_be_visible()
    # Items turn done one by one while the page stays open.
    expect(run).to_have_attribute("data-status", "succeeded", timeout=120_000)
    expect(page.locator(".run-item[data-status=done]")).to_have_count(5)
    # 1800×1200 photos give a 675×1200 window for 1080×1920: enlarged 1.6×, which each item says.
    expect(page.locator(".run-item .item-warning")).to_have_count(5)
    page.locator(".run-item .item-warning").first.hover()
    expect(page.get_by_role("tooltip")).to_contain_text("Enlarged 1.6×")
    page.wait_for_function("[...document.querySelectorAll('.run-item img[alt=result]')].every(i => i.complete && "
                           "i.naturalWidth > 0)", timeout=60_000)
    shot(page, "workflows-run")
    with page.expect_download() as download_info:
        run.get_by_role("button", name="Download ZIP").click()
    with zipfile.ZipFile(download_info.value.path()) as archive:
        names = archive.namelist()
        assert len(names) == 5
        for name in names:
            assert Image.open(io.BytesIO(archive.read(name))).size == (1080, 1920)


def test_bad_setting_is_named(page: Page, photos):
    sign_up(page, new_account("Rex"))
    open_page(page, "/workflows")
    page.locator(".operation[data-op=resize]").click()
    page.get_by_role("spinbutton", name="Width").fill("0")
    page.get_by_role("spinbutton", name="Height").fill("100")
    page.get_by_role("button", name="Add as recipe step").click()
    expect(page.locator("#workflow-error")).to_contain_text("Width must be a whole number from 1 to 16384 px.")
