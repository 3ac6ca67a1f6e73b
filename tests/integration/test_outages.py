"""Redis, the database or storage down: every affected route answers a JSON 503 naming what is down,
stores nothing, and /health/ready says the same. Real parts only: a Redis URL on a port nobody listens
on, a real read-only or full filesystem (tmpfs, where this machine lets us mount one), a storage folder
that is a regular file."""

import os
import shutil
import socket
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlmodel import func, select

from app.db import session_scope
from app.models import Asset, Generation, Job, User
from tests import images
from tests.conftest import clear_caches
from tests.integration.test_api_auth import ORIGIN, login, register


def assert_unavailable(response, service: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == "service_unavailable" and error["service"] == service
    assert error["message"] and int(response.headers["retry-after"]) > 0


def count(model) -> int:
    with session_scope() as session:
        return session.exec(select(func.count()).select_from(model)).one()


def dead_port() -> int:
    with socket.socket() as sock:  # bound, never listening: connections are refused at once
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def signed_in(api):
    assert register(api).status_code == 201
    assert login(api).status_code == 200
    return api


def upload(api, data: bytes):
    return api.post("/api/v1/assets", files=[("files", ("photo.jpg", data, "image/jpeg"))], headers=ORIGIN)


def ready_down(api) -> list[str]:
    response = api.get("/health/ready")
    assert response.status_code == 503
    return response.json()["down"]


def test_redis_down_is_503_and_nothing_is_stored(signed_in, monkeypatch):
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{dead_port()}/0")
    clear_caches()
    assert_unavailable(signed_in.post("/api/v1/images/generations", json={"prompt": "a calm lake"},
                                      headers=ORIGIN), "redis")
    assert (count(Generation), count(Job)) == (0, 0)
    assert_unavailable(register(signed_in, email="grace@example.com"), "redis")
    assert count(User) == 1
    assert_unavailable(login(signed_in), "redis")
    # An upload is refused before its files are stored (it stored them, then failed at the enqueue).
    assert_unavailable(upload(signed_in, images.jpeg(320, 240)), "redis")
    assert (count(Asset), count(Job)) == (0, 0)
    assert "nothing was saved" in upload(signed_in, images.jpeg(320, 240)).json()["error"]["message"]
    # What needs no Redis keeps working.
    assert signed_in.get("/api/v1/me").status_code == 200
    assert {"redis", "workers"} <= set(ready_down(signed_in))


def test_database_down_is_503(signed_in, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"postgresql+psycopg://nobody@127.0.0.1:{dead_port()}/none")
    clear_caches()
    assert_unavailable(signed_in.get("/api/v1/me"), "database")
    assert "database" in ready_down(signed_in)


@contextmanager
def tmpfs(path: Path, options: str):
    """A real filesystem with the given mount options, or a skip saying why this machine has none."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root and mount(8); chmod cannot make a folder read-only for root")
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                          capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"this machine does not allow mounting a tmpfs: {done.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def test_read_only_storage_is_503_and_nothing_is_stored(signed_in, env):
    with tmpfs(env / "storage", "ro,size=1m") as storage:
        assert_unavailable(upload(signed_in, images.jpeg(320, 240)), "storage")
        assert count(Asset) == 0 and count(Job) == 0
        assert "storage" in ready_down(signed_in)
        assert files_under(storage) == []


def test_full_storage_is_503_and_leaves_no_partial_file(signed_in, env):
    with tmpfs(env / "storage", "size=64k") as storage:
        photo = images.jpeg(1600, 1200, seed=3)
        assert len(photo) > 64 * 1024
        assert_unavailable(upload(signed_in, photo), "storage")
        assert count(Asset) == 0 and count(Job) == 0
        assert files_under(storage) == []  # no half-written original, no .part file


def test_storage_folder_replaced_by_a_file_is_503(signed_in, env):
    (env / "storage").write_bytes(b"not a folder")
    # botocore tries 5 times (app.storage) before it gives up: this case takes a few seconds.
    assert_unavailable(upload(signed_in, images.jpeg(320, 240)), "storage")
    assert count(Asset) == 0



def test_s3_storage_unreachable_is_503(signed_in, monkeypatch):
    pytest.importorskip("boto3")
    monkeypatch.setenv("STORAGE_BACKEND", "s3")
    monkeypatch.setenv("S3_BUCKET", "atelier")
    monkeypatch.setenv("S3_ENDPOINT_URL", f"http://127.0.0.1:{dead_port()}")
    monkeypatch.setenv("S3_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("S3_SECRET_ACCESS_KEY", "test")
    clear_caches()
    # botocore tries 5 times (app.storage) before it gives up: this case takes a few seconds.
    assert_unavailable(upload(signed_in, images.jpeg(320, 240)), "storage")
    assert count(Asset) == 0


def test_storage_full_part_way_says_exactly_what_was_stored(signed_in, env):
    """Five photos, room for the first: the answer lists the stored one and where it stopped; nothing else."""
    with tmpfs(env / "storage", "size=96k") as storage:
        small = images.jpeg(160, 120, seed=1)
        big = [images.jpeg(1600, 1200, seed=s) for s in (2, 3, 4, 5)]
        assert len(small) < 16 * 1024 and all(len(b) > 96 * 1024 for b in big)
        files = [("files", ("DSC_0001.jpg", small, "image/jpeg"))] + [
            ("files", (f"DSC_000{i}.jpg", data, "image/jpeg")) for i, data in enumerate(big, start=2)]
        response = signed_in.post("/api/v1/assets", files=files, headers=ORIGIN)
        assert response.status_code == 503, response.text
        error = response.json()["error"]
        assert error["code"] == "service_unavailable"
        assert error["details"]["stopped_at"] == "DSC_0002.jpg"
        assert [a["filename"] for a in error["details"]["assets"]] == ["DSC_0001.jpg"]
        assert count(Asset) == 1 and len(error["details"]["stored"]) == 1
        assert len(files_under(storage)) == 1  # the stored original, no half-written second file
