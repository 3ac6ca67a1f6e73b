"""A worker killed with SIGKILL mid-job: the job is retried by a live worker, nothing is done twice."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from rq import Worker
from sqlmodel import select

from app.db import session_scope
from app.models import Asset
from app.redis_client import get_redis
from app.services.assets import service as assets
from app.services.assets.ingest import ingest
from tests import images
from tests.integration.test_accounts import register
from tests.waiting import job_row, stop_worker_group, wait_for

ROOT = Path(__file__).resolve().parents[2]


def start_worker() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "jobs.worker"], cwd=ROOT, env=dict(os.environ),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)






@pytest.fixture
def crash_env(env, monkeypatch):
    from tests.conftest import clear_caches

    # Short settings so the test sees the whole recovery quickly (the defaults are 6 s / 2 s).
    monkeypatch.setenv("WORKER_TTL_SECONDS", "6")
    monkeypatch.setenv("REAPER_INTERVAL_SECONDS", "2")
    monkeypatch.setenv("INGEST_BATCH_SIZE", "500")
    clear_caches()
    procs = []
    yield procs
    for proc in procs:
        stop_worker_group(proc)


def test_sigkill_mid_job_is_recovered_and_not_applied_twice(crash_env):
    user = register("ada@example.com")
    # Enough pictures that the kill lands mid-job (after the first few), small enough to keep the test short.
    files = [(f"photo-{i}.jpg", images.jpeg(1600, 1067, seed=i)) for i in range(24)]
    first = start_worker()
    crash_env.append(first)
    wait_for(lambda: Worker.all(connection=get_redis()), 30, "the first worker")
    result = ingest(workspace_id=user.workspace_id, files=files)
    (job_id,) = result.job_ids
    # The first picture's progress is written at once, later ones at most every 0.5 s (jobs.runner.PROGRESS_EVERY):
    # on a fast machine the 24 take about that long, and "5 %" was first seen with the job already over.
    wait_for(lambda: job_row(job_id).progress > 0, 60, "the job to make progress")
    doomed = job_row(job_id).worker_name
    # The worker and its work horse (RQ gives the horse its own session), as in a machine crash.
    family = [first, *psutil.Process(first.pid).children(recursive=True)]
    for proc in family:
        os.kill(proc.pid, signal.SIGKILL)
    first.wait(timeout=10)
    killed_at = time.time()
    assert job_row(job_id).status == "running"

    second = start_worker()
    crash_env.append(second)
    done = wait_for(lambda: (j := job_row(job_id)).status in ("succeeded", "failed") and j, 180,
                    "recovery after the crash")
    assert time.time() - killed_at < 180
    assert done.status == "succeeded", done.error
    assert done.attempts == 2 and done.worker_name != doomed
    with session_scope() as session:
        statuses = session.exec(select(Asset.status)).all()
    assert statuses == ["ready"] * 24
    # Assets finished before the crash were skipped, not processed again.
    assert "skipped=" in done.result_ref and "ready=" in done.result_ref


def _outputs_of(run_id: int) -> list[Asset]:

    from app.models import WorkflowItem

    with session_scope() as session:
        items = session.exec(select(WorkflowItem).where(WorkflowItem.run_id == run_id)).all()
        ids = [a for item in items for a in item.outputs]
        return list(session.exec(select(Asset).where(Asset.id.in_(ids))).all())


def test_sigkill_mid_workflow_run_leaves_no_output_without_a_thumbnail(crash_env, monkeypatch):
    from app.models import WorkflowRun
    from app.services.workflows import runs as workflow_runs
    from tests.conftest import clear_caches

    monkeypatch.setenv("WORKFLOW_THREADS", "1")
    clear_caches()
    user = register("ada@example.com")
    sources = [assets.store_made(workspace_id=user.workspace_id, filename=f"photo-{i}.jpg",
                                 data=images.jpeg(1000, 750, seed=i), meta={}).id for i in range(12)]
    first = start_worker()
    crash_env.append(first)
    wait_for(lambda: Worker.all(connection=get_redis()), 30, "the first worker")
    run = workflow_runs.start_run(workspace_id=user.workspace_id, asset_ids=sources, operation="upscale",
                                  definition=workflow_runs.operation_recipe("upscale", {"factor": 2}))
    wait_for(lambda: len(_outputs_of(run.id)) >= 2, 90, "the first outputs")
    for proc in [first, *psutil.Process(first.pid).children(recursive=True)]:
        os.kill(proc.pid, signal.SIGKILL)
    first.wait(timeout=10)
    second = start_worker()
    crash_env.append(second)

    def finished():
        with session_scope() as session:
            return session.get(WorkflowRun, run.id).status in workflow_runs.TERMINAL

    wait_for(finished, 180, "the run to finish after the crash")
    assert job_row(run.job_id).attempts == 2
    # Every output, those of the killed attempt too, gets its thumbnail: none stays "processing".
    wait_for(lambda: all(a.status == "ready" and a.thumb_key for a in _outputs_of(run.id)), 60,
             "every output's thumbnail")
    assert len(_outputs_of(run.id)) == 12
