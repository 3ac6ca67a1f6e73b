"""Job functions used only by the job-machinery tests (registered as test kinds)."""

import time

from app.services import jobs
from jobs.runner import JobContext, run_tracked

ATTEMPTS: dict[str, int] = {}


def three_items(job_id: str) -> str:
    def body(ctx: JobContext) -> str:
        for i in range(3):
            ctx.progress(100 * (i + 1) / 3, f"item {i + 1}")
        return "three"
    return run_tracked(job_id, body)


def cancels_itself(job_id: str) -> str:
    def body(ctx: JobContext) -> str:
        for i in range(5):
            if i == 1:
                assert jobs.cancel(job_id=job_id, workspace_id=None) == "stopping"
            ctx.progress(20 * (i + 1), f"item {i + 1}")
        return "never"
    return run_tracked(job_id, body)


def broken(job_id: str) -> str:
    def body(ctx: JobContext) -> str:
        raise ValueError("the input makes no sense")
    return run_tracked(job_id, body)


def flaky(job_id: str) -> str:
    def body(ctx: JobContext) -> str:
        ATTEMPTS[job_id] = ATTEMPTS.get(job_id, 0) + 1
        if ATTEMPTS[job_id] == 1:
            raise ConnectionError("provider hung up")
        return "second time lucky"
    return run_tracked(job_id, body)


def slow(job_id: str) -> str:
    def body(ctx: JobContext) -> str:
        time.sleep(5)
        return "too late"
    return run_tracked(job_id, body)


def redis_blip(job_id: str) -> str:
    """Redis drops the connection once (as during a failover or restart), then answers again."""
    import redis

    def body(ctx: JobContext) -> str:
        ATTEMPTS[job_id] = ATTEMPTS.get(job_id, 0) + 1
        if ATTEMPTS[job_id] == 1:
            raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        return "after the blip"
    return run_tracked(job_id, body)
