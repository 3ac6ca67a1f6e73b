"""A worker that starts while Redis is away (the supervisor restarting it) does not exit on the
scheduler's start-up lock: it works, and its maintenance pass starts the scheduler later."""

from __future__ import annotations

import redis
from rq import SimpleWorker
from rq.scheduler import RQScheduler

from app.queue import get_queue
from app.redis_client import get_redis
from jobs.worker import AtelierWorker


class SimpleAtelierWorker(AtelierWorker, SimpleWorker):
    """The same overrides, jobs run in this process (no fork) so the test stays quick."""


def test_redis_gone_at_the_scheduler_lock_does_not_stop_the_worker(env, monkeypatch):
    def refused(self, *args, **kwargs):
        raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1. Connection refused.")

    monkeypatch.setattr(RQScheduler, "acquire_locks", refused)
    job = get_queue("default").enqueue("os.getpid")
    worker = SimpleAtelierWorker([get_queue("default")], connection=get_redis())
    assert worker.work(burst=True, with_scheduler=True, max_jobs=1) is True  # it raised ConnectionError before
    assert job.get_status(refresh=True) == "finished"
