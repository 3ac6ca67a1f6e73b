"""The load generator of bench/web_load.py: N concurrent aiohttp clients for a fixed time, in its own process.

Run apart from the server (`python -m bench.load_client PLAN.json`) so its CPU is not the server's: one asyncio
loop, one keep-alive connection per client. Prints one JSON object: per-operation request latencies (ms; the
two requests of a write are two samples, and the pair's total is kept under `operations`), counts, errors
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


async def _timed(request, times: list[float]) -> tuple[int, bytes]:
    """Send one request, read its answer, and add its latency (ms) to `times`."""
    started = time.perf_counter()
    async with request as answer:
        body = await answer.read()
    times.append(round((time.perf_counter() - started) * 1000, 2))
    return answer.status, body


async def _call(session: aiohttp.ClientSession, op: str, rng: random.Random, words: list[str],
                times: list[float]) -> int:
    """One operation; each of its requests' latencies goes to `times`. Returns the status of its last
    request (a write is create then delete: two requests, each its own sample)."""
    if op == "write":
        # A small write: a collection made and deleted again.
        status, body = await _timed(session.post(f"{API}/collections",
                                                 json={"name": f"load {rng.getrandbits(40):x}"}), times)
        if status != 201:
            return status
        status, _ = await _timed(session.delete(f"{API}/collections/{json.loads(body)['id']}"), times)
        return 200 if status == 204 else status
    paths = {"ping": "/ping", "me": f"{API}/me", "library": f"{API}/assets?limit=24",
             "search": f"{API}/assets?limit=24&q={rng.choice(words)}", "jobs": f"{API}/jobs?limit=20",
             "collections": f"{API}/collections"}
    status, _ = await _timed(session.get(paths[op]), times)
    return status


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
            times: list[float] = []
            try:
                status = await _call(session, op, rng, plan["words"], times)
            except TimeoutError:
                out["timeouts"] += 1
                continue
            except aiohttp.ClientError as exc:
                out["errors"].append(f"{op}: {type(exc).__name__}")
                continue
            if status >= 400:
                out["errors"].append(f"{op}: HTTP {status}")
                continue
            # Percentiles are of requests, as requests/s counts them; an operation of two requests is also
            # kept whole (`operations`), for what a caller waits for the pair.
            out["latencies"].setdefault(op, []).extend(times)
            if len(times) > 1:
                out["operations"].setdefault(op, []).append(round(sum(times), 2))
            out["requests"] += len(times)


async def run(plan: dict) -> dict:
    out: dict = {"latencies": {}, "operations": {}, "requests": 0, "errors": [], "timeouts": 0}
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
