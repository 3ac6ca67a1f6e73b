"""Network namespaces for the scale-out test: one bridge, one namespace per node, a veth pair each.

Every name carries the creating process's id (`atsc<pid>...`), so a run that was killed before its
cleanup is recognised by the next one (its pid is gone) and swept away before anything is made; two runs
at once never share a name. Only `ip` (iproute2) is used; the test must run as root.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

PREFIX = "atsc"  # links and namespaces this module made, followed by the maker's pid


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check, timeout=20)


def unavailable_reason() -> str | None:
    """Why network namespaces cannot be made here, or None when they can (tried for real)."""
    if shutil.which("ip") is None:
        return "iproute2's `ip` is not installed"
    if os.geteuid() != 0:
        return "network namespaces need root (this run is not root)"
    probe = f"{PREFIX}{os.getpid()}-probe"
    made = _ip("netns", "add", probe, check=False)
    if made.returncode != 0:
        return f"`ip netns add` is not allowed here: {made.stderr.strip()[:200]}"
    _ip("netns", "del", probe, check=False)
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _owner(name: str) -> int | None:
    match = re.match(rf"{PREFIX}(\d+)", name)
    return int(match.group(1)) if match else None


def _kill_namespace_processes(netns: str) -> None:
    pids = _ip("netns", "pids", netns, check=False).stdout.split()
    for pid in pids:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


def sweep_leftovers() -> list[str]:
    """Remove the namespaces and bridges of earlier runs whose process is gone; returns their names."""
    removed = []
    for line in _ip("netns", "list", check=False).stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        owner = _owner(name)
        if owner is not None and not _alive(owner):
            _kill_namespace_processes(name)
            _ip("netns", "del", name, check=False)
            removed.append(name)
    for line in _ip("-o", "link", "show", check=False).stdout.splitlines():
        parts = line.split(":")
        name = parts[1].strip().split("@")[0] if len(parts) > 1 else ""
        owner = _owner(name)
        if owner is not None and not _alive(owner):
            _ip("link", "del", name, check=False)
            removed.append(name)
    for folder in Path(tempfile.gettempdir()).glob(f"{PREFIX}*-*"):  # PostgreSQL's folder, made outside pytest's
        owner = _owner(folder.name)
        if owner is not None and not _alive(owner):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(str(folder))
    return removed


def _free_subnet() -> ipaddress.IPv4Network:
    """A /24 in 10.231.0.0/16 that no route on this machine touches (our own earlier runs included)."""
    routes = _ip("-4", "route", "show", "table", "all", check=False).stdout
    taken = []
    for token in re.findall(r"\d+\.\d+\.\d+\.\d+(?:/\d+)?", routes):
        try:
            taken.append(ipaddress.ip_network(token, strict=False))
        except ValueError:
            pass
    start = os.getpid() % 200
    for offset in range(250):
        candidate = ipaddress.ip_network(f"10.231.{(start + offset) % 250 + 1}.0/24")
        if not any(candidate.overlaps(net) for net in taken if net.prefixlen > 0):
            return candidate
    raise RuntimeError("no free /24 in 10.231.0.0/16 for the test's bridge")


class Lab:
    """A bridge in this namespace (the test's own address on it is `.1`) and nodes hanging off it."""

    def __init__(self, log_dir: Path):
        self.tag = f"{PREFIX}{os.getpid()}"
        self.log_dir = log_dir
        self.bridge = self.tag
        self.subnet = _free_subnet()
        self.host_ip = str(self.subnet.network_address + 1)
        self.nodes: dict[str, str] = {}
        self.procs: list[tuple[str, subprocess.Popen]] = []
        self.cleanup_paths: list[Path] = []  # folders to remove at close (made outside pytest's tmp)
        _ip("link", "add", self.bridge, "type", "bridge")
        _ip("addr", "add", f"{self.host_ip}/24", "dev", self.bridge)
        _ip("link", "set", self.bridge, "up")

    def netns(self, node: str) -> str:
        return f"{self.tag}-{node}"

    def add(self, node: str) -> str:
        """A namespace with loopback up and one interface on the bridge; returns its address."""
        index = len(self.nodes) + 1
        address = str(self.subnet.network_address + 10 + index)
        netns, outside, inside = self.netns(node), f"{self.tag}v{index}", f"{self.tag}p{index}"
        _ip("netns", "add", netns)
        self.nodes[node] = address  # recorded first: close() removes a half-made node too
        _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
        _ip("link", "set", outside, "master", self.bridge)
        _ip("link", "set", outside, "up")
        _ip("link", "set", inside, "netns", netns)
        _ip("-n", netns, "link", "set", inside, "name", "eth0")
        _ip("-n", netns, "addr", "add", f"{address}/24", "dev", "eth0")
        _ip("-n", netns, "link", "set", "eth0", "up")
        _ip("-n", netns, "link", "set", "lo", "up")
        return address

    def start(self, node: str, argv: list[str], *, env: dict[str, str], cwd: Path | None = None,
              log_name: str | None = None) -> subprocess.Popen:
        """A process inside the node's namespace, in a process group of its own (`ip netns exec` execs it)."""
        log_path = self.log_dir / f"{log_name or node}.log"
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(["ip", "netns", "exec", self.netns(node), *argv], env=env, cwd=cwd,
                                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append((node, proc))
        return proc

    def kill(self, proc: subprocess.Popen) -> None:
        """SIGKILL a process and everything in its group: the node's program dies as in a crash."""
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)

    def log_tail(self, name: str, lines: int = 40) -> str:
        try:
            return "\n".join((self.log_dir / f"{name}.log").read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def close(self) -> None:
        for _node, proc in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 5
        for _node, proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for index, node in enumerate(self.nodes, start=1):
            _kill_namespace_processes(self.netns(node))  # whatever a program left behind
            # Deleting one end removes the pair now; a namespace's deletion would take it along only later.
            _ip("link", "del", f"{self.tag}v{index}", check=False)
            _ip("netns", "del", self.netns(node), check=False)
        _ip("link", "del", self.bridge, check=False)
        for path in self.cleanup_paths:
            shutil.rmtree(path, ignore_errors=True)
