"""Per-account and per-IP throttles on Redis (moving windows from the `limits` library)."""

from __future__ import annotations

import math
import time
from functools import lru_cache

from limits import parse_many
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter

from app.errors import Throttled
from app.settings import get_settings


@lru_cache
def _limiter() -> MovingWindowRateLimiter:
    url = get_settings().redis_db_url(0)
    return MovingWindowRateLimiter(RedisStorage(url, key_prefix="atelier-throttle"))


def hit(*, rule: str, scope: str, key: str) -> None:
    """Count one attempt; raise Throttled when any window of `rule` is full."""
    limiter = _limiter()
    for item in parse_many(rule):
        if not limiter.hit(item, scope, key.lower()):
            stats = limiter.get_window_stats(item, scope, key.lower())
            retry = max(1, math.ceil(stats.reset_time - time.time()))
            raise Throttled(
                f"Too many attempts. Try again in {retry} seconds.", retry_after=retry
            )


def reset(*, rule: str, scope: str, key: str) -> None:
    limiter = _limiter()
    for item in parse_many(rule):
        limiter.clear(item, scope, key.lower())
