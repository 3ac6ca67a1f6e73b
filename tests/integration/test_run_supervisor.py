"""scripts/run.py as a supervisor, with real processes: Ctrl-C with SIGINT inherited as ignored, an
embedded Redis killed and restarted in place. `--no-web` keeps each case to seconds (no Reflex build);
tests/e2e/test_run_lifecycle.py covers the same script with the app."""

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import redis
from rq import Queue, Worker

from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]




class Supervisor:
    def __init__(self, data_dir: Path):
        env = {k: v for k, v in os.environ.items()
               if k not in ("REDIS_URL", "DATABASE_URL", "PUBLIC_URL", "ALLOWED_ORIGINS")}
        env.update({"DATA_DIR": str(data_dir), "APP_ENV": "development", "WORKERS": "1"})
        self.log = data_dir / "run.log"
        with open(self.log, "wb") as out:
            # SIGINT ignored on entry, as a non-interactive shell's background job (and some supervisors)
            # start a program: Python then installs no KeyboardInterrupt handler of its own.
            self.proc = subprocess.Popen(
                [sys.executable, str(ROOT / "scripts" / "run.py"), "--no-web"], cwd=ROOT, env=env,
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
        self.url = wait_for(self._redis_url, 30, "the embedded Redis")
        self.redis = redis.Redis.from_url(self.url)

    def _redis_url(self) -> str | None:
        assert self.proc.poll() is None, self.log.read_text()
        found = re.search(r"embedded Redis \(pid \d+\) on (\S+)", self.log.read_text())
        return found and found.group(1)

    def workers(self) -> list[Worker]:
        try:
            return Worker.all(connection=self.redis)
        except redis.ConnectionError:
            return []

    def family(self) -> list[psutil.Process]:
        return psutil.Process(self.proc.pid).children(recursive=True)

    def redis_server(self) -> psutil.Process | None:
        for proc in self.family():
            try:
                if "redis-server" in " ".join(proc.cmdline()):
                    return proc
            except psutil.Error:  # a zombie not yet reaped by run.py
                continue
        return None

    def kill(self) -> None:
        if self.proc.poll() is None:
            # Any of them may exit while this runs (run.py stopping them, a short-lived step ending).
            with contextlib.suppress(psutil.Error):
                for child in self.family():
                    with contextlib.suppress(psutil.Error):
                        child.kill()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


@pytest.fixture
def supervisor(tmp_path):
    started = Supervisor(tmp_path)
    yield started
    started.kill()


def test_ctrl_c_stops_everything_even_when_sigint_was_inherited_ignored(supervisor):
    wait_for(supervisor.workers, 60, "the worker to register")
    family = supervisor.family()
    assert any("jobs.worker" in " ".join(p.cmdline()) for p in family)
    assert any("redis-server" in " ".join(p.cmdline()) for p in family)
    asked = time.monotonic()
    os.kill(supervisor.proc.pid, signal.SIGINT)
    assert supervisor.proc.wait(timeout=25) == 0, supervisor.log.read_text()
    _, alive = psutil.wait_procs(family, timeout=5)
    assert not alive, f"left running after Ctrl-C: {alive}"
    print(f"\nCtrl-C -> everything stopped: {time.monotonic() - asked:.1f} s")
    assert time.monotonic() - asked < 25


def test_a_killed_embedded_redis_is_restarted_in_place_with_its_data(supervisor):
    worker = wait_for(supervisor.workers, 60, "the worker to register")[0]
    worker_pid = worker.pid
    supervisor.redis.set("atelier:test:kept", "yes")
    aof = supervisor.log.parent / "redis" / "appendonly.aof"
    # Redis writes the append-only file every second: the key is durable once it is in the file.
    wait_for(lambda: aof.is_file() and b"atelier:test:kept" in aof.read_bytes(), 10, "the AOF write")
    dead = supervisor.redis_server()
    dead.kill()
    killed = time.monotonic()
    wait_for(lambda: (p := supervisor.redis_server()) is not None and p.pid != dead.pid, 10, "a new Redis")

    def answers():
        try:
            return supervisor.redis.ping()
        except redis.ConnectionError:
            return False

    wait_for(answers, 10, "Redis to answer on the same URL")
    back_after = time.monotonic() - killed
    print(f"\nembedded Redis SIGKILL -> answering again on the same URL: {back_after:.1f} s")
    assert supervisor.redis.get("atelier:test:kept") == b"yes"
    # The worker rode out the outage (RQ retries its connection) and still takes jobs.
    job = Queue("default", connection=supervisor.redis).enqueue("os.getpid")
    wait_for(lambda: job.get_status(refresh=True) == "finished", 30, "a job after the restart")
    assert [w.pid for w in supervisor.workers()] == [worker_pid]
    assert back_after < 5, back_after
