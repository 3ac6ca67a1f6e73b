"""Following a user's job changes from a background event (Redis pub/sub)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import redis.asyncio as aioredis

from app.services import jobs
from app.settings import get_settings


@asynccontextmanager
async def owner_job_messages(owner_id: int) -> AsyncIterator[Callable[[], Awaitable[dict | None]]]:
    """Yields `next_message()`: the next job change of this owner, or None after a quiet second.

    Messages published while nobody listens are lost, so callers re-read the database now and
    then rather than trusting the stream alone.
    """
    client = aioredis.from_url(get_settings().redis_db_url(0))
    pubsub = client.pubsub()
    await pubsub.subscribe(jobs.owner_channel(owner_id))

    async def next_message() -> dict | None:
        return await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)

    try:
        yield next_message
    finally:
        await pubsub.aclose()
        await client.aclose()
