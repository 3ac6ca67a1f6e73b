"""Rename: photo-sized images through the real renamer path, and provider concurrency.

1. Local analyzer: a batch of photo-sized JPEGs (already in the library) → one RQ job →
   LocalAnalyzer on every image (from storage) → names composed → batch ready; against the bare
   decode + `draft` + thumbnail script on the same images with the same number of processes.
   Reported with OCR off (the target: ratio ≥ 0.5) and on.
2. Concurrency: a fake OpenAI-compatible vision API (a real HTTP server on loopback) that
   answers after 500 ms; ratio = ideal time at the provider's concurrency limit / actual time.
"""

from __future__ import annotations

import argparse
import os
import time

from bench.common import Environment, print_table, write_result
from bench.ingest import make_images, run_baseline, unique_copy

TARGET_LOCAL = 0.5
TARGET_CONCURRENCY = 0.8


def _user(label: str) -> int:
    from app.db import session_scope
    from app.services.auth import accounts

    with session_scope() as session:
        return accounts.register_user(session=session, email=f"bench-{label}-{time.time_ns()}@example.com",
                                      password="benchmark passphrase").id


def _store(workspace_id: int, images: list[bytes]) -> list[int]:
    from app.services.assets import service as assets

    return [assets.store_one(workspace_id=workspace_id, filename=f"IMG_{i:04d}.jpg", data=d)[0].id
            for i, d in enumerate(images)]


def _run_batch(workspace_id: int, asset_ids: list[int], **options) -> float:
    from app.db import session_scope
    from app.models import RenameBatch
    from app.services.rename import service as rename

    started = time.perf_counter()
    batch = rename.create_batch(workspace_id=workspace_id, asset_ids=asset_ids, options=rename.RenameOptions(**options))
    while True:
        with session_scope() as session:
            status = session.get(RenameBatch, batch.id).status
        if status != "analyzing":
            break
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    assert status == "ready", f"batch ended {status}"
    with session_scope() as session:
        items = rename.items_of(session=session, batch_id=batch.id)
    assert all(i.status == "done" and i.final_name for i in items), "some images were not named"
    return elapsed


def main() -> list[dict]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--ocr-count", type=int, default=100)
    parser.add_argument("--width", type=int, default=4000)
    parser.add_argument("--height", type=int, default=3000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--remote-count", type=int, default=64)
    args = parser.parse_args()

    from tests.fake_providers import FakeOpenAI

    fake = FakeOpenAI().start()
    fake.delay = 0.5
    concurrency = 4
    os.environ.update({"VISION_OPENAI_BASE_URL": fake.base_url, "VISION_OPENAI_API_KEY": fake.api_key,
                       "VISION_OPENAI_MODEL": "fake-vision-1", "VISION_OPENAI_CONCURRENCY": str(concurrency),
                       "RENAME_MONTHLY_IMAGES": "100000", "PROVIDER_PRICES": '{"local": 0, "openai": 0}',
                       "OMP_THREAD_LIMIT": "1"})
    images = make_images(args.count, distinct=16, width=args.width, height=args.height)
    results = []
    with Environment() as env:
        env.start_workers(args.processes)
        owner = _user("local")
        ids = _store(owner, images)
        _run_batch(owner, ids[:4], ocr=False)  # warm-up: imports, first fork
        off_seconds = _run_batch(owner, ids, ocr=False)
        on_seconds = _run_batch(owner, ids[: args.ocr_count], ocr=True)
        baseline_seconds = run_baseline(images, args.processes)
        baseline_ocr_slice = baseline_seconds * args.ocr_count / args.count
        results.append(write_result(
            "rename", ratio=baseline_seconds / off_seconds, target=TARGET_LOCAL, images=args.count,
            megapixels=round(args.width * args.height / 1e6, 1), processes=args.processes,
            ocr_off_seconds=round(off_seconds, 2), ocr_off_images_per_second=round(args.count / off_seconds, 2),
            baseline_seconds=round(baseline_seconds, 2),
            baseline_images_per_second=round(args.count / baseline_seconds, 2),
            ocr_on_images=args.ocr_count, ocr_on_seconds=round(on_seconds, 2),
            ocr_on_ratio=round(baseline_ocr_slice / on_seconds, 3),
        ))

        remote_owner = _user("remote")
        remote_ids = _store(remote_owner, images[: args.remote_count])
        fake.requests.clear()
        started = time.monotonic()  # the fake server stamps requests with time.monotonic()
        remote_seconds = _run_batch(remote_owner, remote_ids, ocr=False, provider="openai")
        ideal = len(remote_ids) / concurrency * fake.delay
        requests = [r for r in fake.requests if r.json and r.json.get("model") == "fake-vision-1"]
        first = min(r.at for r in requests) - started
        last = max(r.at for r in requests) - started
        results.append(write_result(
            "rename_concurrency", ratio=ideal / remote_seconds, target=TARGET_CONCURRENCY,
            images=args.remote_count, provider_delay_seconds=fake.delay, concurrency=concurrency,
            ideal_seconds=round(ideal, 2), actual_seconds=round(remote_seconds, 2), requests=len(requests),
            first_request_after=round(first, 2), last_request_after=round(last, 2),
        ))

        # The same provider as a stored AI connection (seeded from these settings): the key is decrypted
        # and the client built once per process, so the rate must not drop.
        from app.services.ai import seed
        from app.services.rename.vision.registry import connection_ref

        seed.seed_from_settings()
        ref = connection_ref("openai")
        assert ref and ref.startswith("conn:"), ref
        stored_owner = _user("stored")
        # Other bytes than the batch above: nothing may come from the description cache.
        stored_ids = _store(stored_owner, [unique_copy(image, 100_000 + i)
                                           for i, image in enumerate(images[: args.remote_count])])
        stored_seconds = _run_batch(stored_owner, stored_ids, ocr=False, provider=ref)
        results.append(write_result(
            "rename_concurrency_connection", ratio=ideal / stored_seconds, target=TARGET_CONCURRENCY,
            images=args.remote_count, provider_delay_seconds=fake.delay, concurrency=concurrency,
            ideal_seconds=round(ideal, 2), actual_seconds=round(stored_seconds, 2),
            note="the provider from a stored AI connection instead of settings",
        ))
    fake.stop()
    print_table(results)
    for r in results:
        print({k: v for k, v in r.items() if k not in ("name", "ratio", "target", "passed")})
    return results


if __name__ == "__main__":
    main()
