"""Which errors are worth another attempt: the network, Redis, storage that may come back."""

import errno

import pytest
import redis

from app.services.jobs import is_transient


@pytest.mark.parametrize("exc", [
    ConnectionError("reset"), TimeoutError("slow"),
    redis.exceptions.ConnectionError("refused"), redis.exceptions.TimeoutError("read timeout"),
    redis.exceptions.BusyLoadingError("loading the dataset"),
    OSError(errno.ENOSPC, "No space left on device"), OSError(errno.EROFS, "Read-only file system"),
    OSError(errno.EIO, "Input/output error"),
])
def test_transient(exc):
    assert is_transient(exc)


@pytest.mark.parametrize("exc", [
    ValueError("bad input"), OSError("cannot identify image file"),  # Pillow: no errno, the file is bad
    FileNotFoundError(errno.ENOENT, "gone"), redis.exceptions.ResponseError("WRONGTYPE"),
    KeyError("x"),
])
def test_permanent(exc):
    assert not is_transient(exc)


def test_s3_errors_that_say_later_are_transient():
    from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

    assert is_transient(EndpointConnectionError(endpoint_url="http://127.0.0.1:9000"))
    assert is_transient(ReadTimeoutError(endpoint_url="http://127.0.0.1:9000"))
    assert is_transient(ClientError({"Error": {"Code": "SlowDown", "Message": "Reduce your rate"}}, "PutObject"))
    assert not is_transient(ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "PutObject"))
    assert not is_transient(ClientError({"Error": {"Code": "NoSuchKey", "Message": "gone"}}, "GetObject"))


def test_a_retryable_error_says_so():
    class Busy(Exception):
        retryable = True

    assert is_transient(Busy())
