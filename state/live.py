"""Following a user's job changes from a background event (Redis pub/sub)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import redis.asyncio as aioredis

from app.services import jobs
from app.settings import get_settings


@asynccontextmanager
async def owner_job_messages(workspace_id: int) -> AsyncIterator[Callable[[], Awaitable[dict | None]]]:
    """Yields `next_message()`: the next job change of this owner, or None after a quiet second.

    Messages published while nobody listens are lost, so callers re-read the database now and
    then rather than trusting the stream alone.
    """
    client = aioredis.from_url(get_settings().redis_db_url(0))
    pubsub = client.pubsub()
    await pubsub.subscribe(jobs.workspace_channel(workspace_id))

    async def next_message() -> dict | None:
        return await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)

    try:
        yield next_message
    finally:
        await pubsub.aclose()
        await client.aclose()


async def follow_jobs(state, *, workspace_id: int, step: Callable[[], bool], reread_every: float = 3.0,
                      settle: float = 0.3) -> None:
    """Call `step()` under the state's lock whenever this owner's jobs change (and every
    `reread_every` seconds anyway, since messages can be missed) until it returns True.

    `state.following` is set while this runs, so a page starts one follower at most. `step` reads
    the rows (the database is the truth, not the message) and says whether there is more to follow.
    """
    async with state:
        if state.following:
            return
        state.following = True
    last_read = 0.0
    try:
        async with owner_job_messages(workspace_id) as next_message:
            while True:
                message = await next_message()
                if message is None and time.monotonic() - last_read < reread_every:
                    continue
                if message is not None and settle:
                    await asyncio.sleep(settle)  # a burst of progress messages: one re-read is enough
                last_read = time.monotonic()
                async with state:
                    if step():
                        break
    finally:
        async with state:
            state.following = False
