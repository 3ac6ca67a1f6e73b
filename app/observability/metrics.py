"""Prometheus metrics for every process: web workers, RQ workers and their work horses.

Multi-process mode (prometheus-client): `scripts/run.py` sets PROMETHEUS_MULTIPROC_DIR (under DATA_DIR,
emptied at start) before any process imports the client, so every process writes its samples to files there
and a scrape of any web worker reads them all. Without the variable (tests, a single process) the samples
live in this process's registry.

Labels stay bounded so a default install keeps under 500 series: requests by route *template* (never the
raw path), status *class* and method (~136 routes × the 2-3 classes each answers); request latency by a coarse
area (api, reflex, frontend, ops: a histogram per template would cost ~10 series × 136 routes, thrice the
budget); jobs by kind; providers by connection name.
Queue depth, live workers and storage bytes are read at scrape time.
"""

from __future__ import annotations

import threading
import time

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from app.observability.multiproc import multiproc_dir, sample_files

prometheus_client.disable_created_metrics()  # *_created doubles the series and nobody graphs it

REGISTRY = CollectorRegistry(auto_describe=True)
LATENCY_BUCKETS = (0.025, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
JOB_BUCKETS = (0.5, 2, 10, 30, 120, 600, 1800)
PROVIDER_BUCKETS = (0.25, 1, 5, 15, 60, 240)
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})

http_requests = Counter("atelier_http_requests",
                        "HTTP requests answered, by route template, method and status class",
                        ["method", "route", "status"], registry=REGISTRY)
http_latency = Histogram("atelier_http_request_duration_seconds",
                         "Time to answer an HTTP request, by area (api, reflex, frontend, ops, unmatched)",
                         ["area"], buckets=LATENCY_BUCKETS, registry=REGISTRY)
jobs_finished = Counter("atelier_jobs", "Tracked jobs run by a worker, by kind and outcome "
                        "(succeeded, failed, canceled, retried, stale)", ["kind", "outcome"], registry=REGISTRY)
job_duration = Histogram("atelier_job_duration_seconds", "Run time of a tracked job attempt, by kind",
                         ["kind"], buckets=JOB_BUCKETS, registry=REGISTRY)
provider_calls = Counter("atelier_provider_calls", "Calls to outside AI providers, by provider and outcome "
                         "(ok or the error code)", ["provider", "outcome"], registry=REGISTRY)
provider_latency = Histogram("atelier_provider_call_duration_seconds", "Time of a provider call with its retries",
                             ["provider"], buckets=PROVIDER_BUCKETS, registry=REGISTRY)
# livemax: a process that died takes its breaker with it; any live process with an open breaker shows 1.
provider_breaker = Gauge("atelier_provider_breaker_open", "1 while a provider's circuit breaker is open "
                         "(calls fail fast), by provider", ["provider"], multiprocess_mode="livemax",
                         registry=REGISTRY)
credits_spent = Counter("atelier_credits_spent", "Credits captured from finished jobs", registry=REGISTRY)

# The storage sum is a database aggregate: computed at most this often per process, not on every scrape.
STORAGE_CACHE_SECONDS = 60.0
_storage = {"at": -1e9, "bytes": 0.0}
_storage_lock = threading.Lock()


def route_area(route: str) -> str:
    """The latency histogram's label: api, reflex (Reflex's endpoints), frontend (pages, static files), ops
    (/health, /metrics, API docs) or unmatched. Coarse on purpose: ten series per label value."""
    if route.startswith("/api/v1/"):
        return "api"
    if route in ("/ping", "/_health", "/_upload", "/_event"):
        return "reflex"
    if route in ("frontend", "unmatched"):
        return route
    return "ops"


def observe_request(*, method: str, route: str, status: int, seconds: float) -> None:
    http_requests.labels(method if method in METHODS else "OTHER", route, f"{status // 100}xx").inc()
    http_latency.labels(route_area(route)).observe(seconds)


def observe_job(*, kind: str, outcome: str, seconds: float) -> None:
    jobs_finished.labels(kind, outcome).inc()
    job_duration.labels(kind).observe(seconds)


def observe_provider(*, provider: str, outcome: str, seconds: float, breaker_open: bool) -> None:
    provider_calls.labels(provider, outcome).inc()
    provider_latency.labels(provider).observe(seconds)
    provider_breaker.labels(provider).set(1 if breaker_open else 0)


def count_credits_spent(amount: int) -> None:
    if amount > 0:
        credits_spent.inc(amount)


def storage_bytes() -> float:
    """Bytes of stored originals (the assets table's sizes), cached for STORAGE_CACHE_SECONDS."""
    with _storage_lock:
        if time.monotonic() - _storage["at"] < STORAGE_CACHE_SECONDS:
            return _storage["bytes"]
        from sqlalchemy import func, select

        from app.db import session_scope
        from app.models import Asset

        with session_scope() as session:
            total = session.execute(select(func.coalesce(func.sum(Asset.size_bytes), 0))).scalar_one()
        _storage.update(at=time.monotonic(), bytes=float(total))
        return _storage["bytes"]


def forget_storage_cache() -> None:
    with _storage_lock:
        _storage["at"] = -1e9


class ScrapeTimeCollector:
    """What is read when Prometheus asks: queue depths and live workers (Redis), storage bytes (database).

    A part that is down leaves its series out and sets atelier_scrape_error{part}; the scrape still answers.
    """

    def describe(self):
        return []

    def collect(self):
        errors = GaugeMetricFamily("atelier_scrape_error", "1 when a part could not be read at this scrape",
                                   labels=["part"])
        try:
            from app.queue import queue_depths
            from app.services import worker_pulse

            depths = queue_depths()
            live = len(worker_pulse.live_names())
        except Exception:
            errors.add_metric(["redis"], 1)
        else:
            depth = GaugeMetricFamily("atelier_queue_depth", "Jobs waiting in each RQ queue", labels=["queue"])
            for name, count in depths.items():
                depth.add_metric([name], count)
            yield depth
            yield GaugeMetricFamily("atelier_workers_live", "Workers whose pulse is fresh", value=live)
        try:
            stored = storage_bytes()
        except Exception:
            errors.add_metric(["database"], 1)
        else:
            yield GaugeMetricFamily("atelier_storage_bytes", "Bytes of stored originals (assets)", value=stored)
        yield errors


SCRAPE_TIME = ScrapeTimeCollector()


class _AllProcesses:
    """The samples of every process on every host sharing DATA_DIR (app.observability.multiproc)."""

    def collect(self):
        return MultiProcessCollector.merge(sample_files(), accumulate=True)

SCRAPE_TIME_NAMES = ("atelier_queue_depth", "atelier_workers_live", "atelier_storage_bytes", "atelier_scrape_error")


def render() -> bytes:
    """The text exposition of every process's samples plus the scrape-time ones."""
    if multiproc_dir():
        registry = CollectorRegistry()
        registry.register(_AllProcesses())
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    live = CollectorRegistry()
    live.register(SCRAPE_TIME)
    return body + generate_latest(live)


def metric_names() -> set[str]:
    """Every sample name this app can expose (`_total`, `_bucket`… included), for the dashboard/alert checks."""
    names = set(SCRAPE_TIME_NAMES)
    for family in REGISTRY.collect():
        if family.type == "counter":
            names.add(family.name + "_total")
        elif family.type == "histogram":
            names.update(family.name + suffix for suffix in ("_bucket", "_sum", "_count"))
        else:
            names.add(family.name)
    return names
