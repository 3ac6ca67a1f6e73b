"""Ingest: thumbnails + metadata for photo-sized JPEGs through the real path, against a bare script.

Real path: the images are uploaded first (content check, storage write, Asset rows; timed
separately as `upload_*`), then the timed part: RQ jobs (batched) → worker processes read from
storage, decode, make the thumbnail and metadata, store it and update the database.
Baseline: the same images decoded with `draft`, thumbnailed and saved as WebP by a plain
multiprocessing pool of the same size.
ratio = baseline seconds / real-path seconds (higher is better; 1.0 means no overhead at all).
"""

from __future__ import annotations

import argparse
import io
import os
import struct
import threading
import time
from multiprocessing import Pool

import psutil
from PIL import Image

from bench.common import Environment, print_table, reset_clients, write_result

TARGET = 0.7


def unique_copy(jpeg: bytes, tag: int) -> bytes:
    """The same picture with its own bytes: a JPEG comment segment right after SOI."""
    text = f"atelier bench copy {tag}".encode()
    return jpeg[:2] + b"\xff\xfe" + struct.pack(">H", len(text) + 2) + text + jpeg[2:]


def make_images(count: int, distinct: int, width: int, height: int) -> list[bytes]:
    from tests.images import photo

    bases = []
    for seed in range(distinct):
        out = io.BytesIO()
        photo(width, height, seed).save(out, format="JPEG", quality=90)
        bases.append(out.getvalue())
    return [unique_copy(bases[i % distinct], i) for i in range(count)]


def baseline_one(data: bytes) -> int:
    image = Image.open(io.BytesIO(data))
    image.draft("RGB", (1024, 1024))
    image.thumbnail((512, 512), Image.Resampling.LANCZOS, reducing_gap=1.0)  # as app.services.assets.images does
    out = io.BytesIO()
    image.save(out, format="WEBP", quality=80, method=4)
    return len(out.getvalue())


def run_baseline(images: list[bytes], processes: int) -> float:
    with Pool(processes) as pool:
        pool.map(baseline_one, images[:processes])  # warm the pool
        started = time.perf_counter()
        pool.map(baseline_one, images, chunksize=4)
        return time.perf_counter() - started


def watch_memory(env: Environment, stop: threading.Event, peak: list[int]) -> None:
    while not stop.is_set():
        for worker in env.workers:
            try:
                family = [psutil.Process(worker.pid), *psutil.Process(worker.pid).children(recursive=True)]
                peak[0] = max(peak[0], max(p.memory_info().rss for p in family))
            except psutil.Error:
                pass
        time.sleep(0.05)


def run_real(env: Environment, images: list[bytes], batch: int) -> tuple[float, int, float]:
    from sqlmodel import func, select

    from app.db import session_scope
    from app.models import Asset
    from app.services.assets import service as assets
    from app.services.auth import accounts

    os.environ["INGEST_BATCH_SIZE"] = str(batch)
    reset_clients()
    with session_scope() as session:
        email = f"bench-{batch}-{time.time_ns()}@example.com"
        user = accounts.register_user(session=session, email=email, password="benchmark passphrase")
    upload_started = time.perf_counter()
    ids = [assets.store_one(workspace_id=user.workspace_id, filename=f"IMG_{i:04d}.jpg", data=d)[0].id
           for i, d in enumerate(images)]
    upload_seconds = time.perf_counter() - upload_started
    peak, stop = [0], threading.Event()
    watcher = threading.Thread(target=watch_memory, args=(env, stop, peak), daemon=True)
    watcher.start()
    started = time.perf_counter()
    assets.submit_processing(workspace_id=user.workspace_id, asset_ids=ids)
    while True:
        with session_scope() as session:
            pending = session.exec(select(func.count()).select_from(Asset).where(
                Asset.workspace_id == user.id, Asset.status == "processing")).one()
        if not pending:
            break
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    stop.set()
    watcher.join()
    with session_scope() as session:
        ready = session.exec(select(func.count()).select_from(Asset).where(
            Asset.workspace_id == user.id, Asset.status == "ready")).one()
    assert ready == len(images), f"only {ready} of {len(images)} ready"
    return elapsed, peak[0], upload_seconds


def main() -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--width", type=int, default=4000)
    parser.add_argument("--height", type=int, default=3000)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()

    images = make_images(args.count, distinct=16, width=args.width, height=args.height)
    with Environment() as env:
        env.start_workers(args.processes)
        # Warm-up on a few images so imports and first forks are not timed.
        run_real(env, images[:args.processes * 2], batch=25)
        real_seconds, peak_25, upload_seconds = run_real(env, images, batch=25)
        baseline_seconds = run_baseline(images, args.processes)
        # Memory must not grow with batch size: compare a small and a large batch.
        # (Each run is a new user, so the same images are new assets again.)
        _, peak_5, _ = run_real(env, images[:40], batch=5)
        _, peak_40, _ = run_real(env, images[:40], batch=40)
    result = write_result(
        "ingest", ratio=baseline_seconds / real_seconds, target=TARGET,
        images=args.count, megapixels=round(args.width * args.height / 1e6, 1), processes=args.processes,
        real_seconds=round(real_seconds, 2), baseline_seconds=round(baseline_seconds, 2),
        real_images_per_second=round(args.count / real_seconds, 2),
        baseline_images_per_second=round(args.count / baseline_seconds, 2),
        upload_seconds=round(upload_seconds, 2), upload_images_per_second=round(args.count / upload_seconds, 2),
        peak_worker_rss_mb={"batch_5": round(peak_5 / 2**20), "batch_25": round(peak_25 / 2**20),
                            "batch_40": round(peak_40 / 2**20)},
    )
    print_table([result])
    print({k: v for k, v in result.items() if k not in ("name", "ratio", "target", "passed")})
    return result


if __name__ == "__main__":
    main()
