"""An admin connects an Ollama server on the AI connections page, sees it tested, and makes its vision
model the default; the dashboard's setup checklist ticks it off. (The fake Ollama runs in this process on
127.0.0.1; the app server, started once for the session, reaches it there.)"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import Account, open_page, shot, sign_in
from tests.fake_ollama import FakeOllama

pytestmark = pytest.mark.e2e

LONG_MODEL = "hf.co/bartowski/Llama-3.2-11B-Vision-Instruct-GGUF:Q4_K_M"
VISION = "Vision (renamer: names and alt text)"


def test_an_admin_connects_ollama_and_makes_its_vision_model_the_default(page: Page, admin: Account, tmp_path):
    sign_in(page, admin)
    checklist = page.locator("#ai-setup")
    expect(checklist.get_by_text("Connect a vision model to name what is in photos")).to_be_visible()

    open_page(page, "/admin/ai")
    expect(page.get_by_role("heading", name="AI connections")).to_be_visible()
    expect(page.get_by_text("No AI connections yet")).to_be_visible()
    expect(page.get_by_text("Offline analyzer — reads text, dates, places and colors")).to_be_visible()
    shot(page, "admin-ai-empty")

    with FakeOllama() as ollama:
        ollama.models[LONG_MODEL] = ["completion", "vision"]
        page.get_by_role("button", name="Add connection").first.click()
        dialog = page.get_by_role("dialog")
        expect(dialog.get_by_role("button", name="AWS Bedrock")).to_be_visible()
        shot(page, "admin-ai-presets")
        dialog.get_by_role("button", name="Ollama", exact=True).click()
        expect(dialog.get_by_label("Address")).to_have_value("http://127.0.0.1:11434")
        expect(dialog.get_by_label("API key")).to_have_count(0)  # Ollama takes no key: no field
        dialog.get_by_label("Name").fill("Studio Ollama")
        dialog.get_by_label("Address").fill(ollama.base_url)
        shot(page, "admin-ai-add-form")
        dialog.get_by_role("button", name="Add and test").click()
        expect(page.locator("#ai-test-result")).to_contain_text(
            re.compile(r"Studio Ollama: connected in \d+ ms; 3 models found"))

        # A second server that is not there: its card says why, in red.
        page.get_by_role("button", name="Add connection").first.click()
        dialog.get_by_role("button", name="Ollama", exact=True).click()
        dialog.get_by_label("Name").fill("Old workstation")
        dialog.get_by_label("Address").fill("http://127.0.0.1:9")
        dialog.get_by_role("button", name="Add and test").click()
        expect(page.get_by_text(re.compile("Test failed"))).to_be_visible(timeout=20_000)
        expect(page.get_by_text(re.compile(r"^llava:7b · .*vision"))).to_be_visible()
        shot(page, "admin-ai-tested")

        row = page.locator("form").filter(has=page.get_by_label(f"{VISION} default"))
        row.get_by_label(f"{VISION} default").click()
        page.get_by_role("option", name="Studio Ollama — llava:7b").click()
        row.get_by_label(f"{VISION} price").fill("2")
        row.get_by_role("button", name="Save").click()
        expect(page.get_by_text("Default for vision saved.")).to_be_visible()
        designer_renames_through_ollama_then_it_stops(page, admin, ollama, tmp_path)

    open_page(page, "/admin/ai")
    expect(page.get_by_label(f"{VISION} default")).to_contain_text("Studio Ollama — llava:7b")
    open_page(page, "/dashboard")
    done = checklist.get_by_text("Connect a vision model to name what is in photos")
    expect(done).to_have_css("text-decoration-line", "line-through")
    expect(checklist.get_by_text("Connect an image model for photographs and realistic renders")).to_be_visible()
    shot(page, "dashboard-ai-checklist")

    # No connection offers images: the Generate page says what the offline engine cannot do, and the
    # admin gets a link to connect one.
    open_page(page, "/generate")
    expect(page.get_by_text("Offline design engine — draws designs, icons and type; no photographs.")).to_be_visible()
    expect(page.get_by_role("link", name="Connect one")).to_have_attribute("href", "/admin/ai")
    shot(page, "generate-ai-hint")

    # The server is gone: back to the offline analyzer, so the journeys after this one (same app server)
    # do not rename through a dead default.
    open_page(page, "/admin/ai")
    row = page.locator("form").filter(has=page.get_by_label(f"{VISION} default"))
    row.get_by_label(f"{VISION} default").click()
    page.get_by_role("option", name="Offline engine (no connection)").click()
    row.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Default for vision saved.")).to_be_visible()


def designer_renames_through_ollama_then_it_stops(page: Page, admin: Account, ollama: FakeOllama, tmp_path) -> None:
    """A designer's camera-named photos get the model's subject; then the server stops: health says so, the
    next batch fails image by image with the reason, and the offline analyzer describes them instead."""
    from tests import images
    from tests.e2e.helpers import new_account, sign_out, sign_up
    from tests.e2e.test_assets_rename import NAME_INPUT, drop

    def camera_files(first: int, count: int) -> list[str]:
        paths = []
        for number in range(first, first + count):
            path = tmp_path / f"DSC_{number}.jpg"
            path.write_bytes(images.jpeg(1200, 800, seed=number))
            paths.append(str(path))
        return paths

    sign_out(page)
    sign_up(page, new_account("Dora"))
    open_page(page, "/rename")
    drop(page, camera_files(4100, 3))
    expect(page.get_by_role("button", name="Analyze 3 images")).to_be_enabled(timeout=60_000)
    page.get_by_role("button", name="Analyze 3 images").click()
    page.wait_for_url("**/rename**batch=**")
    page.wait_for_function(f"[...document.querySelectorAll(\"{NAME_INPUT}\")].length == 3 && "
                           f"[...document.querySelectorAll(\"{NAME_INPUT}\")].every(i => i.value.startsWith("
                           "'tabby-cat'))", timeout=60_000)
    expect(page.get_by_text(re.compile("tabby cat", re.IGNORECASE)).first).to_be_visible()
    shot(page, "rename-through-ollama")

    ollama.stop()
    open_page(page, "/rename")
    drop(page, camera_files(4200, 2))
    expect(page.get_by_role("button", name="Analyze 2 images")).to_be_enabled(timeout=60_000)
    page.get_by_role("button", name="Analyze 2 images").click()
    page.wait_for_url("**/rename**batch=**")
    expect(page.get_by_text("2 of 2 images could not be described.")).to_be_visible(timeout=60_000)
    expect(page.get_by_text(re.compile("Studio Ollama.*connection refused")).first).to_be_visible()
    shot(page, "rename-ollama-down")
    page.get_by_role("button", name="Describe them with the offline analyzer").click()
    expect(page.get_by_text("images could not be described")).to_have_count(0, timeout=60_000)
    expect(page.locator(NAME_INPUT)).to_have_count(2)

    sign_out(page)
    sign_in(page, admin)
    open_page(page, "/admin/health")
    row = page.get_by_role("row").filter(has_text="Studio Ollama")
    expect(row.get_by_text("down", exact=True)).to_be_visible(timeout=20_000)
    expect(row).to_contain_text("refused")
    shot(page, "admin-health-ai")
