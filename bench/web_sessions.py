"""Second part of bench/web_load.py: page sessions on the websocket (/_event) following live job progress.

On the server the first part started (state in Redis, two granian workers), bench/session_client.py opens N
Assets-page sessions of the bench account in its own process (python-socketio speaking Reflex's protocol; no
browser). Some of the account's pictures are "processing", so every page follows the workspace's jobs
(state/assets.py `follow_jobs` on state/live.follow_jobs: one Redis subscription per workspace per backend process
fanned out to its pages, a 0.1 s settle, then the count and the cards the message names read in a thread, outside
the state lock).
No RQ worker runs: this process plays the worker's side with the functions a worker calls — a picture's row
leaves "processing", then `app.services.jobs.progress()` updates the job row and publishes the change — once a
round. Figures:

- delay: from the publish to the moment each session receives the delta with the new `processing_count`
  (wall clock, one machine), over every session and round; it includes the follower's 0.1 s settle;
- memory per session: the growth of the app's processes (PSS, so shared pages count once) and of Redis (its
  `used_memory`: page state lives there) from before the sessions opened to all of them following, / N.

ratio = (session, round) updates delivered / expected (≥ 1.0: every session saw every change).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.common import ROOT, reset_clients, write_result

ROUNDS = 10
ROUND_SECONDS = 3.0
CONNECT_TIMEOUT = 120.0
JOB_ID, RQ_ID = "bench-follow", "bench-follow-1"


def _redis_url(log_path: Path) -> str:
    found = re.search(r"embedded Redis \(pid \d+\) on (redis://\S+)", log_path.read_text(errors="replace"))
    if not found:
        raise SystemExit(f"no embedded Redis in {log_path}")
    return found.group(1)


def _app_memory(root_pid: int) -> int:
    """Bytes of PSS of the app's processes (run.py's descendants but Redis, counted on its own)."""
    import psutil

    total = 0
    for proc in psutil.Process(root_pid).children(recursive=True):
        try:
            if "redis-server" in proc.name():
                continue
            total += proc.memory_full_info().pss
        except psutil.Error:
            continue
    return total


def _prepare(workspace_id: int, processing: int) -> int:
    """`processing` pictures processing (and a running job); returns how many are processing."""
    from sqlalchemy import text

    from app.db import session_scope
    from app.models import Job

    with session_scope() as session:
        session.execute(text("UPDATE asset SET status = 'processing' WHERE id IN (SELECT id FROM asset "
                             "WHERE workspace_id = :w AND deleted_at IS NULL ORDER BY id LIMIT :n)"),
                        {"w": workspace_id, "n": processing})
        session.add(Job(id=JOB_ID, kind="thumbnail", workspace_id=workspace_id, status="running", rq_id=RQ_ID,
                        message="Making thumbnails"))
        return session.execute(text("SELECT count(*) FROM asset WHERE workspace_id = :w AND status = 'processing' "
                                    "AND deleted_at IS NULL"), {"w": workspace_id}).scalar_one()


def _finish_one(workspace_id: int) -> None:
    from sqlalchemy import text

    from app.db import session_scope

    with session_scope() as session:
        session.execute(text("UPDATE asset SET status = 'ready' WHERE id = (SELECT min(id) FROM asset WHERE "
                             "workspace_id = :w AND status = 'processing' AND deleted_at IS NULL)"),
                        {"w": workspace_id})


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1) if ordered else 0.0


def hold_sessions(url: str, data_dir: Path, database_url: str, log_path: Path, root_pid: int, sessions: int,
                  cookie: str, workspace_id: int) -> dict:
    import redis

    from app.services import jobs

    print(f"web_sessions: {sessions} Assets-page sessions on /_event following job progress, {ROUNDS} rounds")
    redis_url = _redis_url(log_path)
    os.environ.update({"APP_ENV": "test", "DATA_DIR": str(data_dir), "REDIS_URL": redis_url,
                       "DATABASE_URL": database_url})
    reset_clients()
    start_count = _prepare(workspace_id, ROUNDS + 5)
    store = redis.Redis.from_url(redis_url)
    app_before, redis_before = _app_memory(root_pid), int(store.info("memory")["used_memory"])
    plan = {"url": url, "cookie": cookie, "sessions": sessions, "path": "/assets", "connect_timeout": CONNECT_TIMEOUT}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(plan, handle)
    client = subprocess.Popen([sys.executable, "-m", "bench.session_client", handle.name], cwd=ROOT, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    opening = threading.Event()

    def keep_alive() -> None:
        # A page stops following after 30 quiet seconds; a job's progress ticks keep it on while tabs open.
        while not opening.wait(20):
            jobs.progress(JOB_ID, rq_id=RQ_ID, percent=1, message="Making thumbnails")

    ticker = threading.Thread(target=keep_alive, daemon=True)
    ticker.start()
    try:
        started = time.monotonic()
        ready = json.loads(client.stdout.readline() or "{}")
        opened_in = time.monotonic() - started
        opening.set()
        ticker.join()
        print(f"  {ready.get('ready', 0)} of {sessions} sessions following after {opened_in:.0f} s"
              f"{'; failed: ' + '; '.join(ready['failed'][:3]) if ready.get('failed') else ''}")
        time.sleep(2)
        app_after, redis_after = _app_memory(root_pid), int(store.info("memory")["used_memory"])
        # What following costs Redis in connections: one per page before the hub, one per backend process after.
        channel = jobs.workspace_channel(workspace_id)
        subscriptions = {"pubsub_clients": len(store.client_list(_type="pubsub")),
                         "channel_subscribers": int(dict(store.pubsub_numsub(channel)).get(channel.encode(), 0))}
        published = {}
        for n in range(1, ROUNDS + 1):
            _finish_one(workspace_id)
            published[start_count - n] = time.time()
            jobs.progress(JOB_ID, rq_id=RQ_ID, percent=10 * n, message=f"{n} of {ROUNDS}")
            time.sleep(ROUND_SECONDS)
        client.stdin.write("done\n")
        client.stdin.flush()
        seen = json.loads(client.stdout.readline() or "{}")
    finally:
        opening.set()
        if client.poll() is None:
            try:
                client.wait(timeout=60)
            except subprocess.TimeoutExpired:
                client.kill()
        os.unlink(handle.name)
    delays, missed = [], 0
    for per_session in seen.get("seen", {}).values():
        shown = {int(count): when for count, when in per_session.items()}
        for count, at in published.items():
            # The first delta showing this change or a later one: a page that re-read after two rounds skips one.
            when = min((w for c, w in shown.items() if c <= count and w >= at), default=None)
            if when is None:
                missed += 1
            else:
                delays.append((when - at) * 1000)
    expected = sessions * ROUNDS
    following = ready.get("ready", 0)
    figures = {
        "sessions": sessions, "following": following, "opened_in_s": round(opened_in, 1), "rounds": ROUNDS,
        "delay_ms": {"p50": _pct(delays, 0.5), "p95": _pct(delays, 0.95), "p99": _pct(delays, 0.99),
                     "max": _pct(delays, 1.0)},
        "missed_updates": missed, "updates_received": seen.get("updates", 0),
        "app_kb_per_session": round((app_after - app_before) / 1024 / max(1, following), 1),
        "redis_kb_per_session": round((redis_after - redis_before) / 1024 / max(1, following), 1),
        "app_mb_before": round(app_before / 2**20, 1), "app_mb_after": round(app_after / 2**20, 1),
        **subscriptions,
        "open_failures": ready.get("failed", [])[:10],
    }
    print(f"  delay publish → delta p50 {figures['delay_ms']['p50']} ms, p95 {figures['delay_ms']['p95']} ms, "
          f"p99 {figures['delay_ms']['p99']} ms, max {figures['delay_ms']['max']} ms; missed {missed} of {expected}")
    print(f"  Redis: {subscriptions['pubsub_clients']} pub/sub connections, {subscriptions['channel_subscribers']} "
          "subscribers of the workspace's channel")
    print(f"  memory per session: app {figures['app_kb_per_session']} KB (PSS), Redis "
          f"{figures['redis_kb_per_session']} KB")
    name = "web_load_sessions" + ("_postgres" if database_url.startswith("postgresql") else "")
    return write_result(name, len(delays) / expected if expected else 0.0, 1.0, **figures)
