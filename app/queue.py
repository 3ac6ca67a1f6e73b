"""The RQ connection, queues by purpose and the enqueue helpers.

Jobs are named by dotted path so `app/` never imports `jobs/`.
"""

from __future__ import annotations

from rq import Queue, Retry

from app.redis_client import get_redis

QUEUES = ("default", "email")


def get_queue(name: str = "default") -> Queue:
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}")
    return Queue(name, connection=get_redis(), default_timeout=300)


def enqueue_email_delivery(outbox_id: int) -> None:
    get_queue("email").enqueue(
        "jobs.email.deliver_email", outbox_id,
        job_id=f"email-{outbox_id}", retry=Retry(max=3, interval=[10, 60, 300]),
        job_timeout=60,
    )
