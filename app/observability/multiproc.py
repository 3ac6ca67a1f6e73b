"""The multi-process folder of prometheus-client: made empty at start, cleaned of dead processes' live gauges.

Apart from the metric definitions (app.observability.metrics) because the supervisor (scripts/run.py) prepares the
folder before it exists and must not itself define metrics: each definition opens a file in the folder.
"""

from __future__ import annotations

import os

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


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
