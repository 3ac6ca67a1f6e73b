"""Page sessions on Reflex's websocket for bench/web_sessions.py, in a process of their own.

Each session is what a browser tab on the Assets page does, spoken over socket.io with Reflex's own protocol:
connect to /_event with a fresh client token and the session cookie, the page's `hydrate_and_load` event in the
CONNECT packet (as Reflex's frontend sends it), then apply the state deltas the server pushes. The page follows
the workspace's jobs while pictures are processing (state/assets.py `follow_jobs`); each session notes when
its `processing_count` first shows each value.

`python -m bench.session_client PLAN.json`; PLAN: `{"url", "cookie", "sessions", "path", "connect_timeout"}`.
Prints `{"ready": n, "failed": [...]}` on one line once every session follows (or could not), then reads one
line from stdin (the rounds are over) and prints `{"seen": {session: {count: unix time}}, "updates": n}`.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid

import socketio

NAMESPACE = "/_event"  # Reflex's socket.io namespace, on the path of the same name
STATE = "reflex___state____state"
BOOT_EVENT = f"{STATE}.hydrate_and_load"


def _find(delta: dict, prefix: str):
    """The value of the first var named `prefix` (Reflex may suffix var names) in any state of a delta."""
    for values in delta.values():
        if isinstance(values, dict):
            for name, value in values.items():
                if name == prefix or name.startswith(prefix + "_rx_state_"):
                    return value
    return None


class Session:
    def __init__(self, plan: dict, index: int):
        self.plan, self.index = plan, index
        self.following = asyncio.Event()
        self.seen: dict[int, float] = {}
        self.updates = 0
        self.client = socketio.AsyncClient(reconnection=False)
        self.client.on("event", self.on_update, namespace=NAMESPACE)

    async def on_update(self, update) -> None:
        now = time.time()
        self.updates += 1
        delta = (json.loads(update) if isinstance(update, str) else update).get("delta") or {}
        count = _find(delta, "processing_count")
        if count is not None:
            self.seen.setdefault(int(count), now)
        if _find(delta, "following") is True:
            self.following.set()

    async def open(self) -> None:
        url = self.plan["url"]
        path = self.plan["path"]
        boot = {"name": BOOT_EVENT, "payload": {}, "router_data": {"pathname": path, "asPath": path}}
        await self.client.connect(f"{url}?token={uuid.uuid4()}", socketio_path="_event", transports=["websocket"],
                                  headers={"Cookie": f"atelier_session={self.plan['cookie']}", "Origin": url},
                                  auth={"event": boot}, namespaces=[NAMESPACE],
                                  wait_timeout=self.plan["connect_timeout"])
        await asyncio.wait_for(self.following.wait(), self.plan["connect_timeout"])


async def run(plan: dict) -> None:
    sessions = [Session(plan, n) for n in range(plan["sessions"])]
    failed = []
    # A few at a time, as tabs open over a minute rather than in one instant.
    gate = asyncio.Semaphore(plan.get("opening_at_once", 20))

    async def open_one(session: Session) -> None:
        async with gate:
            try:
                await session.open()
            except Exception as exc:  # reported, counted as not following
                failed.append(f"{session.index}: {type(exc).__name__}: {exc}"[:200])

    await asyncio.gather(*(open_one(s) for s in sessions))
    print(json.dumps({"ready": sum(s.following.is_set() for s in sessions), "failed": failed}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    print(json.dumps({"seen": {s.index: s.seen for s in sessions}, "updates": sum(s.updates for s in sessions)}),
          flush=True)
    await asyncio.gather(*(s.client.disconnect() for s in sessions), return_exceptions=True)


def main() -> None:
    with open(sys.argv[1]) as handle:
        plan = json.load(handle)
    asyncio.run(run(plan))


if __name__ == "__main__":
    main()
