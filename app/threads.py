"""The web process's pool for blocking request work (AnyIO's default thread limiter), sized by WEB_THREADS.

Set from a lifespan task: the limiter belongs to the server's event loop. Why not AnyIO's 40: see
Settings.web_threads.
"""

from __future__ import annotations

import anyio.to_thread

from app.settings import get_settings


async def size_thread_pool() -> None:
    anyio.to_thread.current_default_thread_limiter().total_tokens = get_settings().web_threads
