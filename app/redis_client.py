"""The Redis connection for queues, throttles, tickets and pub/sub."""

from __future__ import annotations

from functools import lru_cache

from redis import Redis

from app.settings import get_settings


@lru_cache
def get_redis() -> Redis:
    return Redis.from_url(get_settings().redis_db_url(0), socket_timeout=5)
