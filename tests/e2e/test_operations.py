"""Operations against the real app (`make run`: two web workers, a worker, embedded Redis): one scrape counts
every web worker, and a click's request id follows its job into the worker's JSON log lines."""

import json

import httpx
import pytest
from playwright.sync_api import Page, expect
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import E2E_METRICS_TOKEN
from tests.e2e.helpers import new_account, open_page, sign_up

pytestmark = pytest.mark.e2e


def scrape(base_url: str) -> dict:
    answer = httpx.get(f"{base_url}/metrics", headers={"Authorization": f"Bearer {E2E_METRICS_TOKEN}"}, timeout=10)
    assert answer.status_code == 200, answer.text
    found: dict = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def health_count(samples: dict) -> float:
    return sum(v for (name, labels), v in samples.items()
               if name == "atelier_http_requests_total" and ("route", "/health") in labels)


def test_one_scrape_counts_every_web_worker(base_url: str):
    assert httpx.get(f"{base_url}/metrics", timeout=10).status_code == 401
    before = health_count(scrape(base_url))
    for _ in range(40):  # a new connection each: the two web workers share them
        answer = httpx.get(f"{base_url}/health", headers={"X-Request-ID": "e2e-health"}, timeout=10)
        assert answer.headers["x-request-id"] == "e2e-health"
    samples = scrape(base_url)
    assert health_count(samples) - before == 40
    assert samples[("atelier_workers_live", ())] >= 1
    assert ("atelier_queue_depth", (("queue", "default"),)) in samples


def test_a_clicks_request_id_reaches_the_worker_log(page: Page, server_data_dir):
    sign_up(page, new_account("Opal"))
    open_page(page, "/generate")
    page.get_by_label("Prompt", exact=True).fill("a lighthouse on a quiet bay at dawn")
    page.get_by_role("button", name="Generate").click()
    status = page.locator("#generation-status")
    expect(status).to_have_attribute("data-status", "succeeded", timeout=90_000)
    lines = []
    for raw in (server_data_dir / "server.log").read_text(errors="replace").splitlines():
        if raw.startswith("{"):
            try:
                lines.append(json.loads(raw))
            except ValueError:
                continue
    started = [line for line in lines if line.get("logger") == "jobs.runner" and "generate.images" in line["message"]
               and "started" in line["message"]]
    assert started, "no JSON line for the generation job in server.log"
    line = started[-1]
    # The click ran as a page event over the websocket: its id was made per event and carried into the job.
    assert len(line["request_id"]) == 32 and line["user_id"] and line["workspace_id"] and line["job_id"]
