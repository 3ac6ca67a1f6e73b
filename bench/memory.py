"""Memory: peak RSS of one process ingesting the worst inputs we accept, against a 512 MB limit.

Each case runs in a fresh subprocess (so one case's peak cannot hide another's) on real parts:
a migrated SQLite database, local storage, Redis. The figure is the process's high-water mark
(VmHWM), which includes the interpreter and the app's imports (`idle`, measured first).

- `zip_upload`: the web worker's side of uploading a ZIP of 20 PNGs of 49 MiB each (ratio ~93,
  under the 200 bomb limit) through the REST path (spooled upload → ingest.ingest).
- `png_100mp_upload`, `png_100mp_thumbnail`: a 9999×10000 PNG (a few hundred KB) in the web
  worker and in the thumbnail worker.
- `png_max_upload`, `png_max_thumbnail`: the largest PNG still accepted (just under the limit for
  formats that decode at full size).
- `jpeg_100mp_upload`, `jpeg_100mp_thumbnail`: a 10000×10000 JPEG (JPEG decodes at a reduced scale).

ratio = 512 MB / worst peak (≥ 1.0 passes).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from bench.common import ROOT, Environment, print_table, write_result

LIMIT_MB = 512
TARGET = 1.0


def _peak_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def _big_png(seed: int, side: int = 4150) -> bytes:
    """A 49 MiB PNG (stored uncompressed): a gradient with one noisy strip, so it deflates ~93:1."""
    import numpy as np
    from PIL import Image

    image = Image.linear_gradient("L").resize((side, side)).convert("RGB")
    rng = np.random.default_rng(seed)
    image.paste(Image.fromarray(rng.integers(0, 256, (38, side, 3), dtype=np.uint8), "RGB"),
                (0, int(rng.integers(0, side - 38))))
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=0)
    return out.getvalue()


def _flat(width: int, height: int, fmt: str) -> bytes:
    """A large, cheap-to-make picture: a gradient with a noise corner (few bytes as PNG)."""
    import numpy as np
    from PIL import Image

    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    image.paste(Image.fromarray(np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8), "RGB"))
    out = io.BytesIO()
    image.save(out, format=fmt, **({"quality": 85} if fmt == "JPEG" else {"compress_level": 6}))
    return out.getvalue()


def make_inputs(folder: Path) -> dict[str, Path]:
    from app.settings import get_settings

    files: dict[str, Path] = {}
    archive = folder / "photos.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for i in range(20):
            out.writestr(f"shoot/big_{i:02}.png", _big_png(i))
    files["zip"] = archive
    (folder / "png_100mp.png").write_bytes(_flat(9999, 10000, "PNG"))
    files["png_100mp"] = folder / "png_100mp.png"
    limit = getattr(get_settings(), "max_full_decode_pixels", get_settings().max_image_pixels)
    side = int(limit ** 0.5) - 1
    (folder / "png_max.png").write_bytes(_flat(side, side, "PNG"))
    files["png_max"] = folder / "png_max.png"
    (folder / "jpeg_100mp.jpg").write_bytes(_flat(10000, 10000, "JPEG"))
    files["jpeg_100mp"] = folder / "jpeg_100mp.jpg"
    return files


def child(case: str, path: str, workspace_id: int) -> None:
    """Runs in the subprocess: one case, then its figures as one JSON line."""
    from app.services.assets import archives
    from app.services.assets.images import make_thumbnail
    from app.services.assets.ingest import ingest
    from app.settings import get_settings

    idle = _peak_mb()
    started = time.perf_counter()
    outcome = ""
    if case.endswith("_thumbnail"):
        try:
            make_thumbnail(Path(path).read_bytes(), get_settings().thumbnail_size)
            outcome = "thumbnail made"
        except Exception as exc:  # a refusal is an outcome too: its peak is what counts
            outcome = f"refused: {exc}"[:160]
    else:
        with open(path, "rb") as handle:
            data = archives.read_upload(handle)
            result = ingest(workspace_id=workspace_id, files=[(Path(path).name, data)])
        outcome = f"{len(result.assets)} stored, {len(result.errors)} refused" + (
            f" ({result.errors[0].code})" if result.errors else "")
    print(json.dumps({"case": case, "idle_mb": round(idle), "peak_mb": round(_peak_mb()),
                      "seconds": round(time.perf_counter() - started, 2), "outcome": outcome}))


CASES = [("zip_upload", "zip"), ("png_100mp_upload", "png_100mp"), ("png_100mp_thumbnail", "png_100mp"),
         ("png_max_upload", "png_max"), ("png_max_thumbnail", "png_max"),
         ("jpeg_100mp_upload", "jpeg_100mp"), ("jpeg_100mp_thumbnail", "jpeg_100mp")]


def main() -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=3, metavar=("CASE", "PATH", "OWNER"))
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]))
        return {}
    from app.db import session_scope
    from app.services.auth import accounts

    figures: dict[str, dict] = {}
    with Environment(), tempfile.TemporaryDirectory(prefix="atelier-mem-") as tmp:
        inputs = make_inputs(Path(tmp))
        for case, key in CASES:
            with session_scope() as session:
                owner = accounts.register_user(session=session, email=f"bench-mem-{time.time_ns()}@example.com",
                                               password="benchmark passphrase").id
            run = subprocess.run([sys.executable, "-m", "bench.memory", "--child", case, str(inputs[key]), str(owner)],
                                 cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, check=True)
            figures[case] = json.loads(run.stdout.strip().splitlines()[-1])
            figures[case]["input_kb"] = round(inputs[key].stat().st_size / 1024)
            print(figures[case])
    worst = max(figures.values(), key=lambda f: f["peak_mb"])
    result = write_result("memory", ratio=LIMIT_MB / worst["peak_mb"], target=TARGET, limit_mb=LIMIT_MB,
                          worst_case=worst["case"], worst_peak_mb=worst["peak_mb"],
                          cases={k: {x: v[x] for x in ("peak_mb", "idle_mb", "seconds", "outcome", "input_kb")}
                                 for k, v in figures.items()})
    print_table([result])
    return result


if __name__ == "__main__":
    main()
