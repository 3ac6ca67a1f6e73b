"""Object storage behind one small interface: a local folder or S3/MinIO (boto3).

The database stores keys; URLs are made at the moment of download.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO, Protocol

from app.settings import get_settings

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,290}$")
CHUNK = 1024 * 1024


def check_key(key: str) -> str:
    if not _KEY.match(key) or ".." in key or "//" in key:
        raise ValueError(f"invalid storage key {key!r}")
    return key


class Storage(Protocol):
    name: str

    def put(self, key: str, data: bytes | BinaryIO, *, content_type: str) -> None: ...
    def get(self, key: str) -> bytes: ...
    def iter_chunks(self, key: str) -> Iterator[bytes]: ...
    def delete(self, key: str) -> None: ...
    def exists(self, key: str) -> bool: ...
    def iter_keys(self) -> Iterator[tuple[str, int]]: ...
    def download_url(self, key: str, *, filename: str, content_type: str) -> str | None: ...
    def ping(self) -> None: ...


class LocalStorage:
    name = "local"

    def __init__(self, root: Path):
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes | BinaryIO, *, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write beside, then rename: a reader never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as handle:
                if isinstance(data, bytes | bytearray | memoryview):
                    handle.write(data)
                else:
                    while block := data.read(CHUNK):
                        handle.write(block)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def iter_chunks(self, key: str) -> Iterator[bytes]:
        with self._path(key).open("rb") as handle:
            while block := handle.read(CHUNK):
                yield block

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def iter_keys(self) -> Iterator[tuple[str, int]]:
        """(key, size) of every stored object, in key order (backups); half-written files are not objects."""
        if not self.root.is_dir():
            return
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and not path.name.startswith((".part-", ".probe-")):
                yield path.relative_to(self.root).as_posix(), path.stat().st_size

    def download_url(self, key: str, *, filename: str, content_type: str) -> str | None:
        return None  # served by the authenticated download route

    def ping(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=self.root, prefix=".probe-") as handle:
            handle.write(b"ok")
            handle.flush()


class S3Storage:
    name = "s3"

    def __init__(self, *, bucket: str, endpoint_url: str = "", region: str = "us-east-1",
                 access_key: str = "", secret_key: str = "", url_seconds: int = 300):
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.url_seconds = url_seconds
        self.client = boto3.client(
            "s3", endpoint_url=endpoint_url or None, region_name=region,
            aws_access_key_id=access_key or None, aws_secret_access_key=secret_key or None,
            config=Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5,
                          read_timeout=30, signature_version="s3v4"),
        )

    def put(self, key: str, data: bytes | BinaryIO, *, content_type: str) -> None:
        if isinstance(data, bytes | bytearray | memoryview):
            self.client.put_object(Bucket=self.bucket, Key=check_key(key), Body=bytes(data),
                                   ContentType=content_type)
        else:
            self.client.upload_fileobj(data, self.bucket, check_key(key),
                                       ExtraArgs={"ContentType": content_type})

    def get(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=check_key(key))["Body"].read()

    def iter_chunks(self, key: str) -> Iterator[bytes]:
        body = self.client.get_object(Bucket=self.bucket, Key=check_key(key))["Body"]
        yield from body.iter_chunks(CHUNK)

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=check_key(key))

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=check_key(key))
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    def iter_keys(self) -> Iterator[tuple[str, int]]:
        """(key, size) of every object in the bucket, in key order (S3 lists that way), a page at a time."""
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            for item in page.get("Contents", []):
                yield item["Key"], item["Size"]

    def download_url(self, key: str, *, filename: str, content_type: str) -> str | None:
        from urllib.parse import quote

        return self.client.generate_presigned_url(
            "get_object", ExpiresIn=self.url_seconds,
            Params={"Bucket": self.bucket, "Key": check_key(key), "ResponseContentType": content_type,
                    "ResponseContentDisposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
        )

    def ping(self) -> None:
        self.client.head_bucket(Bucket=self.bucket)


@lru_cache
def get_storage() -> Storage:
    settings = get_settings()
    if settings.storage_backend == "s3":
        return S3Storage(bucket=settings.s3_bucket, endpoint_url=settings.s3_endpoint_url,
                         region=settings.s3_region, access_key=settings.s3_access_key_id,
                         secret_key=settings.s3_secret_access_key, url_seconds=settings.download_url_seconds)
    return LocalStorage(settings.storage_dir)


# A forked work horse builds its own client: an S3 client's pooled sockets (used by jobs the worker ran
# in-process) must not be shared between two processes.
os.register_at_fork(after_in_child=get_storage.cache_clear)
