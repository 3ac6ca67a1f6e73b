"""`python -m app.backup` as the real processes `make backup` / `make restore` run: a few hundred files go
through in bounded memory, with progress and a summary on stdout and a clear refusal on stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.integration.backup_helpers import objects_of

ROOT = Path(__file__).resolve().parents[2]
FILES, FILE_BYTES = 300, 200 * 1024  # 60 MB of incompressible objects


def run(args: list[str], env: dict, folder: Path) -> tuple[subprocess.CompletedProcess, int]:
    """Run the command line; returns its result and its own peak resident memory in KB (wait4's rusage)."""
    out_path, err_path = folder / "stdout.txt", folder / "stderr.txt"
    with out_path.open("w") as out, err_path.open("w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "app.backup", *args], cwd=ROOT, env=env, stdout=out,
                                stderr=err)
        _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    result = subprocess.CompletedProcess(proc.args, proc.returncode, out_path.read_text(), err_path.read_text())
    return result, usage.ru_maxrss


def test_a_few_hundred_files_stream_through_in_bounded_memory(env, tmp_path, migrated_sqlite):
    import shutil

    source = dict(os.environ)
    empty_archive, archive = tmp_path / "empty.zip", tmp_path / "full.zip"
    # The baseline: the same command on the same database with no objects (imports, the dump...).
    small, base_peak = run(["create", "--out", str(empty_archive)], source, tmp_path)
    assert small.returncode == 0, small.stderr

    from app.storage import LocalStorage

    storage = LocalStorage(env / "storage")
    for i in range(FILES):
        storage.put(f"assets/1/{i % 16:02x}/file{i:04d}.bin", os.urandom(FILE_BYTES),
                    content_type="application/octet-stream")
    made, create_peak = run(["create", "--out", str(archive)], source, tmp_path)
    assert made.returncode == 0, made.stderr
    assert archive.stat().st_size > FILES * FILE_BYTES
    assert f"copied {FILES}/{FILES} objects" in made.stdout
    assert f"backup written: {archive}" in made.stdout and f"{FILES} objects" in made.stdout
    # Growth over the baseline stays far below the 60 MB that went through.
    assert create_peak - base_peak < 25 * 1024, (base_peak, create_peak)

    target = tmp_path / "target"
    target.mkdir()
    shutil.copyfile(migrated_sqlite, target / "atelier.db")
    restore_env = source | {"DATA_DIR": str(target), "DATABASE_URL": f"sqlite:///{target / 'atelier.db'}"}
    restored, restore_peak = run(["restore", str(archive)], restore_env, tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert f"checked {FILES}/{FILES} objects" in restored.stdout
    assert f"restore complete: {FILES} objects" in restored.stdout
    assert restore_peak - base_peak < 25 * 1024, (base_peak, restore_peak)
    assert objects_of(LocalStorage(target / "storage")) == objects_of(storage)

    again, _ = run(["restore", str(archive)], restore_env, tmp_path)
    assert again.returncode == 1
    assert "this install is not empty" in again.stderr and "--force" in again.stderr
    missing, _ = run(["restore", str(tmp_path / "nowhere.zip")], restore_env, tmp_path)
    assert missing.returncode == 1 and "no archive at" in missing.stderr
