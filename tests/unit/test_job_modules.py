"""One list of job functions (app/queue.py): each resolves to a function, and the worker preloads them all."""

from __future__ import annotations

import importlib
import sys

from app.queue import KINDS, UNTRACKED, job_modules


def test_every_job_function_exists():
    for func in (*(kind.func for kind in KINDS.values()), *UNTRACKED):
        module, name = func.rsplit(".", 1)
        assert callable(getattr(importlib.import_module(module), name)), func


def test_the_worker_preloads_every_job_module(monkeypatch):
    from jobs import worker

    for module in job_modules():
        monkeypatch.delitem(sys.modules, module, raising=False)
    worker.preload()
    assert all(module in sys.modules for module in job_modules())
