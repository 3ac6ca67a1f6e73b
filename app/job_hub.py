"""One Redis subscription per workspace per process, fanned out to the pages of that process.

Every page that follows jobs used to open its own Redis connection and subscription; with 200 tabs that is 200
connections, and every message woke 200 readers. Here a process keeps one pub/sub connection, subscribes each
workspace channel once (while someone listens to it) and hands each message, parsed once, to the listeners'
bounded queues. A listener that falls behind loses messages, not the others' time: when its queue is full it is
told to re-read everything once (`Changes.everything`), which is what a reconnecting page does anyway.

Nothing here imports Reflex: a hub belongs to one event loop (one per worker process; tests make one per loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field

import redis.asyncio as aioredis

from app.services import jobs
from app.settings import get_settings

log = logging.getLogger(__name__)

QUEUE_SIZE = 64  # messages a listener may have waiting before it is told to re-read everything instead
SUBSCRIBE_WAIT = 5.0  # seconds a new listener waits for Redis to confirm its channel
RELOAD = object()  # queued for a listener that lost messages


@dataclass
class Changes:
    """What happened since a listener last looked: the job changes (as `jobs.public` dicts, oldest first),
    or `everything` when some were lost (queue full, connection lost) and only a full re-read is right."""

    jobs: list[dict] = field(default_factory=list)
    everything: bool = False

    def params(self, name: str) -> set:
        """Every value of the job parameter `name` in these changes (lists are flattened): which
        batches, runs, decks or pictures they concern."""
        found: set = set()
        for job in self.jobs:
            value = (job.get("params") or {}).get(name)
            if isinstance(value, list):
                found.update(value)
            elif value is not None:
                found.add(value)
        return found

    def merge(self, other: Changes | None) -> Changes:
        if other is None:
            return self
        return Changes(jobs=self.jobs + other.jobs, everything=self.everything or other.everything)

    def terminal(self) -> bool:
        """Whether any of these changes ended a job."""
        return any(job.get("status") in jobs.TERMINAL for job in self.jobs)


class Listener:
    """One follower's view of a workspace's job changes."""

    def __init__(self, queue_size: int = QUEUE_SIZE) -> None:
        self._queue: asyncio.Queue = asyncio.Queue(maxsize=queue_size)

    def deliver(self, item) -> None:
        """Never blocks the hub: a full queue is emptied and replaced by one 're-read everything'."""
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            while not self._queue.empty():
                self._queue.get_nowait()
            self._queue.put_nowait(RELOAD)

    async def next(self, timeout: float) -> Changes | None:
        """Everything waiting (one burst collapses into one `Changes`), or None after `timeout` quiet seconds."""
        try:
            first = await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            return None
        return self._collect([first])

    def drain(self) -> Changes | None:
        """Everything waiting now, without waiting (None: nothing)."""
        return self._collect([]) if not self._queue.empty() else None

    def _collect(self, items: list) -> Changes:
        while not self._queue.empty():
            items.append(self._queue.get_nowait())
        return Changes(jobs=[i for i in items if i is not RELOAD], everything=any(i is RELOAD for i in items))


class JobHub:
    """The process's subscriptions to workspace job channels and the listeners of each."""

    def __init__(self, redis_url: str, *, queue_size: int = QUEUE_SIZE) -> None:
        self.loop = asyncio.get_running_loop()
        self._url, self._queue_size = redis_url, queue_size
        self._listeners: dict[str, set[Listener]] = {}
        self._ready: dict[str, asyncio.Event] = {}  # set once Redis confirmed the subscription
        self._lost: set[str] = set()  # channels whose listeners re-read everything once subscribed again
        self._client: aioredis.Redis | None = None
        self._pubsub = None
        self._reader: asyncio.Task | None = None
        # Held while subscriptions change (connect, subscribe, unsubscribe, stop); never while delivering.
        self._lock = asyncio.Lock()

    def listener_count(self) -> int:
        return sum(len(group) for group in self._listeners.values())

    def channels(self) -> list[str]:
        return sorted(self._listeners)

    @contextlib.asynccontextmanager
    async def listen(self, workspace_id: int) -> AsyncIterator[Listener]:
        """A listener of this workspace's job changes for the time of the block. It is subscribed when the
        block starts (or, if Redis does not answer, told to re-read everything once it does)."""
        channel = jobs.workspace_channel(workspace_id)
        listener = Listener(self._queue_size)
        await self._add(channel, listener)
        try:
            yield listener
        finally:
            await self._remove(channel, listener)

    async def _add(self, channel: str, listener: Listener) -> None:
        async with self._lock:
            group = self._listeners.setdefault(channel, set())
            group.add(listener)
            ready = self._ready.setdefault(channel, asyncio.Event())
            if len(group) == 1 and self._pubsub is not None:
                try:
                    await self._pubsub.subscribe(channel)
                except Exception:  # the reader sees the broken connection and subscribes again
                    log.warning("could not subscribe to %s", channel, exc_info=True)
            if self._reader is None or self._reader.done():
                self._reader = asyncio.create_task(self._read(), name="job-hub-reader")
        try:
            await asyncio.wait_for(ready.wait(), SUBSCRIBE_WAIT)
        except TimeoutError:
            self._lost.add(channel)

    async def _remove(self, channel: str, listener: Listener) -> None:
        stop = None
        async with self._lock:
            group = self._listeners.get(channel, set())
            group.discard(listener)
            if group:
                return
            self._listeners.pop(channel, None)
            self._ready.pop(channel, None)
            self._lost.discard(channel)
            if self._listeners:
                if self._pubsub is not None:
                    with contextlib.suppress(Exception):
                        await self._pubsub.unsubscribe(channel)
                return
            stop = self._reader, self._pubsub, self._client
            self._reader = self._pubsub = self._client = None
        reader, pubsub, client = stop
        if reader is not None:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
        await _close(pubsub, client)

    async def _connect(self) -> None:
        async with self._lock:
            if not self._listeners:
                return
            client = aioredis.from_url(self._url, decode_responses=True, socket_connect_timeout=5)
            pubsub = client.pubsub()
            try:
                await pubsub.subscribe(*self._listeners)
            except BaseException:  # cancelled too: this connection is nobody's yet
                await _close(pubsub, client)
                raise
            self._client, self._pubsub = client, pubsub

    async def _drop(self) -> None:
        async with self._lock:
            pubsub, client = self._pubsub, self._client
            self._pubsub = self._client = None
            for channel, ready in self._ready.items():
                ready.clear()
                self._lost.add(channel)
        await _close(pubsub, client)

    async def _read(self) -> None:
        """Deliver messages until nobody listens; on a lost connection, reconnect with a growing pause."""
        pause = 0.5
        while self._listeners:
            try:
                if self._pubsub is None:
                    await self._connect()
                    continue
                message = await self._pubsub.get_message(timeout=1.0)
                pause = 0.5
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("job hub lost Redis; reconnecting in %.1f s", pause, exc_info=True)
                await self._drop()
                await asyncio.sleep(pause)
                pause = min(pause * 2, 5.0)
                continue
            if message is not None:
                self._dispatch(message)

    def _dispatch(self, message: dict) -> None:
        channel = message.get("channel")
        if message["type"] == "subscribe":
            if channel in self._ready:
                self._ready[channel].set()
            if channel in self._lost:  # messages may have gone by while it was not subscribed
                self._lost.discard(channel)
                self._deliver(self._listeners.get(channel, ()), RELOAD)
            return
        if message["type"] != "message":
            return
        try:
            job = json.loads(message["data"])
        except (TypeError, ValueError):
            log.warning("unreadable job message on %s", channel)
            return
        self._deliver(self._listeners.get(channel, ()), job)

    @staticmethod
    def _deliver(listeners: Iterable[Listener], item) -> None:
        for listener in list(listeners):
            listener.deliver(item)


async def _close(pubsub, client) -> None:
    for thing in (pubsub, client):
        if thing is not None:
            with contextlib.suppress(Exception):
                await thing.aclose()


_hub: JobHub | None = None


def get_hub() -> JobHub:
    """This process's hub (a new one for a new event loop: asyncio objects belong to the loop that made them)."""
    global _hub
    if _hub is None or _hub.loop is not asyncio.get_running_loop():
        _hub = JobHub(get_settings().redis_db_url(0))
    return _hub
