"""The RQ worker entry point: `python -m jobs.worker`. Run as many as you like, anywhere."""

from __future__ import annotations

import logging
import os
import socket
import uuid

from rq import Worker

from app.queue import QUEUES, get_queue
from app.redis_client import get_redis


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(message)s")
    name = f"atelier-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    worker = Worker([get_queue(q) for q in QUEUES], name=name, connection=get_redis(),
                    # Short heartbeats so a dead worker is noticed (and its jobs failed) fast.
                    worker_ttl=60, job_monitoring_interval=10, maintenance_interval=60)
    # The scheduler runs retries that wait between attempts.
    worker.work(with_scheduler=True, logging_level="INFO")


if __name__ == "__main__":
    main()
