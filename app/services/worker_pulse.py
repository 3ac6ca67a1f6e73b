"""Which workers are alive: each worker's pulse, a few times per WORKER_TTL_SECONDS, in one Redis set.

RQ's own heartbeat comes from the worker's main loop: every job-monitoring interval during a job, and
only every `worker_ttl - 15` s when idle, so a death could only be trusted after about a minute. The
pulse comes from a thread of its own at a fixed pace, so a worker silent for WORKER_TTL_SECONDS (6 s by
default) is dead and the reaper hands its jobs to the living. Times are the Redis server's clock, so
workers on machines with skewed clocks agree.
"""

from __future__ import annotations

import logging
import threading
import time

from app.redis_client import get_redis
from app.settings import get_settings

log = logging.getLogger("atelier.worker")
PULSE_KEY = "atelier:workers:pulse"


def _server_now() -> float:
    seconds, micros = get_redis().time()
    return seconds + micros / 1_000_000


def interval() -> float:
    return max(0.5, get_settings().worker_ttl_seconds / 3)


def beat(name: str) -> None:
    get_redis().zadd(PULSE_KEY, {name: _server_now()})


def forget(name: str) -> None:
    """A worker that stops cleanly says so: it is gone at once, not after the TTL."""
    get_redis().zrem(PULSE_KEY, name)


def live_names() -> set[str]:
    ttl = get_settings().worker_ttl_seconds
    now = _server_now()
    pipe = get_redis().pipeline()
    pipe.zremrangebyscore(PULSE_KEY, "-inf", now - 100 * ttl)  # long-dead names do not pile up
    pipe.zrangebyscore(PULSE_KEY, now - ttl, "+inf")
    return {n.decode() if isinstance(n, bytes) else n for n in pipe.execute()[1]}


class Pulse:
    """The pulse thread of one worker. `steady` says whether it has beaten without a gap for one TTL:
    right after a Redis outage every pulse looks old, and a reaper must not take that for deaths."""

    def __init__(self, name: str):
        self.name = name
        self.stop = threading.Event()
        self._ok_since: float | None = None
        self.thread = threading.Thread(target=self._run, daemon=True, name="pulse")

    def start(self) -> Pulse:
        self.thread.start()
        return self

    @property
    def steady(self) -> bool:
        since = self._ok_since
        return since is not None and time.monotonic() - since >= get_settings().worker_ttl_seconds

    def _run(self) -> None:
        while True:
            try:
                beat(self.name)
                if self._ok_since is None:
                    self._ok_since = time.monotonic()
            except Exception as exc:  # Redis away: keep trying; the pulse must outlive an outage
                if self._ok_since is not None:
                    log.warning("pulse of %s failed: %s", self.name, exc)
                self._ok_since = None
            if self.stop.wait(interval()):
                break

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        try:
            forget(self.name)
        except Exception:  # Redis away at shutdown: the TTL says it soon enough
            log.warning("could not remove the pulse of %s", self.name)
