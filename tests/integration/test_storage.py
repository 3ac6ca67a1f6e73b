"""Both storage backends: the local folder, and S3 through moto's real HTTP server."""

import io
import socket
import urllib.request

import boto3
import pytest
from moto.server import ThreadedMotoServer

from app.storage import LocalStorage, S3Storage, check_key
from tests import images
from tests.integration.test_api_auth import ORIGIN, login, register


@pytest.fixture(scope="module")
def s3_endpoint():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(s3_endpoint, monkeypatch, env):
    from tests.conftest import clear_caches

    bucket = f"atelier-{socket.gethostname()}-{id(monkeypatch)}".lower()[:60]
    creds = {"aws_access_key_id": "test", "aws_secret_access_key": "test", "region_name": "us-east-1"}
    boto3.client("s3", endpoint_url=s3_endpoint, **creds).create_bucket(Bucket=bucket)
    for name, value in {"STORAGE_BACKEND": "s3", "S3_BUCKET": bucket, "S3_ENDPOINT_URL": s3_endpoint,
                        "S3_ACCESS_KEY_ID": "test", "S3_SECRET_ACCESS_KEY": "test"}.items():
        monkeypatch.setenv(name, value)
    clear_caches()
    return S3Storage(bucket=bucket, endpoint_url=s3_endpoint, access_key="test", secret_key="test")


def exercise(storage):
    storage.put("assets/1/ab/one.bin", b"hello", content_type="application/octet-stream")
    storage.put("assets/1/ab/two.bin", io.BytesIO(b"x" * 3_000_000), content_type="application/octet-stream")
    assert storage.exists("assets/1/ab/one.bin") and not storage.exists("assets/1/ab/none.bin")
    assert storage.get("assets/1/ab/one.bin") == b"hello"
    assert b"".join(storage.iter_chunks("assets/1/ab/two.bin")) == b"x" * 3_000_000
    storage.delete("assets/1/ab/one.bin")
    storage.delete("assets/1/ab/one.bin")  # deleting twice is fine
    assert not storage.exists("assets/1/ab/one.bin")
    storage.ping()


def test_local_storage(tmp_path):
    storage = LocalStorage(tmp_path)
    exercise(storage)
    assert storage.download_url("assets/1/ab/two.bin", filename="a", content_type="x") is None
    assert not list(tmp_path.rglob(".part-*"))


def test_s3_storage(s3):
    exercise(s3)
    url = s3.download_url("assets/1/ab/two.bin", filename="café.bin", content_type="application/octet-stream")
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=300" in url
    with urllib.request.urlopen(url) as response:
        assert response.read() == b"x" * 3_000_000
        assert "attachment" in response.headers["Content-Disposition"]


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a//b", "a/../b", "", "a\nb", "a b"])
def test_bad_keys_are_refused(key):
    with pytest.raises(ValueError):
        check_key(key)


def test_assets_on_s3_end_to_end(s3, api):
    register(api)
    login(api)
    data = images.jpeg(80, 60)
    asset = api.post("/api/v1/assets", files=[("files", ("s3.jpg", data, "image/jpeg"))],
                     headers=ORIGIN).json()["assets"][0]
    assert s3.get(f"assets/1/{asset['sha256'][:2]}/{asset['sha256']}.jpg") == data
    redirect = api.get(f"/api/v1/assets/{asset['id']}/download", follow_redirects=False)
    assert redirect.status_code == 307
    with urllib.request.urlopen(redirect.headers["location"]) as response:
        assert response.read() == data
    ready = api.get("/health/ready").json()["checks"]["storage"]
    assert ready == "ok (s3)"
    assert api.delete(f"/api/v1/assets/{asset['id']}", headers=ORIGIN).status_code == 204
    assert not s3.exists(f"assets/1/{asset['sha256'][:2]}/{asset['sha256']}.jpg")
