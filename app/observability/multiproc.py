"""The multi-process folder of prometheus-client: made empty at start, cleaned of dead processes' live gauges.

Apart from the metric definitions (app.observability.metrics) because the supervisor (scripts/run.py) prepares the
folder before it exists and must not itself define metrics: each definition opens a file in the folder.
"""

from __future__ import annotations

import glob
import os
import re
import socket
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# prometheus-client's file names: what a scrape reads from the folders beside ours.
_SAMPLE_FILE = re.compile(r"(counter|histogram|summary|gauge_[a-z]+)_\d+\.db")


def folder_for(data_dir: Path) -> Path:
    """DATA_DIR/metrics/<host>: one folder per machine or container. Compose shares DATA_DIR between the app
    and worker containers, whose process ids overlap (a pid names a file) and whose supervisors each empty
    their folder at start."""
    return data_dir / "metrics" / re.sub(r"[^A-Za-z0-9._-]", "_", socket.gethostname() or "host")


def sample_files() -> list[str]:
    """Every process's sample files: our folder, and beside it the folders of the other hosts sharing DATA_DIR
    (scripts/run.py's layout, DATA_DIR/metrics/<host>)."""
    path = multiproc_dir()
    if not path:
        return []
    files = glob.glob(os.path.join(path, "*.db"))
    parent = Path(path).parent
    if parent.name == "metrics":
        files += [str(f) for f in parent.glob("*/*.db") if f.parent != Path(path) and _SAMPLE_FILE.fullmatch(f.name)]
    return files


def multiproc_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def prepare_multiproc_dir(path: str) -> None:
    """Empty (or make) the folder: samples of processes from an earlier run must not be counted again."""
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith(".db"):
            os.remove(os.path.join(path, name))


def process_exited(pid: int | None = None) -> None:
    """Drop a dead process's live gauges (its counters stay: they are history)."""
    path = multiproc_dir()
    if path:
        from prometheus_client.multiprocess import mark_process_dead

        mark_process_dead(pid or os.getpid(), path)
