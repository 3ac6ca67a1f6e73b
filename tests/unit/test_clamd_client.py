"""The clamd client against a loopback clamd-protocol server: PING/VERSION, INSTREAM chunking, errors."""

import io
import time

import pytest

from app.services.scan import clamd
from tests.fake_clamd import EICAR, SIGNATURE, FakeClamd, closed_port_url


@pytest.fixture(params=["tcp", "unix"])
def server(request, tmp_path):
    with FakeClamd(unix_path=tmp_path / "clamd.sock" if request.param == "unix" else None) as fake:
        yield fake


def test_ping_and_version(server):
    assert clamd.command(server.url, "PING", timeout=2) == "PONG"
    assert clamd.command(server.url, "VERSION", timeout=2).startswith("ClamAV 1.4.3")


def test_clean_bytes_and_files_pass_whole(server):
    big = bytes(range(256)) * 1000  # 256 kB: several 64 kB chunks
    assert clamd.instream(server.url, big, timeout=2) is None
    assert clamd.instream(server.url, io.BytesIO(big), timeout=2) is None
    assert server.scanned == [big, big]
    assert clamd.instream(server.url, b"", timeout=2) is None


def test_eicar_is_found_even_across_a_chunk_boundary(server):
    data = b"A" * (clamd.CHUNK_BYTES - 10) + EICAR + b"B" * 100
    assert clamd.instream(server.url, data, timeout=2) == SIGNATURE


def test_a_stream_over_clamds_limit_is_an_error_not_a_pass(server):
    server.stream_max = 100_000
    with pytest.raises(clamd.ClamdFileError, match="size limit"):
        clamd.instream(server.url, b"x" * 200_000, timeout=2)


def test_a_hanging_clamd_times_out():
    with FakeClamd() as fake:
        fake.mode = "hang"
        started = time.monotonic()
        with pytest.raises(clamd.ClamdError, match="did not finish"):
            clamd.instream(fake.url, b"hello", timeout=0.3)
        assert time.monotonic() - started < 2


def test_clamd_down_and_bad_urls():
    with pytest.raises(clamd.ClamdError, match="unreachable"):
        clamd.instream(closed_port_url(), b"hello", timeout=1)
    with pytest.raises(clamd.ClamdError, match="unreachable"):
        clamd.command("unix:///nonexistent/clamd.sock", "PING", timeout=1)
    with pytest.raises(clamd.ClamdError, match="not tcp"):
        clamd.command("http://example.com", "PING", timeout=1)
