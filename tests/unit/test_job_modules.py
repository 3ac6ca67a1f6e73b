"""One list of job functions (app/queue.py): each resolves to a function, the worker preloads them all, every module
under jobs/ that holds a job is on it, and nothing enqueues a job function by a name from elsewhere."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
import sys
from pathlib import Path

import jobs
from app.queue import KINDS, UNTRACKED, inline_functions, job_functions, job_modules

ROOT = Path(__file__).resolve().parents[2]
# Modules under jobs/ that hold no job function, each with what it is instead.
NOT_JOB_MODULES = {
    "jobs.worker": "the worker process itself",
    "jobs.runner": "run_tracked, the wrapper tracked jobs run in",
    "jobs.periodic": "periodic work the worker's reaper thread calls; it enqueues, it is not enqueued",
    "jobs.healthcheck": "a container's health command (python -m jobs.healthcheck)",
}
JOB_NAME = re.compile(r"jobs\.[a-z_]+\.[a-z_]+")


def test_every_job_function_exists():
    assert set(job_functions()) == {*(kind.func for kind in KINDS.values()), *UNTRACKED.values()}
    for func in job_functions():
        module, name = func.rsplit(".", 1)
        assert callable(getattr(importlib.import_module(module), name)), func


def test_every_module_under_jobs_is_on_the_list_or_says_why_not():
    found = {f"jobs.{info.name}" for info in pkgutil.iter_modules(jobs.__path__)}
    unlisted = found - set(job_modules()) - set(NOT_JOB_MODULES)
    assert unlisted == set(), f"add their job functions to app/queue.py (KINDS or UNTRACKED): {unlisted}"
    assert set(job_modules()) <= found
    assert not set(job_modules()) & set(NOT_JOB_MODULES)


def _job_names_in_source() -> dict[str, str]:
    """Every string literal in app/ and jobs/ that is a whole dotted job name, with where it is."""
    found = {}
    for folder in ("app", "jobs"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and JOB_NAME.fullmatch(node.value):
                    found[node.value] = f"{path.relative_to(ROOT)}:{node.lineno}"
    return found


def test_job_functions_are_named_only_on_the_list():
    names = _job_names_in_source()
    assert "jobs.email.deliver_email" in names  # the scan reads app/queue.py's literals
    outside = {name: where for name, where in names.items() if name not in job_functions()}
    assert outside == {}, "a job enqueued by a name that is not in app/queue.py (the worker would not preload it)"
    # Each name is written once, in app/queue.py; everything else refers to KINDS or UNTRACKED.
    elsewhere = {name: where for name, where in names.items() if not where.startswith("app/queue.py:")}
    assert elsewhere == {}


def test_inline_jobs_come_from_the_list():
    from jobs import worker

    assert worker.INLINE_JOBS == inline_functions() == {"jobs.generate.run_generation"}


def test_the_worker_preloads_every_job_module(monkeypatch):
    from jobs import worker

    for module in job_modules():
        monkeypatch.delitem(sys.modules, module, raising=False)
    worker.preload()
    assert all(module in sys.modules for module in job_modules())
