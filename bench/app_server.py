"""The app started for a benchmark the way `make run` starts it (scripts/run.py), in a fresh temporary folder.

Shared by bench.library_page and bench.web_load: the folders (with a copy of `.web` so a run skips a full
`bun install`, as tests/e2e does), the server process, its readiness, and keeping a newly installed `.web`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT


def server_dirs(prefix: str) -> tuple[Path, Path, Path, Path]:
    """(temporary folder, data dir, web dir, server log) for one run."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    data_dir, web_dir, log_path = tmp / "data", tmp / "web", tmp / "server.log"
    data_dir.mkdir()
    if (ROOT / ".web" / "node_modules").is_dir():  # as tests/e2e: skip a full `bun install`
        shutil.copytree(ROOT / ".web", web_dir, symlinks=True,
                        ignore=lambda folder, names: ["build"] if Path(folder) == ROOT / ".web" else [])
    return tmp, data_dir, web_dir, log_path


def start(port: int, data_dir: Path, web_dir: Path, log_path: Path, extra: dict | None = None) -> subprocess.Popen:
    from tests.e2e.conftest import _server_env

    env = {**_server_env(port, data_dir, web_dir), **(extra or {})}
    with open(log_path, "wb") as log:
        return subprocess.Popen([sys.executable, str(ROOT / "scripts" / "run.py")], cwd=ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def wait_ready(proc: subprocess.Popen, url: str, log_path: Path, seconds: float,
               *, without_workers: bool = False) -> None:
    """/health/ready answers 200 — or, `without_workers`, names nothing down but the RQ workers."""
    import httpx

    deadline = time.monotonic() + seconds
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"scripts/run.py exited with {proc.returncode}; see {log_path}")
        try:
            answer = httpx.get(f"{url}/health/ready", timeout=5)
            if answer.status_code == 200 or (
                    without_workers and set(answer.json().get("down", ["?"])) <= {"workers"}):
                return
        except (httpx.HTTPError, ValueError):
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"not ready after {seconds:.0f} s; see {log_path}")
        time.sleep(1)


def keep_web(web_dir: Path) -> None:
    """A `.web` this run installed is kept (git ignores it) so the next run, and tests/e2e, skip the install."""
    if not (ROOT / ".web" / "node_modules").is_dir() and (web_dir / "node_modules").is_dir():
        shutil.copytree(web_dir, ROOT / ".web", symlinks=True, dirs_exist_ok=True)
