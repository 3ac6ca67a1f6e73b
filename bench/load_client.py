"""The load generator of bench/web_load.py: N concurrent aiohttp clients for a fixed time, in its own process.

Run apart from the server (`python -m bench.load_client PLAN.json`) so its CPU is not the server's: one asyncio
loop, one keep-alive connection per client. Prints one JSON object: per-operation latencies (ms), counts, errors
and timeouts. A plan is `{"url", "clients", "seconds", "timeout", "headers", "mix", "words"}`; `mix` is a list
of operations, each `[name, weight]` ("ping" is Reflex's /ping, the rest API calls, below); `words` the search
terms.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time

import aiohttp

API = "/api/v1"


async def _call(session: aiohttp.ClientSession, op: str, rng: random.Random, words: list[str]) -> int:
    """One operation; returns the status of its last request (a write is create then delete: two requests)."""
    if op == "ping":
        path = "/ping"
    elif op == "me":
        path = f"{API}/me"
    elif op == "library":
        path = f"{API}/assets?limit=24"
    elif op == "search":
        path = f"{API}/assets?limit=24&q={rng.choice(words)}"
    elif op == "jobs":
        path = f"{API}/jobs?limit=20"
    elif op == "collections":
        path = f"{API}/collections"
    elif op == "write":
        # A small write: a collection made and deleted again (two requests, both counted).
        async with session.post(f"{API}/collections", json={"name": f"load {rng.getrandbits(40):x}"}) as answer:
            body = await answer.read()
            if answer.status != 201:
                return answer.status
        cid = json.loads(body)["id"]
        async with session.delete(f"{API}/collections/{cid}") as answer:
            await answer.read()
            return 200 if answer.status == 204 else answer.status
    else:
        raise ValueError(op)
    async with session.get(path) as answer:
        await answer.read()
        return answer.status


async def _client(plan: dict, deadline: float, seed: int, out: dict) -> None:
    rng = random.Random(seed)
    names = [name for name, _ in plan["mix"]]
    weights = [weight for _, weight in plan["mix"]]
    timeout = aiohttp.ClientTimeout(total=plan["timeout"])
    connector = aiohttp.TCPConnector(limit=1)  # one keep-alive connection per client, as a browser tab or script
    async with aiohttp.ClientSession(plan["url"], headers=plan["headers"], timeout=timeout,
                                     connector=connector) as session:
        while time.monotonic() < deadline:
            op = rng.choices(names, weights)[0]
            started = time.perf_counter()
            try:
                status = await _call(session, op, rng, plan["words"])
            except TimeoutError:
                out["timeouts"] += 1
                continue
            except aiohttp.ClientError as exc:
                out["errors"].append(f"{op}: {type(exc).__name__}")
                continue
            ms = (time.perf_counter() - started) * 1000
            if status >= 400:
                out["errors"].append(f"{op}: HTTP {status}")
                continue
            out["latencies"].setdefault(op, []).append(round(ms, 2))
            out["requests"] += 2 if op == "write" else 1


async def run(plan: dict) -> dict:
    out: dict = {"latencies": {}, "requests": 0, "errors": [], "timeouts": 0}
    started = time.monotonic()
    deadline = started + plan["seconds"]
    await asyncio.gather(*(_client(plan, deadline, n, out) for n in range(plan["clients"])))
    out["elapsed"] = time.monotonic() - started
    return out


def main() -> None:
    with open(sys.argv[1]) as handle:
        plan = json.load(handle)
    sys.stdout.write(json.dumps(asyncio.run(run(plan))))


if __name__ == "__main__":
    main()
