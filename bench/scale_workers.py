"""Scale-out: rename throughput with one RQ worker and with two (issue 22 item 7; target ≥ 1.7×).

One rename batch is one job, so the mix is several batches at once (as several people would start them):
BATCHES batches of PER_BATCH photo-sized JPEGs through the local analyzer (OCR off), timed from the first
submit to the last batch ready, first with one worker, then with two, each on its own copies of the images
(distinct bytes: nothing comes from the description cache). Thumbnail jobs of the uploads are drained
before the clock starts. Reported beside the ratio: the machine's cores and how busy they were during each
run, and the CPU seconds the workers (with their work horses) spent, so a missed target says whether the
cores were the limit. The local analyzer already runs two images at once inside one job (threads; decoding
releases the GIL), so on 2 cores one worker can fill the machine by itself. The same mix against a vision
provider (a fake OpenAI-compatible server on loopback that answers after 0.5 s; four requests in flight per
job) is the second figure: there the work waits on the provider, and a second worker doubles what is in flight.
"""

from __future__ import annotations

import argparse
import os
import time

import psutil

from bench.common import Environment, print_table, write_result
from bench.ingest import make_images, unique_copy

TARGET = 1.7


def _owner() -> int:
    from app.db import session_scope
    from app.services.auth import accounts

    with session_scope() as session:
        return accounts.register_user(session=session, email=f"bench-scale-{time.time_ns()}@example.com",
                                      password="benchmark passphrase").id


def _store(workspace_id: int, images: list[bytes], tag: int) -> list[int]:
    from app.services.assets import service as assets

    return [assets.store_one(workspace_id=workspace_id, filename=f"IMG_{i:04d}.jpg",
                             data=unique_copy(d, tag * 100_000 + i))[0].id for i, d in enumerate(images)]


def _drain(seconds: float = 600) -> None:
    """Wait until no job is queued or running (the uploads' thumbnail jobs)."""
    from sqlmodel import col, select

    from app.db import session_scope
    from app.models import Job

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with session_scope() as session:
            if not session.exec(select(Job.id).where(col(Job.status).in_(("queued", "running")))).first():
                return
        time.sleep(0.1)
    raise RuntimeError("jobs still queued or running")


def _run(workspace_id: int, groups: list[list[int]], provider: str = "local") -> float:
    from app.db import session_scope
    from app.models import RenameBatch
    from app.services.rename import service as rename

    started = time.perf_counter()
    ids = [rename.create_batch(workspace_id=workspace_id, asset_ids=g,
                               options=rename.RenameOptions(ocr=False, provider=provider)).id for g in groups]
    pending = set(ids)
    while pending:
        with session_scope() as session:
            for batch_id in list(pending):
                status = session.get(RenameBatch, batch_id).status
                if status != "analyzing":
                    assert status == "ready", f"batch {batch_id} ended {status}"
                    pending.discard(batch_id)
        time.sleep(0.05)
    return time.perf_counter() - started


def _worker_cpu(env: Environment) -> float:
    total = 0.0
    for proc in env.workers:
        times = psutil.Process(proc.pid).cpu_times()
        total += times.user + times.system + times.children_user + times.children_system
    return total


def _measure(env: Environment, workers: int, owner: int, images: list[bytes], batches: int, tag: int,
             provider: str = "local") -> dict:
    ids = _store(owner, images, tag)
    env.start_workers(workers)
    _drain()
    per = len(ids) // batches
    groups = [ids[i * per:(i + 1) * per] for i in range(batches)]
    cpu_before = _worker_cpu(env)
    psutil.cpu_percent(interval=None)
    seconds = _run(owner, groups, provider)
    busy = psutil.cpu_percent(interval=None)
    cpu = _worker_cpu(env) - cpu_before
    env.stop_workers()
    return {"seconds": seconds, "images_per_second": len(ids) / seconds, "machine_busy_percent": busy,
            "worker_cpu_seconds": cpu, "worker_cores_used": cpu / seconds}


def main() -> list[dict]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=8)
    parser.add_argument("--per-batch", type=int, default=25)
    parser.add_argument("--width", type=int, default=1600)
    parser.add_argument("--height", type=int, default=1200)
    parser.add_argument("--remote-delay", type=float, default=0.5)
    args = parser.parse_args()
    from tests.fake_providers import FakeOpenAI

    fake = FakeOpenAI().start()
    fake.delay = args.remote_delay
    os.environ.update({"RENAME_MONTHLY_IMAGES": "100000", "PROVIDER_PRICES": '{"local": 0, "openai": 0}',
                       "OMP_THREAD_LIMIT": "1", "VISION_OPENAI_BASE_URL": fake.base_url,
                       "VISION_OPENAI_API_KEY": fake.api_key, "VISION_OPENAI_MODEL": "fake-vision-1",
                       "VISION_OPENAI_CONCURRENCY": "4"})
    images = make_images(args.batches * args.per_batch, distinct=16, width=args.width, height=args.height)
    small = make_images(args.batches * 16, distinct=16, width=640, height=480)
    with Environment() as env:
        owner = _owner()
        # Warm-up: the first fork, imports, the analyzer's caches.
        warm = _store(owner, images[:4], 99)
        env.start_workers(1)
        _drain()
        _run(owner, [warm])
        env.stop_workers()
        one = _measure(env, 1, owner, images, args.batches, 1)
        two = _measure(env, 2, owner, images, args.batches, 2)
        # The same mix waiting on a vision provider (a real HTTP server answering after --remote-delay s).
        remote_one = _measure(env, 1, owner, small, args.batches, 3, provider="openai")
        remote_two = _measure(env, 2, owner, small, args.batches, 4, provider="openai")
    fake.stop()
    ratio = two["images_per_second"] / one["images_per_second"]
    remote = write_result(
        "scale_workers_remote", ratio=remote_two["images_per_second"] / remote_one["images_per_second"],
        target=TARGET, images=len(small), batches=args.batches, provider_delay_seconds=args.remote_delay,
        provider_concurrency_per_job=4,
        **{f"one_worker_{k}": round(v, 2) for k, v in remote_one.items()},
        **{f"two_workers_{k}": round(v, 2) for k, v in remote_two.items()},
    )
    result = write_result(
        "scale_workers", ratio=ratio, target=TARGET, images=len(images), batches=args.batches,
        megapixels=round(args.width * args.height / 1e6, 1), cores=os.cpu_count(),
        load_average_1m=round(os.getloadavg()[0], 2),
        **{f"one_worker_{k}": round(v, 2) for k, v in one.items()},
        **{f"two_workers_{k}": round(v, 2) for k, v in two.items()},
    )
    print_table([result, remote])
    for r in (result, remote):
        print({k: v for k, v in r.items() if k not in ("name", "ratio", "target", "passed")})
    return [result, remote]


if __name__ == "__main__":
    main()
