"""Slide decks in Chromium against the real app: topic + source → edit the outline → generate → live preview →
download the .pptx and read it back."""

import io
import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect
from pptx import Presentation
from pptx.enum.chart import XL_CHART_TYPE

from tests import images
from tests.e2e.helpers import new_account, open_page, shot, sign_up, wait_connected

pytestmark = pytest.mark.e2e

SOURCE = """# City cycling

How a city makes room for bikes, and what it gets back.

## Why cycling

Bike lanes move more people per metre of street than car lanes. Trips under five kilometres are faster by bike in
most city centres. Shops on streets with bike lanes report steady or higher sales.

## Network growth

| Year | Lanes (km) |
|------|-----------|
| 2021 | 120 |
| 2022 | 164 |
| 2023 | 198 |
| 2024 | 245 |

## What riders say

> The lane changed my commute: twenty minutes, every day, no surprises.
"""


def test_topic_outline_generate_preview_download(page: Page, tmp_path):
    sign_up(page, new_account("Sasha"))
    # A picture in the library, for a slide to use as it is.
    open_page(page, "/assets")
    (tmp_path / "riverside-lane.jpg").write_bytes(images.jpeg(1600, 1000, seed=77))
    page.locator("#assets input[type=file]").set_input_files(str(tmp_path / "riverside-lane.jpg"))
    page.wait_for_function("document.querySelectorAll('.asset-card[data-status=ready]').length == 1",
                           timeout=60_000)
    open_page(page, "/slides")
    expect(page.get_by_role("heading", name="Slides", exact=True)).to_be_visible()
    page.get_by_label("Topic", exact=True).fill("City cycling")
    page.get_by_label("Source text").fill(SOURCE)
    page.get_by_label("Number of slides").fill("6")
    expect(page.get_by_label("Picture engine")).to_contain_text("Server default")
    page.get_by_label("Theme Editorial").click()
    expect(page.get_by_label("Theme Editorial")).to_have_attribute("aria-checked", "true")
    page.get_by_role("button", name="Create outline").click()

    outline = page.locator("#outline-list .outline-slide")
    expect(outline).to_have_count(4)
    expect(page.locator("#deck-title")).to_have_text("City cycling")
    # Rename the second slide and add one at the end.
    second = page.get_by_label("Title of slide 2", exact=True)
    expect(second).to_have_value("Why cycling")
    second.fill("Why cycling wins")
    second.press("Tab")
    page.get_by_role("button", name="Add slide").click()
    expect(outline).to_have_count(5)
    added = page.get_by_label("Title of slide 5", exact=True)
    added.fill("Shops and lanes")
    added.press("Tab")
    # The new slide becomes picture + text, with the library picture.
    page.get_by_label("Layout of slide 5", exact=True).click()
    page.get_by_role("option", name="Picture + text", exact=True).click()
    page.get_by_role("button", name="Pick a picture from the library").last.click()
    picker = page.locator("#picture-picker")
    expect(picker.locator(".picker-tile")).to_have_count(1)
    picker.get_by_label("Search pictures").fill("no such name")
    expect(picker).to_contain_text("No ready picture matches that search.")
    picker.get_by_label("Search pictures").fill("riverside")
    expect(picker.locator(".picker-tile")).to_have_count(1)
    shot(page, "slides-picture-picker")
    picker.get_by_role("button", name="Use riverside-lane.jpg").click()
    expect(picker).to_have_count(0)
    expect(page.get_by_role("img", name="Picture of slide 5")).to_be_visible()
    expect(page.get_by_role("button", name="Save outline")).to_be_visible()
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "slides-outline")

    # The chart made from the source's table: its data is text to correct, typed or pasted from a sheet.
    data = page.get_by_label(re.compile(r"^Data of slide \d+$"))
    expect(data).to_have_count(1)
    expect(data).to_have_value(re.compile(r"2024,245"))
    number = data.get_attribute("aria-label").rsplit(" ", 1)[-1]
    data.fill("Year,Lanes (km)\n2021,120\n2022,lots")
    page.get_by_role("button", name="Save outline").click()
    refusal = page.get_by_text("line 3 (2022), column “Lanes (km)” has “lots”, which is not a number")
    expect(refusal).to_be_visible()
    expect(refusal).to_be_hidden(timeout=20_000)  # the toast goes by itself (and stays out of the screenshots)
    data.fill("Year\tLanes (km)\n2021\t120\n2022\t164\n2023\t198\n2024\t245\n2025\t1,301")
    page.get_by_label(f"Chart type of slide {number}").click()
    page.get_by_role("option", name="Line", exact=True).click()
    data.scroll_into_view_if_needed()
    shot(page, "slides-chart-data")

    page.get_by_role("button", name="Generate", exact=True).click()
    # The page switches to the live preview and follows the job: every slide ends "ready".
    grid = page.locator("#preview-grid .preview-slide")
    expect(grid).to_have_count(5)
    expect(page.locator("#preview-grid .preview-slide[data-stage=ready]")).to_have_count(5, timeout=90_000)
    expect(page.locator("#deck-workspace")).to_have_attribute("data-status", "ready")
    expect(grid.nth(1)).to_contain_text("Why cycling wins")
    page.wait_for_function("[...document.querySelectorAll('#preview-grid img')].length === 5 && "
                           "[...document.querySelectorAll('#preview-grid img')].every(i => i.complete && "
                           "i.naturalWidth > 0)")
    shot(page, "slides-preview")

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download .pptx").click()
    assert download_info.value.suggested_filename == "city-cycling.pptx"
    prs = Presentation(io.BytesIO(Path(download_info.value.path()).read_bytes()))
    assert len(prs.slides) == 5
    titles = [s.shapes.title.text_frame.text for s in prs.slides if s.shapes.title is not None]
    assert "Why cycling wins" in titles and "Shops and lanes" in titles
    (chart,) = [shape.chart for slide in prs.slides for shape in slide.shapes if shape.has_chart]
    assert chart.chart_type == XL_CHART_TYPE.LINE_MARKERS
    assert list(chart.plots[0].categories) == ["2021", "2022", "2023", "2024", "2025"]
    assert list(chart.plots[0].series[0].values) == [120, 164, 198, 245, 1301]
    # The library picture is on its slide, whole (cropped by the frame's crop properties, not in its pixels).
    shops = next(s for s in prs.slides if s.shapes.title is not None and s.shapes.title.text_frame.text ==
                 "Shops and lanes")
    (picture,) = [shape for shape in shops.shapes if hasattr(shape, "image")]
    width, height = Image.open(io.BytesIO(picture.image.blob)).size
    assert abs(width / height - 1600 / 1000) < 0.01, (width, height)
    # The new slide had only a title: the engine took its bullets from the source.
    assert "Shops on streets with bike lanes" in " ".join(sh.text_frame.text for sh in shops.shapes
                                                           if sh.has_text_frame)


