"""SQLite writers queued by app/sqlite_writer.py vs left to SQLite's busy handler, in the same run.

2 processes (as `make run` starts 2 web workers) × 16 threads each do the write of bench/web_load.py's mix — a
collection created, then deleted, through the service (two write transactions) — on one migrated SQLite file
for a few seconds. Rounds alternate the two variants: `queued` (as shipped) and `busy_handler` (the queue turned
off in those processes: every writer goes straight to BEGIN IMMEDIATE and SQLite's sleeping retries). Reported:
writes/s and the p50/p99/max of one write, per variant (median round). ratio = queued p99 ÷ busy-handler p99
inverted (busy p99 / queued p99): above 1, the queue shortens the tail.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import threading
import time

from bench.common import Environment, print_table, write_result

PROCESSES, THREADS = 2, 16


def _writer_process(workspace_id: int, seconds: float, queued: bool, out) -> None:
    from app import sqlite_writer
    from app.db import get_engine
    from app.services.library import collections

    get_engine()
    if not queued:
        for queue in list(sqlite_writer._queues):
            queue.acquire = queue.release = lambda connection: None
    latencies: list[float] = []
    stop = time.monotonic() + seconds

    def run(n: int) -> None:
        done = 0
        while time.monotonic() < stop:
            began = time.perf_counter()
            made = collections.create(workspace_id=workspace_id, name=f"w{n}-{done}-{time.time_ns()}")
            collections.delete_collection(workspace_id=workspace_id, collection_id=made.id)
            latencies.append(time.perf_counter() - began)
            done += 1

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.put(latencies)


def _round(workspace_id: int, seconds: float, queued: bool) -> dict:
    from app.db import get_engine

    get_engine().dispose()  # the children open their own connections
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    procs = [context.Process(target=_writer_process, args=(workspace_id, seconds, queued, out))
             for _ in range(PROCESSES)]
    for proc in procs:
        proc.start()
    latencies = sorted(ms for _ in procs for ms in out.get(timeout=seconds + 120))
    for proc in procs:
        proc.join(30)

    def pct(q: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000, 1)

    return {"writes_per_second": round(len(latencies) / seconds, 1), "p50_ms": pct(0.5), "p99_ms": pct(0.99),
            "max_ms": round(latencies[-1] * 1000, 1)}


def main() -> list[dict]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3, help="rounds per variant, alternating")
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    with Environment():
        from app.db import session_scope
        from app.services.auth import accounts

        with session_scope() as session:
            workspace_id = accounts.register_user(session=session, email="writers@example.com",
                                                  password="correct horse 1").workspace_id
        rounds: dict[str, list[dict]] = {"queued": [], "busy_handler": []}
        for n in range(args.rounds):
            for name in (("queued", "busy_handler") if n % 2 == 0 else ("busy_handler", "queued")):
                rounds[name].append(_round(workspace_id, args.seconds, name == "queued"))
                print(name, json.dumps(rounds[name][-1]))
    median = {name: sorted(r, key=lambda f: f["p99_ms"])[len(r) // 2] for name, r in rounds.items()}
    result = write_result("sqlite_writers", median["busy_handler"]["p99_ms"] / median["queued"]["p99_ms"], 1.0,
                          processes=PROCESSES, threads_per_process=THREADS, seconds=args.seconds,
                          queued=median["queued"], busy_handler=median["busy_handler"], rounds=rounds)
    print_table([result])
    return [result]


if __name__ == "__main__":
    main()
