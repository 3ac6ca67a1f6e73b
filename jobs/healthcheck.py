"""`python -m jobs.healthcheck`: exit 0 while an RQ worker on this host is alive, else 1 (a container's check).

Alive means its pulse is fresh (within WORKER_TTL_SECONDS): RQ keeps a dead worker's registration for a
minute or more, so registration alone would call a dead container healthy.
"""

from __future__ import annotations

import socket
import sys

from rq import Worker

from app.redis_client import get_redis
from app.services.worker_pulse import live_names


def main() -> int:
    try:
        live = live_names()
        here = [w.name for w in Worker.all(connection=get_redis())
                if w.hostname == socket.gethostname() and w.name in live]
    except Exception as exc:  # Redis away: unhealthy, with the reason in `docker inspect`
        sys.stderr.write(f"unhealthy: {type(exc).__name__}: {exc}\n")
        return 1
    if not here:
        sys.stderr.write(f"unhealthy: no live worker on {socket.gethostname()}\n")
        return 1
    sys.stdout.write(f"ok: {len(here)} live worker(s)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