def test_own_words_are_never_replaced_without_asking_and_a_deleted_slide_comes_back(page: Page):
    sign_up(page, new_account("Wren"))
    open_page(page, "/slides")
    page.get_by_label("Topic", exact=True).fill("City cycling")
    page.get_by_label("Source text").fill(SOURCE)
    page.get_by_label("Number of slides").fill("5")
    page.get_by_role("button", name="Create outline").click()
    outline = page.locator("#outline-list .outline-slide")
    expect(outline).to_have_count(4)
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(page.locator("#preview-grid .preview-slide[data-stage=ready]")).to_have_count(4, timeout=90_000)

    # Delete a slide by mistake, then undo: it is back where it was.
    page.get_by_role("tab", name=re.compile("Outline")).click()
    third = page.get_by_label("Title of slide 3", exact=True).input_value()
    page.get_by_role("button", name="Delete slide").nth(2).click()
    expect(outline).to_have_count(3)
    expect(page.locator("#undo-delete")).to_contain_text(f"Deleted slide “{third}”")
    page.locator("#undo-delete").get_by_role("button", name="Undo").click()
    expect(outline).to_have_count(4)
    expect(page.get_by_label("Title of slide 3", exact=True)).to_have_value(third)
    expect(page.locator("#undo-delete")).to_have_count(0)

    # Write our own bullets on slide 2, save, and ask to regenerate it: the page asks first.
    bullets = page.get_by_label("Bullets of slide 2", exact=True)
    bullets.fill("Our own first point\nOur own second point")
    bullets.press("Tab")
    page.get_by_role("button", name="Save outline").click()
    expect(page.get_by_role("button", name="Save outline")).to_have_count(0)
    page.get_by_role("tab", name=re.compile("Preview")).click()
    page.get_by_role("button", name="Regenerate slide 2").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("Replace your edits?")
    shot(page, "slides-regenerate-asks")
    dialog.get_by_role("button", name="Keep my text").click()
    page.get_by_role("tab", name=re.compile("Outline")).click()
    expect(page.get_by_label("Bullets of slide 2", exact=True)).to_have_value(
        "Our own first point\nOur own second point")

    # Agreeing regenerates it, and the words are one "restore" away in the versions.
    page.get_by_role("tab", name=re.compile("Preview")).click()
    page.get_by_role("button", name="Regenerate slide 2").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Regenerate anyway").click()
    expect(page.locator("#deck-workspace")).to_have_attribute("data-status", "ready", timeout=90_000)
    page.get_by_role("tab", name=re.compile("Versions")).click()
    expect(page.get_by_text(re.compile("Before regenerating"))).to_be_visible()


