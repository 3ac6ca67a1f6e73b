"""Scale-out: rename throughput with one RQ worker and with two (issue 22 item 7; target ≥ 1.7×).

One rename batch is one job, so the mix is several batches at once (as several people would start them):
BATCHES batches of PER_BATCH photo-sized JPEGs through the local analyzer (OCR off), timed from the first
submit to the last batch ready, first with one worker, then with two, each on its own copies of the images
(distinct bytes: nothing comes from the description cache). Thumbnail jobs of the uploads are drained
before the clock starts. Reported beside the ratio: the machine's cores and how busy they were during each
run, and the CPU seconds the workers (with their work horses) spent, so a missed target says whether the
cores were the limit.
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
    from app.services import accounts

    with session_scope() as session:
        return accounts.register_user(session=session, email=f"bench-scale-{time.time_ns()}@example.com",
                                      password="benchmark passphrase").id


def _store(workspace_id: int, images: list[bytes], tag: int) -> list[int]:
    from app.services import assets

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


def _run(workspace_id: int, groups: list[list[int]]) -> float:
    from app.db import session_scope
    from app.models import RenameBatch
    from app.services import rename

    started = time.perf_counter()
    ids = [rename.create_batch(workspace_id=workspace_id, asset_ids=g,
                               options=rename.RenameOptions(ocr=False)).id for g in groups]
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


def _measure(env: Environment, workers: int, owner: int, images: list[bytes], batches: int, tag: int) -> dict:
    ids = _store(owner, images, tag)
    env.start_workers(workers)
    _drain()
    per = len(ids) // batches
    groups = [ids[i * per:(i + 1) * per] for i in range(batches)]
    cpu_before = _worker_cpu(env)
    psutil.cpu_percent(interval=None)
    seconds = _run(owner, groups)
    busy = psutil.cpu_percent(interval=None)
    cpu = _worker_cpu(env) - cpu_before
    env.stop_workers()
    return {"seconds": seconds, "images_per_second": len(ids) / seconds, "machine_busy_percent": busy,
            "worker_cpu_seconds": cpu, "worker_cores_used": cpu / seconds}


def main() -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=8)
    parser.add_argument("--per-batch", type=int, default=25)
    parser.add_argument("--width", type=int, default=1600)
    parser.add_argument("--height", type=int, default=1200)
    args = parser.parse_args()
    os.environ.update({"RENAME_MONTHLY_IMAGES": "100000", "PROVIDER_PRICES": '{"local": 0}', "OMP_THREAD_LIMIT": "1"})
    images = make_images(args.batches * args.per_batch, distinct=16, width=args.width, height=args.height)
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
    ratio = two["images_per_second"] / one["images_per_second"]
    result = write_result(
        "scale_workers", ratio=ratio, target=TARGET, images=len(images), batches=args.batches,
        megapixels=round(args.width * args.height / 1e6, 1), cores=os.cpu_count(),
        load_average_1m=round(os.getloadavg()[0], 2),
        **{f"one_worker_{k}": round(v, 2) for k, v in one.items()},
        **{f"two_workers_{k}": round(v, 2) for k, v in two.items()},
    )
    print_table([result])
    print({k: v for k, v in result.items() if k not in ("name", "ratio", "target", "passed")})
    return result


if __name__ == "__main__":
    main()
