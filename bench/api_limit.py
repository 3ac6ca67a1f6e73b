"""What the guard (network lists + the general API rate limit, one Redis round trip) costs an authenticated read.

The same request as bench/auth_read.py — `GET /api/v1/collections` with an editor's bearer token, the
production ASGI stack called in-process — with and without `Guard` in front, interleaved round by round on
one migrated SQLite database and a private Redis. Limits are set far above the request count, so every
request is counted and none refused. Figures: CPU time per request of this process (best round) and wall
time per request (best round; it includes the Redis round trip the CPU figure does not).
ratio = CPU without / CPU with the guard (≥ 0.8: the guard, one Redis call, costs at most 20 % of an
authenticated read; its own work without Redis is ~2 %, the rest is redis-py's asyncio round trip).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

from bench.auth_read import _caller, _hit
from bench.common import Environment, print_table, write_result

TARGET = 0.8


async def _round(app, path: str, headers, count: int) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(count):
        status = await _hit(app, path, headers)
        if status != 200:
            raise RuntimeError(f"{path} answered {status}")
    return (time.process_time() - cpu) / count, (time.perf_counter() - wall) / count


async def _measure(rounds: int, count: int) -> dict[str, tuple[float, float]]:
    from app.api import build_api
    from app.api.guard import Guard
    from app.api.middleware import BodyLimit, SecurityHeaders

    api = build_api()
    apps = {"plain": SecurityHeaders(BodyLimit(api)), "guarded": SecurityHeaders(Guard(BodyLimit(api)))}
    headers = [(b"host", b"localhost:3000"), (b"authorization", f"Bearer {_caller()}".encode())]
    for app in apps.values():
        await _round(app, "/api/v1/collections", headers, 20)
    cpu: dict[str, list[float]] = {name: [] for name in apps}
    wall: dict[str, list[float]] = {name: [] for name in apps}
    for n in range(rounds):
        for name in (list(apps) if n % 2 == 0 else list(reversed(apps))):
            c, w = await _round(apps[name], "/api/v1/collections", headers, count)
            cpu[name].append(c)
            wall[name].append(w)
    return {name: (min(cpu[name]), min(wall[name])) for name in apps}


def main() -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--count", type=int, default=200, help="requests per variant per round")
    args = parser.parse_args()
    with Environment():
        os.environ.update({"API_RATE_LIMIT": "100000000/hour", "API_RATE_LIMIT_ADDRESS": "100000000/hour"})
        from app.settings import get_settings

        get_settings.cache_clear()
        t = asyncio.run(_measure(args.rounds, args.count))
    result = write_result(
        "api_limit_guard", t["plain"][0] / t["guarded"][0], TARGET,
        cpu_ms_per_request={name: round(v[0] * 1000, 3) for name, v in t.items()},
        wall_ms_per_request={name: round(v[1] * 1000, 3) for name, v in t.items()},
        rounds=args.rounds, requests_per_round=args.count)
    print_table([result])
    print({k: v for k, v in result.items() if k not in ("name", "ratio", "target", "passed")})
    return result


if __name__ == "__main__":
    main()
