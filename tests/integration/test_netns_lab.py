"""The scale-out test's namespace lab: nodes reach each other over the bridge, and nothing outlives a run,
not even a run that was killed before its cleanup (the next run sweeps it)."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests import netns_lab

REASON = netns_lab.unavailable_reason()
pytestmark = pytest.mark.skipif(REASON is not None, reason=f"no network namespaces here: {REASON}")


def _names() -> str:
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    return netns + links


def test_nodes_talk_over_the_bridge_and_close_removes_everything(tmp_path):
    lab = netns_lab.Lab(tmp_path)
    try:
        server_ip = lab.add("server")
        lab.add("client")
        server = lab.start("server", [sys.executable, "-m", "http.server", "--bind", server_ip, "8000"],
                           env={"PATH": "/usr/bin:/bin"})
        client = [sys.executable, "-c", f"import urllib.request; print(urllib.request.urlopen("
                  f"'http://{server_ip}:8000/', timeout=5).status)"]
        for _ in range(50):
            answer = subprocess.run(["ip", "netns", "exec", lab.netns("client"), *client], capture_output=True,
                                    text=True)
            if answer.stdout.strip() == "200":
                break
        assert answer.stdout.strip() == "200", answer.stderr[-500:]
        with socket.create_connection((server_ip, 8000), timeout=5):  # the test's own address on the bridge
            pass
    finally:
        lab.close()
    assert server.poll() is not None
    assert lab.tag not in _names()


def test_a_killed_runs_leftovers_are_swept():
    # A process that is gone: its pid names the leftovers, as a run killed with SIGKILL would leave them.
    dead = subprocess.Popen(["true"])
    dead.wait()
    tag = f"{netns_lab.PREFIX}{dead.pid}"
    subprocess.run(["ip", "netns", "add", f"{tag}-app1"], check=True)
    subprocess.run(["ip", "link", "add", tag, "type", "bridge"], check=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{tag}-pg-"))
    removed = netns_lab.sweep_leftovers()
    assert f"{tag}-app1" in removed and tag in removed and str(folder) in removed
    assert tag not in _names() and not folder.exists()
