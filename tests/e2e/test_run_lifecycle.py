"""`make run`'s script: starts everything, Ctrl-C stops everything, and a second start works."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from tests.e2e.helpers import seed_web_dir

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 240) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"run.py exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/health/ready", timeout=5) as response:
                if response.status == 200:
                    return {"status": response.status}
        except OSError:
            pass
        time.sleep(1)
    raise AssertionError("the app did not become ready in time")


def start(data_dir: Path, port: int, web_dir: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "PUBLIC_URL",
                                                           "ALLOWED_ORIGINS")}
    env.update({"PORT": str(port), "DATA_DIR": str(data_dir), "APP_ENV": "development",
                "REFLEX_WEB_WORKDIR": str(web_dir)})
    log = open(data_dir / f"run-{time.time_ns()}.log", "w")  # noqa: SIM115 (closed with the process)
    # SIGINT ignored on entry, as a clean-clone `make test` under a non-interactive shell starts it:
    # Ctrl-C must still stop everything.
    return subprocess.Popen([sys.executable, "scripts/run.py"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))


def _cmdline(proc: psutil.Process) -> list[str]:
    try:
        return proc.cmdline()
    except psutil.Error:  # gone, or a zombie not yet reaped by run.py
        return []


def _run_and_stop(url: str, proc: subprocess.Popen, *, replace_a_worker: bool, attempt: int) -> None:
    wait_ready(url, proc)
    family = psutil.Process(proc.pid).children(recursive=True)
    names = " ".join(" ".join(p.cmdline()) for p in family)
    assert "redis-server" in names and "jobs.worker" in names and "reflex" in names, names
    if replace_a_worker:  # a worker that dies (generation jobs run inside it) is replaced
        dead = next(p for p in psutil.Process(proc.pid).children() if "jobs.worker" in p.cmdline())
        left_behind = dead.children(recursive=True)  # RQ's scheduler, forked by the worker
        dead.kill()
        deadline = time.time() + 30
        while not [p for p in psutil.Process(proc.pid).children()
                   if p.pid != dead.pid and p not in family and "jobs.worker" in _cmdline(p)]:
            assert time.time() < deadline, "no worker replaced the one that died"
            time.sleep(0.5)
        _, orphans = psutil.wait_procs(left_behind, timeout=10)
        assert not orphans, f"the dead worker's children outlived it: {orphans}"
        family = psutil.Process(proc.pid).children(recursive=True)
    os.kill(proc.pid, signal.SIGINT)  # what Ctrl-C delivers to the foreground process
    assert proc.wait(timeout=60) == 0
    _gone, alive = psutil.wait_procs(family, timeout=30)
    assert not alive, f"still running after Ctrl-C (attempt {attempt + 1}): {alive}"
    with pytest.raises(OSError):
        urllib.request.urlopen(url + "/health", timeout=2)


def test_ctrl_c_stops_everything_and_a_second_run_works(tmp_path, server_web_dir):
    port = free_port()
    url = f"http://localhost:{port}"
    # A web folder of its own (a `make run` in this checkout keeps .web), seeded with the packages the journeys'
    # app server installed when it ran first: a clean clone ran a second full `bun install` here.
    web_dir = tmp_path / "web"
    seed_web_dir(server_web_dir, web_dir)
    for attempt in range(2):
        proc = start(tmp_path, port, web_dir)
        try:
            _run_and_stop(url, proc, replace_a_worker=attempt == 0, attempt=attempt)
        finally:  # a failed check must not leave the app running into the next tests
            if proc.poll() is None:
                for child in psutil.Process(proc.pid).children(recursive=True):
                    child.kill()
                os.killpg(proc.pid, signal.SIGKILL)
    # Data survived the restart: the SQLite file and the embedded Redis files are kept.
    assert (tmp_path / "atelier.db").exists() and (tmp_path / "redis").is_dir()
