"""Multi-process metrics and request ids across processes: real processes writing to one
PROMETHEUS_MULTIPROC_DIR, a real RQ worker running jobs, a provider on loopback seeing our X-Request-ID."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from rq import Worker

from app.observability import metrics, multiproc
from app.redis_client import get_redis
from tests.fake_image_providers import configured_openai_images
from tests.integration.test_api_auth import ORIGIN, login, register
from tests.waiting import job_row, stop_worker_group, wait_for

ROOT = Path(__file__).resolve().parents[2]

# One app process: its own API, three requests to a route template, and (when asked) an open breaker.
APP_PROCESS = """
import os, sys
from starlette.testclient import TestClient
from app.api import build_api
from app.observability import metrics
with TestClient(build_api()) as client:
    for _ in range(3):
        client.get("/health")
if len(sys.argv) > 1:
    metrics.provider_breaker.labels("openai").set(1)
print(os.getpid())
"""


HEALTH_OK = (("method", "GET"), ("route", "/health"), ("status", "2xx"))


def values(text: str, name: str) -> dict[tuple, float]:
    return {tuple(sorted(s.labels.items())): s.value for family in text_string_to_metric_families(text)
            for s in family.samples if s.name == name}


@pytest.fixture
def metrics_dir(env, monkeypatch) -> Path:
    folder = env / "metrics" / "host-a"
    multiproc.prepare_multiproc_dir(str(folder))
    # Only processes started from here write there (this one imported the client long ago, in-process mode);
    # render() reads the folder named by the variable.
    monkeypatch.setenv(multiproc.MULTIPROC_ENV, str(folder))
    return folder


def run_app_process(*args: str, folder: Path | None = None) -> int:
    env = dict(os.environ)
    if folder is not None:
        env[multiproc.MULTIPROC_ENV] = str(folder)
    done = subprocess.run([sys.executable, "-c", APP_PROCESS, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return int(done.stdout.strip().splitlines()[-1])


def test_two_processes_one_scrape(metrics_dir):
    first = run_app_process()
    second = run_app_process("breaker")
    assert first != second
    text = metrics.render().decode()
    assert values(text, "atelier_http_requests_total")[HEALTH_OK] == 6  # three from each process
    assert values(text, "atelier_provider_breaker_open")[(("provider", "openai"),)] == 1
    # The process is gone: its live gauge goes with it, its counters stay (they are history).
    multiproc.process_exited(second)
    text = metrics.render().decode()
    assert values(text, "atelier_provider_breaker_open") == {}
    assert values(text, "atelier_http_requests_total")[HEALTH_OK] == 6


def test_hosts_sharing_data_dir_are_added_up(metrics_dir):
    """Compose: the app and worker containers share DATA_DIR, each with its folder (their pids overlap)."""
    other = metrics_dir.parent / "host-b"
    multiproc.prepare_multiproc_dir(str(other))
    run_app_process()
    run_app_process(folder=other)
    (other / "notes.db").write_bytes(b"not ours")  # only prometheus-client's files are read
    assert values(metrics.render().decode(), "atelier_http_requests_total")[HEALTH_OK] == 6


def test_preparing_the_folder_forgets_an_earlier_run(metrics_dir):
    run_app_process()
    assert list(metrics_dir.glob("*.db"))
    multiproc.prepare_multiproc_dir(str(metrics_dir))
    assert not list(metrics_dir.glob("*.db"))
    assert values(metrics.render().decode(), "atelier_http_requests_total") == {}


@pytest.fixture
def openai_fake(env, monkeypatch):
    yield from configured_openai_images(monkeypatch)


def test_a_real_worker_counts_its_jobs_and_carries_the_request_id(api, metrics_dir, openai_fake, monkeypatch):
    monkeypatch.setenv("LOG_FORMAT", "json")
    log_file = metrics_dir.parent / "worker.log"
    with open(log_file, "wb") as out:
        worker = subprocess.Popen([sys.executable, "-m", "jobs.worker"], cwd=ROOT, env=dict(os.environ),
                                  stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(lambda: Worker.all(connection=get_redis()), 60, "the worker")
        register(api)
        assert login(api).status_code == 200
        made = api.post("/api/v1/images/generations", headers={**ORIGIN, "X-Request-ID": "trace-gen-42"},
                        json={"prompt": "a lighthouse at dusk", "size": "1024x1024", "provider": "openai"})
        assert made.status_code == 202, made.text
        assert made.headers["x-request-id"] == "trace-gen-42"
        job_id = made.json()["job_id"]
        wait_for(lambda: job_row(job_id).status in ("succeeded", "failed"), 90, "the generation job")
        assert job_row(job_id).status == "succeeded", job_row(job_id).error
        # The provider saw the request id of the HTTP request that started the job.
        calls = [r for r in openai_fake.requests if r.method == "POST"]
        assert calls and all(r.headers.get("x-request-id") == "trace-gen-42" for r in calls)
        text = metrics.render().decode()
        jobs = values(text, "atelier_jobs_total")
        assert jobs[(("kind", "generate.images"), ("outcome", "succeeded"))] == 1
        assert values(text, "atelier_job_duration_seconds_count")[(("kind", "generate.images"),)] == 1
        provider = {k: v for k, v in values(text, "atelier_provider_calls_total").items() if ("outcome", "ok") in k}
        assert sum(provider.values()) >= 1
        assert values(text, "atelier_workers_live")[()] == 1
    finally:
        stop_worker_group(worker)
    # The worker wrote one JSON object per line; the job's lines carry the request and job ids.
    lines = [json.loads(line) for line in log_file.read_text().splitlines() if line.startswith("{")]
    assert lines, log_file.read_text()[-2000:]
    mine = [line for line in lines if line.get("job_id") == job_id]
    assert any("started" in line["message"] for line in mine)
    assert all(line["request_id"] == "trace-gen-42" and line["workspace_id"] for line in mine)
    assert {"time", "level", "logger", "message"} <= set(mine[0])
    assert openai_fake.api_key not in log_file.read_text()


def test_make_run_gives_every_process_one_folder_and_empties_it_at_start(tmp_path):
    from tests.integration.test_run_supervisor import Supervisor

    folder = multiproc.folder_for(tmp_path)
    folder.mkdir(parents=True)
    (folder / "counter_999999.db").write_bytes(b"\0" * 16)  # left by an earlier run
    supervisor = Supervisor(tmp_path)
    try:
        worker = wait_for(supervisor.workers, 60, "the worker to register")[0]
        assert not (folder / "counter_999999.db").exists()
        # The worker defined its metrics in the folder scripts/run.py gave it.
        wait_for(lambda: list(folder.glob(f"*_{worker.pid}.db")), 30, "the worker's metric files")
    finally:
        supervisor.kill()
