"""The web tier under load: the authenticated API against Reflex's /ping on the same server, in the same run.

The app is started the way production starts it (scripts/run.py as `make run`: embedded Redis, SQLite under a
fresh DATA_DIR, migrations, `reflex run --env prod` on granian with GRANIAN_WORKERS=2 — one per core). The API
rate limit is raised for the run (API_RATE_LIMIT*: 64 clients of one token from one address are far past the
shipped limits, and a 429 would be counted as an error). One account with 2,000 library pictures and 30 jobs,
one API token. Then bench/load_client.py (its own process, aiohttp, one keep-alive connection per client):

1. `/ping`, 64 clients (the limit: the same server's cheapest answer, same generator);
2. `GET /api/v1/me` alone with the bearer token, 64 clients (the figure issue 22 measured before: 0.16);
3. the reads, 64 clients: the mix below without its write — the authenticated reads the target is about;
4. the mix, 64 clients for 30 s: /me, the library (a page, a word search), jobs, collections, and a write
   (a collection created then deleted) — reads and writes together.

ratio = reads requests/s / `/ping` requests/s (≥ 0.5: issue 22 sets it for authenticated reads; /me alone is
too cheap to stand for them, so the reads are the mix's); also required, of the mix with its writes: p99 <
250 ms, no timeouts, no errors. The percentiles are of requests, as requests/s counts them: a write's two
requests are two samples (until 2026-12-07 the pair was one sample of twice the time; its own p50/p99 are
still reported as the write's `operation_*`). The mix's own ratio is reported beside it (mix_ratio).
The second part (bench/web_sessions.py) holds page sessions on the websocket on the same server.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from bench import app_server
from bench.common import ROOT, _free_port, postgres_database, print_table, write_result

TARGET = 0.5
P99_LIMIT_MS = 250.0
CLIENTS = 64
REQUEST_TIMEOUT = 5.0  # seconds; a request slower than this counts as a timeout
MIX = [["me", 3], ["library", 2], ["search", 2], ["jobs", 2], ["collections", 1], ["write", 1]]
READS = [op for op in MIX if op[0] != "write"]
ASSETS = 2000
# Far above what 64 clients can send in the run: the bench measures the server, not the limiter's refusals.
RAISED_LIMITS = {"API_RATE_LIMIT": "10000000/minute", "API_RATE_LIMIT_ADDRESS": "10000000/minute",
                 "API_RATE_LIMIT_ANON": "10000000/minute"}




def _seed(url: str, database_url: str) -> tuple[str, str, int]:
    """(bearer token, session cookie, workspace id) of a new account with a library and some jobs."""
    import httpx
    from sqlalchemy import create_engine, text

    from bench.library import insert_assets
    from tests.e2e.helpers import Account, api_login, register

    account = Account("load@atelier-bench.io", "a steady stream of requests", "Load")
    register(url, account)
    cookie = api_login(url, account)
    answer = httpx.post(f"{url}/api/v1/tokens", json={"name": "web load"}, cookies={"atelier_session": cookie},
                        headers={"Origin": url}, timeout=10)
    answer.raise_for_status()
    token = answer.json()["token"]
    engine = create_engine(database_url)
    with engine.connect() as conn:
        workspace_id = conn.execute(text('SELECT personal_workspace_id FROM "user" WHERE email = :e'),
                                    {"e": account.email}).scalar_one()
    insert_assets(engine, workspace_id, ASSETS)
    from sqlmodel import Session

    from app.models import Job

    with Session(engine) as session:
        session.add_all(Job(id=f"bench-{n:04d}", kind="thumbnail", workspace_id=workspace_id, status="succeeded",
                            progress=100, message="Done") for n in range(30))
        session.commit()
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    if engine.dialect.name == "postgresql":  # ids were given explicitly: move the sequence past them
        with engine.begin() as conn:
            conn.execute(text("SELECT setval(pg_get_serial_sequence('asset', 'id'), (SELECT max(id) FROM asset))"))
    engine.dispose()
    return token, cookie, workspace_id


PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def drive(url: str, mix: list, seconds: float, headers: dict, clients: int = CLIENTS) -> dict:
    """Run bench/load_client.py in its own process and return its figures."""
    from bench.library import SUBJECTS

    plan = {"url": url, "clients": clients, "seconds": seconds, "timeout": REQUEST_TIMEOUT, "headers": headers,
            "mix": mix, "words": list(SUBJECTS[:8])}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(plan, handle)
    try:
        done = subprocess.run([sys.executable, "-m", "bench.load_client", handle.name], cwd=ROOT, check=True,
                              capture_output=True, text=True, timeout=seconds + 120)
    finally:
        os.unlink(handle.name)
    return summarize(json.loads(done.stdout))


def _pct(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def summarize(raw: dict) -> dict:
    every = sorted(ms for values in raw["latencies"].values() for ms in values)
    per_op = {op: {"count": len(v), "p50_ms": _pct(sorted(v), 0.5), "p99_ms": _pct(sorted(v), 0.99)}
              for op, v in sorted(raw["latencies"].items())}
    for op, totals in raw.get("operations", {}).items():  # a write's two requests, back to back, as one wait
        per_op[op].update(operations=len(totals), operation_p50_ms=_pct(sorted(totals), 0.5),
                          operation_p99_ms=_pct(sorted(totals), 0.99))
    errors: dict[str, int] = {}
    for error in raw["errors"]:
        errors[error] = errors.get(error, 0) + 1
    return {"requests": raw["requests"], "rps": round(raw["requests"] / raw["elapsed"], 1),
            "p50_ms": _pct(every, 0.5), "p95_ms": _pct(every, 0.95), "p99_ms": _pct(every, 0.99),
            "max_ms": every[-1] if every else 0.0, "timeouts": raw["timeouts"], "errors": errors, "per_op": per_op}


def _line(name: str, figures: dict) -> str:
    return (f"  {name:<6} {figures['rps']:8.1f} req/s  p50 {figures['p50_ms']:6.1f}  p95 {figures['p95_ms']:6.1f}  "
            f"p99 {figures['p99_ms']:6.1f} ms  timeouts {figures['timeouts']}  "
            f"errors {sum(figures['errors'].values())}")


def run(args) -> list[dict]:

    print(f"web_load: {args.clients} clients; /ping {args.ping_seconds} s, /me {args.me_seconds} s, "
          f"reads {args.reads_seconds} s, mix {args.seconds} s")
    tmp, data_dir, web_dir, log_path = app_server.server_dirs("atelier-bench-web-")
    with ExitStack() as stack:
        if args.postgres:
            database_url = stack.enter_context(
                postgres_database(os.environ.get("BENCH_PG_ADMIN_URL", PG_ADMIN_URL)))
            if database_url is None:
                raise SystemExit("--postgres: no PostgreSQL server answers on 127.0.0.1:5432")
        else:
            database_url = f"sqlite:///{data_dir / 'atelier.db'}"
        return _run_server(args, tmp, data_dir, web_dir, log_path, database_url)


def _run_server(args, tmp: Path, data_dir: Path, web_dir: Path, log_path: Path, database_url: str) -> list[dict]:
    from tests.e2e.conftest import _stop

    port = _free_port()
    url = f"http://localhost:{port}"
    extra = {"DATABASE_URL": database_url} if args.postgres else {}
    # No RQ worker: nothing here needs one, and the sessions part plays the worker's side itself (the reaper
    # would otherwise settle its "processing" pictures).
    proc = app_server.start(port, data_dir, web_dir, log_path,
                            {**RAISED_LIMITS, "WORKERS": "0", **extra, **dict(args.env)})
    results = []
    try:
        started = time.perf_counter()
        app_server.wait_ready(proc, url, log_path, 600, without_workers=True)
        print(f"  app ready in {time.perf_counter() - started:.0f} s (log: {log_path})")
        token, cookie, workspace_id = _seed(url, database_url)
        bearer = {"Authorization": f"Bearer {token}"}
        drive(url, [["ping", 1]], 3, {}, args.clients)  # warm-up: imports, SQLite pages, connection pools
        drive(url, MIX, 3, bearer, args.clients)
        ping = drive(url, [["ping", 1]], args.ping_seconds, {}, args.clients)
        print(_line("/ping", ping))
        me = drive(url, [["me", 1]], args.me_seconds, bearer, args.clients) if args.me_seconds else None
        if me:
            print(_line("/me", me))
        reads = drive(url, READS, args.reads_seconds, bearer, args.clients)
        print(_line("reads", reads))
        mix = drive(url, MIX, args.seconds, bearer, args.clients)
        print(_line("mix", mix))
        for op, figures in mix["per_op"].items():
            pair = (f"  (the pair: p50 {figures['operation_p50_ms']:6.1f}  p99 {figures['operation_p99_ms']:6.1f} ms)"
                    if "operations" in figures else "")
            print(f"         {op:<12} {figures['count']:6d}  p50 {figures['p50_ms']:6.1f}  "
                  f"p99 {figures['p99_ms']:6.1f} ms{pair}")
        ratio = reads["rps"] / ping["rps"]
        clean = all(run["timeouts"] == 0 and not run["errors"] for run in (reads, mix)) and \
            mix["p99_ms"] < P99_LIMIT_MS
        name = "web_load_api_postgres" if args.postgres else "web_load_api"
        result = write_result(name, ratio if clean else 0.0, TARGET, clients=args.clients,
                              seconds=args.seconds, ping=ping, me=me, reads=reads, mix=mix, mix_weights=dict(MIX),
                              p99_limit_ms=P99_LIMIT_MS, raw_ratio=round(ratio, 3),
                              mix_ratio=round(mix["rps"] / ping["rps"], 3),
                              me_ratio=round(me["rps"] / ping["rps"], 3) if me else None)
        results.append(result)
        if args.sessions:
            from bench.web_sessions import hold_sessions

            results.append(hold_sessions(url, data_dir, database_url, log_path, proc.pid, args.sessions, cookie,
                                         workspace_id))
    finally:
        _stop(proc)
        app_server.keep_web(web_dir)
        if args.keep_log:
            shutil.copy(log_path, args.keep_log)
        shutil.rmtree(tmp, ignore_errors=True)
    return results


def main() -> list[dict]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--ping-seconds", type=float, default=15)
    parser.add_argument("--me-seconds", type=float, default=15, help="0 skips the /me-only run")
    parser.add_argument("--reads-seconds", type=float, default=15)
    parser.add_argument("--sessions", type=int, default=200, help="websocket page sessions (0 skips that part)")
    parser.add_argument("--postgres", action="store_true", help="on a fresh database of the local PostgreSQL "
                        "(BENCH_PG_ADMIN_URL, default postgres@127.0.0.1:5432) instead of SQLite")
    parser.add_argument("--keep-log", default="", help="copy the server's log here")
    parser.add_argument("--env", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="an extra setting for the server (for example --env GRANIAN_WORKERS 1)")
    args = parser.parse_args()
    results = run(args)
    print_table(results)
    return results


if __name__ == "__main__":
    main()
