"""The health checks the image and the compose file run, run here against real processes."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _check(argv: list[str], env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=ROOT, env=env or dict(os.environ), capture_output=True, text=True, timeout=60,
                          check=False)


def test_the_worker_check_follows_a_real_worker(env):
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    test = compose["services"]["worker"]["healthcheck"]["test"]
    assert test[0] == "CMD"
    argv = [sys.executable if part == "python" else part for part in test[1:]]
    before = _check(argv)
    assert before.returncode == 1 and "no live worker" in before.stderr

    worker = subprocess.Popen([sys.executable, "-m", "jobs.worker"], cwd=ROOT, env=dict(os.environ),
                              start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while (during := _check(argv)).returncode != 0 and time.monotonic() < deadline:
            assert worker.poll() is None, "the worker stopped"
            time.sleep(0.5)
        assert during.returncode == 0 and "1 live worker" in during.stdout, during.stderr
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
    after = _check(argv)
    assert after.returncode == 1 and "no live worker" in after.stderr


class _Health(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()
        self.wfile.write(json.dumps({"status": "ok"}).encode())

    def log_message(self, *_args):
        pass


def test_the_image_check_asks_the_port_the_app_serves(tmp_path):
    text = (ROOT / "Dockerfile").read_text()
    command = json.loads(re.search(r"^HEALTHCHECK .*\\\n\s+CMD (\[.*\])$", text, re.M).group(1))
    argv = [sys.executable if part == "python" else part for part in command]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert _check(argv, dict(os.environ, PORT=str(port))).returncode == 0
    finally:
        server.shutdown()
        server.server_close()
    assert _check(argv, dict(os.environ, PORT=str(port))).returncode != 0  # nothing listening: unhealthy
