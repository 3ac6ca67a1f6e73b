"""WEB_THREADS sizes the pool that blocking request work runs in, in the server's own event loop."""

import anyio
import anyio.to_thread

from app.threads import size_thread_pool
from tests.conftest import clear_caches


def test_the_web_thread_pool_takes_its_size_from_settings(monkeypatch):
    monkeypatch.setenv("WEB_THREADS", "5")
    clear_caches()

    async def sized() -> float:
        assert anyio.to_thread.current_default_thread_limiter().total_tokens == 40  # AnyIO's own default
        await size_thread_pool()
        return anyio.to_thread.current_default_thread_limiter().total_tokens

    assert anyio.run(sized) == 5


def test_the_shipped_default_is_a_small_pool():
    from app.settings import Settings

    assert Settings.model_fields["web_threads"].default == 4
