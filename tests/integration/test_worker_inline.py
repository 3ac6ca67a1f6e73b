"""Generation jobs run inside the worker process (no fork): heartbeats, crash recovery, fork safety."""

import os
import signal

import psutil
import pytest
from rq import Worker
from sqlmodel import select

from app.db import session_scope
from app.models import Generation, GenerationImage
from app.providers import http
from app.redis_client import get_redis
from app.services.assets.ingest import ingest
from app.services.generation import registry, service
from app.services.generation.base import GenerationRequest
from app.services.generation.service import GenerationInput
from tests import images
from tests.fake_image_providers import configured_openai_images
from tests.integration.test_accounts import register
from tests.integration.test_worker_crash import crash_env, start_worker  # noqa: F401 (crash_env: a fixture)
from tests.waiting import job_row, wait_for


@pytest.fixture
def slow_openai(crash_env, monkeypatch):  # noqa: F811 (the fixture imported above)
    yield from configured_openai_images(monkeypatch)


def _horses(worker) -> list[psutil.Process]:
    # RQ's work horses lead their own process group; its scheduler, also a child, does not.
    return [c for c in psutil.Process(worker.pid).children() if os.getpgid(c.pid) == c.pid]


def _generate(workspace_id: int) -> Generation:
    return service.create_generation(workspace_id=workspace_id, data=GenerationInput(
        prompt="a lighthouse at dusk", size="1024x1024", provider="openai"))


def test_a_long_inline_job_keeps_its_worker_alive(slow_openai, crash_env):  # noqa: F811
    # Longer than the worker TTL (6 s) and three reaper passes: only the heartbeat thread keeps the
    # reaper from taking this worker for dead and running the job a second time.
    slow_openai.delay = 9
    worker = start_worker()
    crash_env.append(worker)
    wait_for(lambda: Worker.all(connection=get_redis()), 30, "the worker")
    user = register("ada@example.com")
    generation = _generate(user.id)
    wait_for(lambda: job_row(generation.job_id).status == "running", 30, "the job to start")
    assert _horses(worker) == []  # in the worker itself
    done = wait_for(lambda: (j := job_row(generation.job_id)).status not in ("queued", "running") and j, 60,
                    "the job to end")
    assert done.status == "succeeded", done.error
    assert done.attempts == 1 and len(slow_openai.sent("POST", "/v1/images/generations")) == 1
    with session_scope() as session:
        assert session.get(Generation, generation.id).status == "succeeded"
        assert len(session.exec(select(GenerationImage)).all()) == 1
    # Other jobs still get a work horse of their own.
    (batch,) = ingest(workspace_id=user.workspace_id, files=[(f"p{i}.jpg", images.jpeg(2400, 1600, seed=i))
                                                      for i in range(30)]).job_ids
    wait_for(lambda: _horses(worker), 60, "a work horse for the thumbnail batch")
    wait_for(lambda: job_row(batch).status == "succeeded", 120, "the batch")


def test_a_worker_killed_during_an_inline_job_is_replaced_and_the_job_finishes(slow_openai, crash_env):  # noqa: F811
    slow_openai.delay = 3
    first = start_worker()
    crash_env.append(first)
    wait_for(lambda: Worker.all(connection=get_redis()), 30, "the first worker")
    generation = _generate(register("ada@example.com").id)
    wait_for(lambda: slow_openai.sent("POST", "/v1/images/generations"), 30, "the provider call")
    os.killpg(first.pid, signal.SIGKILL)  # the worker and its scheduler, as in a machine crash
    first.wait(timeout=10)
    assert job_row(generation.job_id).status == "running"
    second = start_worker()
    crash_env.append(second)
    done = wait_for(lambda: (j := job_row(generation.job_id)).status in ("succeeded", "failed") and j, 120,
                    "recovery after the crash")
    assert done.status == "succeeded", done.error
    assert done.attempts == 2
    with session_scope() as session:
        # The killed call's answer died with its process: the image was kept once, from the retry.
        assert len(session.exec(select(GenerationImage)).all()) == 1


def test_a_forked_child_builds_its_own_providers_and_breakers(slow_openai):
    parent = registry.get_provider("openai")
    request = GenerationRequest(prompt="x", width=1024, height=1024, n=1, model="gpt-image-1")
    assert len(parent.generate(request)) == 1  # the parent's pool now has a thread and a warm connection
    breaker = http.get_breaker("openai-images", fail_max=5, reset_seconds=30)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: what a work horse forked after in-process jobs would see
        answer = b"no"
        try:
            ok = registry.get_provider("openai") is not parent
            ok = ok and http.get_breaker("openai-images", fail_max=5, reset_seconds=30) is not breaker
            # The new provider works: the parent's pool threads did not survive the fork, its own do.
            if ok:  # (the parent's own provider would hang here: its idle pool thread is not in this process)
                answer = b"ok" if len(registry.get_provider("openai").generate(request)) == 1 else b"no"
        finally:  # whatever happens, the child must not go on running the test session
            os.write(write, answer)
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    assert os.read(read, 2) == b"ok"
    assert registry.get_provider("openai") is parent  # the parent keeps its own
