"""Thumbnail jobs on a storage folder that is read-only or full: retried, then failed with a reason.

The thumbnails folder is a real filesystem (a tmpfs mounted for the test), so the errors are the kernel's
own EROFS and ENOSPC. Needs root to mount; skipped with a reason elsewhere.
"""

import subprocess
from pathlib import Path

import pytest
from rq import SimpleWorker

from app import queue
from app.db import session_scope
from app.models import Asset, Job
from app.redis_client import get_redis
from app.services.assets.ingest import ingest
from tests import images
from tests.integration.test_accounts import register


def _mount(folder: Path, options: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")


@pytest.fixture
def thumbs(env, monkeypatch):
    """The owner's thumbnails folder, ready to be mounted read-only or full; unmounted after the test."""
    from tests.conftest import clear_caches

    # No wait between attempts, so a burst worker runs them all.
    monkeypatch.setitem(queue.KINDS, "assets.process", queue.KINDS["assets.process"].__class__(
        "jobs.assets.process_assets", "assets", timeout=60, retries=2, backoff=(0, 0)))
    clear_caches()
    user = register("ada@example.com")
    folder = env / "storage" / "thumbs" / str(user.id)
    yield user, folder
    while subprocess.run(["umount", str(folder)], capture_output=True).returncode == 0:
        pass


def work(max_jobs: int | None = None) -> None:
    SimpleWorker([queue.get_queue("assets")], connection=get_redis()).work(burst=True, max_jobs=max_jobs)


def rows(ids: list[int]) -> list[Asset]:
    with session_scope() as session:
        return [session.get(Asset, i) for i in ids]


@pytest.mark.parametrize(("options", "reason"), [("ro,size=1m", "Read-only"), ("size=4k", "No space left")])
def test_storage_that_stays_broken_fails_the_assets_with_a_reason(thumbs, options, reason):
    user, folder = thumbs
    _mount(folder, options)
    if "ro" not in options:  # fill it: the next write finds no space
        subprocess.run(["dd", "if=/dev/zero", f"of={folder / 'filler'}", "bs=1k", "count=64"], capture_output=True)
    result = ingest(workspace_id=user.workspace_id, files=[(f"p{i}.jpg", images.jpeg(400, 300,
                                                                                            seed=i)) for i in range(2)])
    work()
    with session_scope() as session:
        job = session.get(Job, result.job_ids[0])
        assert (job.status, job.attempts) == ("failed", 3)  # retried twice, then given up
    for asset in rows([a.id for a in result.assets]):
        assert asset.status == "failed" and reason in asset.error, asset
        assert asset.error.startswith("Could not make a thumbnail") and str(folder) not in asset.error


def test_storage_that_comes_back_is_retried_and_the_assets_are_ready(thumbs):
    user, folder = thumbs
    _mount(folder, "ro,size=1m")
    result = ingest(workspace_id=user.workspace_id, files=[(f"p{i}.jpg", images.jpeg(400, 300,
                                                                                            seed=i)) for i in range(2)])
    work(max_jobs=1)  # the first attempt meets the read-only folder
    with session_scope() as session:
        job = session.get(Job, result.job_ids[0])
        assert job.status == "queued" and "Retrying" in job.message
    subprocess.run(["mount", "-o", "remount,rw", str(folder)], check=True)  # the admin fixes the disk
    work()
    assert [(a.status, bool(a.thumb_key)) for a in rows([a.id for a in result.assets])] == [("ready", True)] * 2