def _drag(page: Page, handle, onto) -> None:
    """Drag by the grip with real pointer moves until the dragged card's centre sits on `onto`'s centre."""
    grip, target = handle.bounding_box(), onto.bounding_box()
    card = handle.locator("xpath=..").bounding_box()
    x, y = grip["x"] + grip["width"] / 2, grip["y"] + 24  # near the grip's top: tall cards end off-screen
    dy = (target["y"] + target["height"] / 2) - (card["y"] + card["height"] / 2)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x, y - 10, steps=4)  # past the 4 px activation distance
    page.mouse.move(x, y + dy, steps=20)
    expect(handle.locator("xpath=..")).to_have_attribute("data-dragging", "yes")
    page.mouse.up()


def test_drag_a_slide_above_the_first_and_the_order_survives_a_reload(page: Page):
    page.set_viewport_size({"width": 1280, "height": 1400})  # slides 1 to 3 on screen at once
    sign_up(page, new_account("Ines"))
    open_page(page, "/slides")
    page.get_by_label("Topic", exact=True).fill("City cycling")
    page.get_by_label("Source text").fill(SOURCE)
    page.get_by_label("Number of slides").fill("5")
    page.get_by_role("button", name="Create outline").click()
    cards = page.locator("#outline-list > [data-dragging]")
    expect(cards).to_have_count(4)
    titles = [page.get_by_label(f"Title of slide {n}", exact=True).input_value() for n in (1, 2, 3, 4)]
    # An unsaved edit on slide 2 travels with the drop (it is never lost).
    page.get_by_label("Title of slide 2", exact=True).fill("Our own title")
    page.get_by_label("Title of slide 2", exact=True).press("Tab")

    page.evaluate("window.scrollTo(0, 0)")
    _drag(page, page.get_by_role("button", name="Drag slide 3"), cards.nth(0))
    expect(page.get_by_label("Title of slide 1", exact=True)).to_have_value(titles[2])
    shot(page, "slides-drag-reorder")
    expect(page.get_by_role("button", name="Save outline")).to_have_count(0)  # stored at once

    page.reload()
    wait_connected(page)
    page.get_by_role("button", name=re.compile("^Open ")).first.click()
    expect(page.get_by_label("Title of slide 1", exact=True)).to_have_value(titles[2])
    expect(page.get_by_label("Title of slide 2", exact=True)).to_have_value(titles[0])
    expect(page.get_by_label("Title of slide 3", exact=True)).to_have_value("Our own title")
    expect(page.get_by_label("Title of slide 4", exact=True)).to_have_value(titles[3])
    # The order before the drag is one restore away.
    page.get_by_role("tab", name=re.compile("Versions")).click()
    expect(page.get_by_text(re.compile("Before reordering slides"))).to_be_visible()
    # The Move buttons still reorder without a mouse drag.
    page.get_by_role("tab", name=re.compile("Outline")).click()
    page.get_by_role("button", name="Move down").first.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Title of slide 1", exact=True)).to_have_value(titles[0])
