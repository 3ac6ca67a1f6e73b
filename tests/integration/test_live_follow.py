"""state/live.follow_jobs on a real Redis: reads outside the state lock, told what changed, and gone with its page.

`Page` stands in for a Reflex state with what the follower uses of one: `async with` (the state lock) and the
`following` var; the e2e journeys (rename, generate, workflows, slides) run the real thing in a browser.
"""

import asyncio
import threading
from types import SimpleNamespace

import redis

from app import job_hub
from app.models import Job
from app.services import jobs
from state import live


class Page:
    def __init__(self, token: str = "") -> None:
        self.lock = asyncio.Lock()
        self.following = False
        self.router = SimpleNamespace(session=SimpleNamespace(client_token=token))

    async def __aenter__(self):
        await self.lock.acquire()
        return self

    async def __aexit__(self, *exc):
        self.lock.release()


def _publish(job_id: str, workspace_id: int, status: str = "running", **params) -> None:
    jobs.publish(Job(id=job_id, kind="rename.analyze", workspace_id=workspace_id, status=status,
                     params=dict(params)))


def _pubsub_clients(url: str) -> int:
    return len(redis.Redis.from_url(url).client_list(_type="pubsub"))


async def _wait_for(condition, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met")


async def test_reads_run_in_a_thread_without_the_lock_and_see_what_changed(env, redis_url):
    page, seen, loop_thread, snapshots = Page(), [], threading.get_ident(), []

    def snapshot():
        assert page.lock.locked()  # inputs are copied under the lock
        snapshots.append(len(seen))
        return 5

    def prepare(changes, batch_id):
        assert not page.lock.locked()
        if not changes.everything and batch_id not in changes.params("batch_id"):
            return None  # another page's job: no read, no lock
        return lambda: (changes, page.lock.locked(), threading.get_ident())

    def apply(result) -> bool:
        assert page.lock.locked()
        seen.append(result)
        return result[0].terminal()

    follower = asyncio.create_task(live.follow_jobs(page, workspace_id=9, snapshot=snapshot, prepare=prepare,
                                                    apply=apply, reread_every=60, settle=0))
    await _wait_for(lambda: len(seen) == 1)  # the first read: everything, before any message
    assert seen[0][0].everything and page.following
    await asyncio.to_thread(_publish, "other", 9, batch_id=6)
    await asyncio.to_thread(_publish, "mine", 9, batch_id=5)
    await _wait_for(lambda: len(seen) == 2)
    await asyncio.to_thread(_publish, "mine", 9, status="succeeded", batch_id=5)
    await asyncio.wait_for(follower, 10)
    changes = [c for c, _, _ in seen]
    assert [j["id"] for c in changes[1:] for j in c.jobs] == ["mine", "mine"]  # "other" read nothing
    assert all(not locked for _, locked, _ in seen)  # the read never held the state lock
    assert all(thread != loop_thread for _, _, thread in seen)  # nor the event loop
    assert snapshots == [0, 1, 2]  # at the start and after each apply that did not end it; none for "other"
    assert not page.following
    assert job_hub.get_hub().listener_count() == 0


async def test_a_read_the_page_outgrew_is_read_again_from_a_fresh_snapshot(env, redis_url):
    page, reads = Page(), []
    page.batch = 1

    def prepare(changes, batch_id):
        return lambda: (batch_id, changes.everything)

    def apply(result):
        reads.append(result)
        if result[0] != page.batch:
            return live.AGAIN
        return result[0] == 2

    def snapshot():
        return page.batch

    async def open_another_batch_during_the_first_read():
        await asyncio.sleep(0)
        page.batch = 2

    follower = asyncio.create_task(live.follow_jobs(page, workspace_id=4, snapshot=snapshot, prepare=prepare,
                                                    apply=apply, reread_every=60))
    await open_another_batch_during_the_first_read()
    await asyncio.wait_for(follower, 10)
    assert reads == [(1, True), (2, True)]  # the stale read dropped, the new batch read in full at once


async def test_a_second_follower_of_the_same_page_does_not_start(env, redis_url):
    page, reads = Page(), []
    first = asyncio.create_task(live.follow_jobs(page, workspace_id=2, snapshot=lambda: None,
                                                 prepare=lambda c, _i: lambda: reads.append(c),
                                                 apply=lambda _r: False, reread_every=60))
    await _wait_for(lambda: page.following and reads)
    await live.follow_jobs(page, workspace_id=2, snapshot=lambda: None, prepare=lambda c, _i: lambda: reads.append(c),
                           apply=lambda _r: False)
    assert len(reads) == 1 and job_hub.get_hub().listener_count() == 1
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)
    assert not page.following and job_hub.get_hub().listener_count() == 0


async def test_pages_that_come_and_go_leave_no_follower_and_no_subscription(env, redis_url, monkeypatch):
    closed: set[str] = set()  # the tabs whose socket went away

    async def page_open(token: str) -> bool:
        return token not in closed

    monkeypatch.setattr(live, "page_open", page_open)
    monkeypatch.setattr(live, "GONE_CHECK", 0.1)
    monkeypatch.setattr(live, "GONE_GRACE", 0.3)
    pages = [Page(f"tab-{n}") for n in range(30)]
    reads = [0] * len(pages)

    def prepare_for(n):
        def prepare(_changes, _inputs):
            def read():
                reads[n] += 1
            return read
        return prepare

    followers = [asyncio.create_task(live.follow_jobs(page, workspace_id=1 + n % 3, snapshot=lambda: None,
                                                      prepare=prepare_for(n), apply=lambda _r: False,
                                                      reread_every=60))
                 for n, page in enumerate(pages)]
    await _wait_for(lambda: job_hub.get_hub().listener_count() == 30)
    assert _pubsub_clients(redis_url) == 1  # 30 pages, 3 workspaces, one connection
    closed.update(f"tab-{n}" for n in range(20))
    await _wait_for(lambda: job_hub.get_hub().listener_count() == 10)
    assert all(f.done() for f in followers[:20]) and not any(f.done() for f in followers[20:])
    await asyncio.to_thread(_publish, "tick", 1)
    await _wait_for(lambda: all(reads[n] == 2 for n in range(21, 30, 3)))  # the open pages of workspace 1 heard it
    closed.update(f"tab-{n}" for n in range(20, 30))
    await asyncio.wait_for(asyncio.gather(*followers), 10)
    assert job_hub.get_hub().listener_count() == 0 and job_hub.get_hub().channels() == []
    await _wait_for(lambda: _pubsub_clients(redis_url) == 0)
    assert not any(page.following for page in pages)
