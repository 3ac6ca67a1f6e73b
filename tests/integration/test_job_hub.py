"""The process's job hub (app/job_hub.py) on a real Redis: one subscription per workspace, each message to each
listener once, a slow listener told to re-read instead of holding the others up, nothing left behind."""

import asyncio

import redis

from app.job_hub import JobHub
from app.models import Job
from app.services import jobs


def _publish(job_id: str, workspace_id: int, **params) -> None:
    """What a worker does after updating a job row (jobs.progress → jobs.publish)."""
    jobs.publish(Job(id=job_id, kind="assets.process", workspace_id=workspace_id, status="running",
                     params=dict(params)))


def _numsub(url: str, workspace_id: int) -> int:
    return dict(redis.Redis.from_url(url).pubsub_numsub(jobs.workspace_channel(workspace_id)))[
        jobs.workspace_channel(workspace_id).encode()]


def _pubsub_clients(url: str) -> int:
    return len(redis.Redis.from_url(url).client_list(_type="pubsub"))


async def _collect(listener, count: int, seconds: float = 5.0) -> list[dict]:
    got: list[dict] = []
    deadline = asyncio.get_running_loop().time() + seconds
    while len(got) < count and asyncio.get_running_loop().time() < deadline:
        changes = await listener.next(timeout=0.2)
        if changes is not None:
            assert not changes.everything
            got.extend(changes.jobs)
    return got


async def test_each_listener_gets_each_message_once_on_one_subscription(env, redis_url):
    hub = JobHub(redis_url)
    async with hub.listen(7) as a, hub.listen(7) as b, hub.listen(7) as c, hub.listen(8) as other:
        assert _numsub(redis_url, 7) == 1 and _numsub(redis_url, 8) == 1  # one per workspace, not per page
        assert _pubsub_clients(redis_url) == 1  # one connection for the process
        for n in range(5):
            await asyncio.to_thread(_publish, f"job-{n}", 7, asset_ids=[n, n + 100])
        for listener in (a, b, c):
            got = await _collect(listener, 5)
            assert [j["id"] for j in got] == [f"job-{n}" for n in range(5)]
        await asyncio.sleep(0.3)
        assert a.drain() is None  # nothing twice
        assert await other.next(timeout=0.3) is None  # another workspace's news is not ours


async def test_changes_name_what_they_concern(env, redis_url):
    hub = JobHub(redis_url)
    async with hub.listen(3) as listener:
        await asyncio.to_thread(_publish, "a", 3, asset_ids=[1, 2])
        await asyncio.to_thread(_publish, "b", 3, asset_ids=[2, 5])
        await asyncio.sleep(0.3)
        changes = listener.drain()
    assert changes is not None and changes.params("asset_ids") == {1, 2, 5}
    assert changes.params("batch_id") == set()


async def test_a_slow_listener_does_not_hold_up_the_others_and_is_told_to_reread(env, redis_url):
    hub = JobHub(redis_url, queue_size=4)
    async with hub.listen(1) as slow, hub.listen(1) as quick:
        reader = asyncio.create_task(_collect(quick, 30))
        for n in range(30):
            await asyncio.to_thread(_publish, f"job-{n}", 1)
        got = await reader
        assert [j["id"] for j in got] == [f"job-{n}" for n in range(30)]  # every one, in order
        await asyncio.sleep(0.2)
        behind = slow.drain()
        # Its queue overflowed: the lost messages become one "re-read everything", bounded by the queue.
        assert behind is not None and behind.everything
        assert len(behind.jobs) < 4
        await asyncio.to_thread(_publish, "after", 1)
        later = await slow.next(timeout=2)
        assert later is not None and not later.everything and [j["id"] for j in later.jobs] == ["after"]


async def test_listeners_that_come_and_go_leave_nothing_behind(env, redis_url):
    hub = JobHub(redis_url)

    async def page(n: int) -> int:
        async with hub.listen(1 + n % 3) as listener:
            await asyncio.sleep(0.01 * (n % 5))
            seen = await listener.next(timeout=1.0)
            return 0 if seen is None else len(seen.jobs)

    pages = [asyncio.create_task(page(n)) for n in range(60)]
    await asyncio.sleep(0.2)
    assert 0 < hub.listener_count() <= 60
    assert _pubsub_clients(redis_url) == 1
    await asyncio.to_thread(_publish, "mid", 1)
    heard = await asyncio.gather(*pages)
    assert sum(heard) >= 1  # the pages of workspace 1 still listening heard "mid"
    assert hub.listener_count() == 0 and hub.channels() == []
    await asyncio.sleep(0.1)
    assert _pubsub_clients(redis_url) == 0  # the connection closed with its last listener
    assert all(_numsub(redis_url, w) == 0 for w in (1, 2, 3))
    # And the hub starts again for the next page.
    async with hub.listen(1) as listener:
        assert _pubsub_clients(redis_url) == 1
        await asyncio.to_thread(_publish, "again", 1)
        assert [j["id"] for j in await _collect(listener, 1)] == ["again"]
    await asyncio.sleep(0.1)
    assert _pubsub_clients(redis_url) == 0


async def test_a_lost_connection_makes_every_listener_reread_once_subscribed_again(env, redis_url):
    hub = JobHub(redis_url)
    async with hub.listen(4) as listener:
        redis.Redis.from_url(redis_url).client_kill_filter(_type="pubsub")
        changes = await listener.next(timeout=10)
        assert changes is not None and changes.everything  # what was published meanwhile is read from the rows
        assert _numsub(redis_url, 4) == 1
        await asyncio.to_thread(_publish, "back", 4)
        assert [j["id"] for j in await _collect(listener, 1)] == ["back"]


async def test_without_redis_a_listener_still_starts_and_leaves(env, monkeypatch):
    monkeypatch.setattr("app.job_hub.SUBSCRIBE_WAIT", 0.5)
    hub = JobHub("redis://127.0.0.1:1/0")  # nothing listens there: the page falls back on its re-reads
    async with hub.listen(1) as listener:
        assert await listener.next(timeout=0.5) is None
        assert hub.listener_count() == 1
    assert hub.listener_count() == 0 and hub.channels() == []
